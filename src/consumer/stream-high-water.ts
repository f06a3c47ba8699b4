// Highest seq fed to the stitcher per event source (node, boot, agent run).
// A batch the server redelivers (its ack was lost, or the previous run stopped
// before acking it after persisting it, so the replay already fed it) must not
// reach the stitcher twice; seqs within a source only grow.
import type { ConnEvent } from "../model/mod.js";
import type { EventSource } from "../store/mod.js";

const keyOf = (s: EventSource): string => `${s.node}\0${s.bootId}\0${s.agentStartUs}`;

export class StreamHighWater {
  readonly #last = new Map<string, number>();

  /** The events of `source` not fed yet (all of them, without copying, in the common case). */
  fresh(source: EventSource, events: ConnEvent[]): ConnEvent[] {
    const last = this.#last.get(keyOf(source)) ?? 0;
    if (events.length === 0 || events[0]!.seq > last) return events;
    return events.filter((e) => e.seq > last);
  }

  /** These events were fed. */
  advance(source: EventSource, events: readonly ConnEvent[]): void {
    const tail = events[events.length - 1];
    if (!tail) return;
    const k = keyOf(source);
    if (tail.seq > (this.#last.get(k) ?? 0)) this.#last.set(k, tail.seq);
  }
}
