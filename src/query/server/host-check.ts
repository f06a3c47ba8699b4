// The DNS-rebinding defence. A web page on evil.example can make its own name
// resolve to 127.0.0.1 and then read http://evil.example:7070/ as same-origin,
// from the user's browser, which reaches the loopback API. The browser still
// sends `Host: evil.example:7070`, so the API answers only requests whose Host
// names it: a loopback name or address, the address it listens on, the local
// address the request arrived at (for 0.0.0.0 and ::, an IP literal a page
// could only be served from by this API itself), or a name the operator
// allowed (--api-allowed-host). The port is not compared: rebinding changes
// the name, never needs another port.
import { isIP } from "node:net";
import { isLoopbackHost, isWildcardAddress, normalHostName, sameAddress } from "./loopback.js";

export interface HostPolicy {
  /** The address or name the API listens on. */
  listenHost: string;
  /** More names (or addresses) a Host header may give. */
  allowedHosts: readonly string[];
}

/** The host of a Host header without its port and IPv6 brackets, normalised; undefined when there is none. */
export function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(header);
  if (bracketed) return bracketed[1]!.toLowerCase();
  // A bare IPv6 address has colons but no port; a name or IPv4 has at most one colon.
  if (isIP(header) === 6) return header.toLowerCase();
  const name = header.replace(/:\d*$/, "");
  return name === "" || name.includes(":") ? undefined : normalHostName(name);
}

export function hostPolicy(listenHost: string, allowedHosts: readonly string[] = []): HostPolicy {
  return { listenHost, allowedHosts: allowedHosts.map(normalHostName) };
}

/** Whether a request with this Host header, arriving at `localAddress`, is addressed to this API. */
export function hostAllowed(header: string | undefined, localAddress: string | undefined, policy: HostPolicy): boolean {
  const host = hostOf(header);
  if (host === undefined) return false;
  if (isLoopbackHost(host)) return true;
  const listen = normalHostName(policy.listenHost);
  if (!isWildcardAddress(listen) && (host === listen || sameAddress(host, listen))) return true;
  if (localAddress !== undefined && sameAddress(host, localAddress)) return true;
  return policy.allowedHosts.some((name) => name === host || sameAddress(name, host));
}
