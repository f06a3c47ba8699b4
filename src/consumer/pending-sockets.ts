// The consumer's low watermark: the wall-clock birth of the oldest socket the
// stitcher has seen born but whose trace is not stored yet. Replaying stored
// events from there after a restart rebuilds every unfinished trace. Tracked
// here, from the events fed to the stitcher and the traces it emits, because
// the stitcher does not expose it.
import { TcpState, type ConnEvent, type Trace } from "../model/mod.js";
import { socketId } from "../trace/mod.js";

interface Birth {
  us: number;
  /** Consumer wall clock when seen: bounds how long an entry may pin the watermark. */
  seenMs: number;
}

const S = TcpState;

export class PendingSockets {
  // Insertion order is arrival order, so expiry scans from the front.
  readonly #births = new Map<string, Birth>();
  readonly #horizonMs: number;

  /**
   * @param horizonMs entries older than this (consumer wall time) are dropped:
   * the stitcher emits every trace as OPEN after its maxAgeMs, so a socket
   * still here past maxAge + settle was missed (e.g. an id format mismatch)
   * and must not hold the watermark back forever.
   */
  constructor(horizonMs: number) {
    this.#horizonMs = horizonMs;
  }

  get size(): number {
    return this.#births.size;
  }

  /** Record the connection sockets born in `events` of `node` (the stitcher's notion of birth). */
  observe(node: string, events: readonly ConnEvent[], nowMs: number): void {
    for (const ev of events) {
      if (ev.kind !== 1 || !ev.sock) continue; // STATE_CHANGE with a socket
      const born =
        (ev.oldState === S.TCP_STATE_CLOSE && ev.newState === S.TCP_STATE_SYN_SENT) ||
        (ev.oldState === S.TCP_STATE_LISTEN && ev.newState === S.TCP_STATE_SYN_RECV);
      if (born) this.#births.set(socketId(node, ev.sock, ev.tsNs), { us: ev.timeUs, seenMs: nowMs });
    }
  }

  /** The trace naming these sockets is stored (or deliberately skipped): they no longer hold the watermark. */
  settled(trace: Trace): void {
    for (const h of trace.hops) {
      if (h.client?.socketId) this.#births.delete(h.client.socketId);
      if (h.server?.socketId) this.#births.delete(h.server.socketId);
    }
  }

  /** Wall µs of the oldest pending birth, or null when nothing is pending. */
  lowWatermarkUs(nowMs: number): number | null {
    const cutoff = nowMs - this.#horizonMs;
    for (const [id, b] of this.#births) {
      if (b.seenMs >= cutoff) break;
      this.#births.delete(id);
    }
    let min = Infinity;
    for (const b of this.#births.values()) if (b.us < min) min = b.us;
    return min === Infinity ? null : min;
  }
}
