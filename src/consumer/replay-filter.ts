// Keeps sockets born before the replay start out of a restarted stitcher.
// Replay begins at the checkpoint, so a socket born earlier shows up with only
// its tail of events; the stitcher would take it for a connection opened
// before the agent and emit a second, partial trace for it. Every such socket
// belongs to a trace already emitted (that is what the checkpoint means), so
// its remaining events are dropped until it closes or its address is reborn.
import { EventKind, TcpState, type ConnEvent, type KernelNs } from "../model/mod.js";

const S = TcpState;

const isBirth = (ev: ConnEvent): boolean =>
  ev.kind === EventKind.EVENT_KIND_STATE_CHANGE &&
  ((ev.oldState === S.TCP_STATE_CLOSE && ev.newState === S.TCP_STATE_SYN_SENT) ||
    (ev.oldState === S.TCP_STATE_LISTEN && ev.newState === S.TCP_STATE_SYN_RECV));

interface NodeSockets {
  /** Born since the replay started: theirs are whole. Only kept while replaying. */
  born: Set<string>;
  /** Seen without their birth and not yet closed: filtered. */
  orphans: Set<string>;
}

export class ReplayFilter {
  readonly #nodes = new Map<string, NodeSockets>();
  /** Highest kernel ts replayed per node: sockets born at or before it came from the replay. */
  readonly #replayedTs = new Map<string, KernelNs>();
  #replaying = true;
  #dropped = 0;

  /** Events dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Replay is over: from now on only known orphans are filtered. */
  endReplay(): void {
    this.#replaying = false;
    for (const [node, n] of this.#nodes) {
      n.born.clear();
      if (n.orphans.size === 0) this.#nodes.delete(node);
    }
  }

  /** Whether the socket named by this hop endpoint was born during the replay. */
  bornInReplay(node: string, birthNs: KernelNs): boolean {
    const ts = this.#replayedTs.get(node);
    return ts !== undefined && birthNs <= ts;
  }

  /** The events of `node` the stitcher may see, in order. Returns `events` itself when nothing is dropped. */
  admit(node: string, events: ConnEvent[]): ConnEvent[] {
    if (this.#replaying) {
      const last = events[events.length - 1];
      const seen = this.#replayedTs.get(node) ?? 0n;
      if (last && last.tsNs > seen) this.#replayedTs.set(node, last.tsNs);
    } else if (!this.#nodes.has(node)) {
      return events;
    }
    let n = this.#nodes.get(node);
    if (!n) {
      n = { born: new Set(), orphans: new Set() };
      this.#nodes.set(node, n);
    }
    let kept: ConnEvent[] | null = null;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (this.#pass(n, ev)) {
        kept?.push(ev);
      } else {
        kept ??= events.slice(0, i);
        this.#dropped++;
      }
    }
    if (!this.#replaying && n.orphans.size === 0) this.#nodes.delete(node);
    return kept ?? events;
  }

  #pass(n: NodeSockets, ev: ConnEvent): boolean {
    const sock = ev.sock;
    if (!sock) return true; // resets no socket sent, gaps
    if (isBirth(ev)) {
      n.orphans.delete(sock);
      if (this.#replaying) n.born.add(sock);
      return true;
    }
    if (this.#replaying ? n.born.has(sock) : !n.orphans.has(sock)) return true;
    if (ev.kind === EventKind.EVENT_KIND_STATE_CHANGE) {
      if (ev.newState === S.TCP_STATE_CLOSE) n.orphans.delete(sock);
      else if (ev.newState !== S.TCP_STATE_LISTEN && ev.oldState !== S.TCP_STATE_LISTEN) n.orphans.add(sock);
    }
    return false;
  }
}
