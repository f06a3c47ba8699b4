// Joining an app's socket to the sidecar socket that accepted it after an
// iptables REDIRECT. NAT never rewrites a socket's own addresses, so the
// client still names the original destination while the server names the
// redirect listener: the two tuples do not mirror and a rule is needed.
import type { ResolvedOptions } from "./options.js";
import type { SocketTable } from "./socket-table.js";

/**
 * Can server socket `s` be the REDIRECTed end of client socket `c`? The
 * caller has checked that s.remote equals c.local.
 */
export function redirectMatch(t: SocketTable, c: number, s: number, o: ResolvedOptions): boolean {
  const port = t.lport[s]!;
  if (o.outboundRedirectPorts.has(port)) {
    // OUTPUT REDIRECT happens in the app's own network namespace.
    if (t.node[c] !== t.node[s]) return false;
    if (t.netns[c] && t.netns[s] && t.netns[c] !== t.netns[s]) return false;
  } else if (o.inboundRedirectPorts.has(port)) {
    // PREROUTING REDIRECT keeps the destination pod's address and changes the port.
    if (t.lip[s] !== t.rip[c]) return false;
  } else {
    return false;
  }
  return originalDstAgrees(t, c, s);
}

/** The sidecar's SO_ORIGINAL_DST, when known, must be what the client dialed. */
export function originalDstAgrees(t: SocketTable, c: number, s: number): boolean {
  if (t.odstPort[s] === 0) return true;
  return t.odstIp[s] === t.rip[c] && t.odstPort[s] === t.rport[c];
}

/** Was hop (c, s) joined through a redirect rather than a mirrored tuple? */
export function isRedirected(t: SocketTable, c: number, s: number): boolean {
  return !(t.lip[s] === t.rip[c] && t.lport[s] === t.rport[c]);
}
