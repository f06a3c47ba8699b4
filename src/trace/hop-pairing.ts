// Pairing the two ends of a TCP connection into a hop. A socket joins the
// endpoint index once the client's endpoint is known (a client's local port
// is assigned after CLOSE→SYN_SENT fires, so often on its next event) and is
// paired with the first compatible unpaired socket of the other side found
// there. Nodes' streams arrive in any relative order, so whichever end comes
// second does the pairing.
import { nsBetween } from "../model/mod.js";
import type { ResolvedOptions } from "./options.js";
import { EndpointIndex, endpointKey } from "./endpoint-index.js";
import { originalDstAgrees, redirectMatch } from "./redirect-link.js";
import { F, NONE, type SocketTable } from "./socket-table.js";
import type { StringTable } from "./string-table.js";

export class HopPairing {
  readonly #t: SocketTable;
  readonly #o: ResolvedOptions;
  readonly #strings: StringTable;
  readonly index: EndpointIndex;

  constructor(table: SocketTable, strings: StringTable, opts: ResolvedOptions) {
    this.#t = table;
    this.#o = opts;
    this.#strings = strings;
    this.index = new EndpointIndex(table);
  }

  /** The client-endpoint key of `s`, or -1 while its port is unknown. */
  keyOf(s: number): number {
    const t = this.#t;
    if (t.has(s, F.CLIENT)) return t.lport[s] ? endpointKey(t.lip[s]!, t.lport[s]!) : -1;
    if (t.has(s, F.SERVER)) return t.rport[s] ? endpointKey(t.rip[s]!, t.rport[s]!) : -1;
    return -1;
  }

  /** Index `s` if its key is known and pair it when a compatible end is there. */
  register(s: number): void {
    const t = this.#t;
    if (t.has(s, F.INDEXED)) return;
    const key = this.keyOf(s);
    if (key < 0) return;
    t.flags[s]! |= F.INDEXED;
    const isClient = t.has(s, F.CLIENT);
    for (let y = this.index.first(key); y !== NONE; y = t.next[y]!) {
      if (t.has(y, F.EMITTED)) continue;
      if (isClient ? !t.has(y, F.SERVER) : !t.has(y, F.CLIENT)) continue;
      if (this.#tryPair(isClient ? s : y, isClient ? y : s)) break;
    }
    this.index.add(s, key);
  }

  unregister(s: number): void {
    const t = this.#t;
    if (!t.has(s, F.INDEXED)) return;
    this.index.remove(s, this.keyOf(s));
    t.flags[s]! &= ~F.INDEXED;
  }

  /** SO_ORIGINAL_DST arrived after pairing: a disagreement means the pairing was wrong. */
  recheck(s: number): void {
    const t = this.#t;
    const c = t.peer[s]!;
    if (c === NONE || !t.has(s, F.SERVER) || originalDstAgrees(t, c, s)) return;
    if (t.lip[s] === t.rip[c] && t.lport[s] === t.rport[c]) return; // mirrored: not a redirect
    t.peer[c] = NONE;
    t.peer[s] = NONE;
  }

  #tryPair(c: number, s: number): boolean {
    const t = this.#t;
    if (t.peer[s] !== NONE) return false;
    if (!this.#compatible(c, s)) return false;
    if (t.peer[c] === NONE) {
      t.peer[c] = s;
      t.peer[s] = c;
      return true;
    }
    // A kernel's NO_SOCKET reset aimed at a connection whose server socket is
    // already gone: keep it next to the client so the hop can name its sender.
    if (t.has(s, F.PHANTOM) && t.aux[c] === NONE) {
      t.aux[c] = s;
      t.peer[s] = c;
      return true;
    }
    return false;
  }

  #compatible(c: number, s: number): boolean {
    const t = this.#t;
    const sameNode = t.node[c] === t.node[s];
    if (sameNode) {
      // One clock: the server end cannot predate the SYN, nor follow it by much.
      const d = nsBetween(t.birth[c]!, t.birth[s]!);
      if (d < 0 || d > this.#o.pairWindowNs) return false;
    }
    if (this.#isLoopback(t.lip[c]!)) {
      // 127.0.0.1:E is unique only inside one network namespace.
      if (!sameNode) return false;
      if (t.netns[c] && t.netns[s] && t.netns[c] !== t.netns[s]) return false;
    }
    if (t.lip[s] === t.rip[c] && t.lport[s] === t.rport[c]) return true;
    return redirectMatch(t, c, s, this.#o);
  }

  #isLoopback(ipId: number): boolean {
    const ip = this.#strings.get(ipId);
    return ip.startsWith("127.") || ip === "::1" || ip.startsWith("::ffff:127.");
  }
}
