// The events a PostgreSQL timeline read for its query, answering what the
// shared timeline logic (../sqlite/timeline.ts) asks of a ring. Each event
// is its own "row" (its first and last time are its own), so the window
// bounds that logic relies on hold exactly. Probes are not needed: the
// preload already selected by socket and address, and every caller filters
// what it gets by what it matches on.
import type { RingReader } from "../sqlite/event-ring.js";
import type { EventRow, RowProbe } from "../sqlite/event-rows.js";

export class MemoryRing implements RingReader {
  readonly #byTime: EventRow[];
  readonly #newestUs: number | null;
  readonly cut: boolean;

  /** `cut`: some preload stopped at its row limit, so the timeline may miss events (it says truncated). */
  constructor(rows: Iterable<EventRow>, newestUs: number | null, cut: boolean) {
    this.#byTime = [...rows].sort((a, b) => a.event.timeUs - b.event.timeUs);
    this.#newestUs = newestUs;
    this.cut = cut;
  }

  newestUs(): number | null {
    return this.#newestUs;
  }

  find(from: number, to: number, _probe: RowProbe): EventRow[] {
    return this.#byTime.filter((r) => r.event.timeUs >= from && r.event.timeUs <= to);
  }

  scan(w: { from: number; to?: number; newestFirst?: boolean }, _probe: RowProbe, visit: (rows: EventRow[] | null, row: { last_us: number }) => boolean): void {
    const rows = this.find(w.from, w.to ?? Number.MAX_SAFE_INTEGER, _probe);
    if (w.newestFirst) rows.reverse();
    for (const r of rows) if (!visit([r], { last_us: r.event.timeUs })) return;
  }

  scanNodeByNs(node: string, fromNs: bigint, toNs: bigint, _probe: RowProbe, visit: (rows: EventRow[]) => boolean): void {
    const byStream = new Map<number, EventRow[]>();
    for (const r of this.#byTime) {
      if (r.node !== node || r.event.tsNs < fromNs || r.event.tsNs > toNs) continue;
      const list = byStream.get(r.streamId);
      if (list) list.push(r);
      else byStream.set(r.streamId, [r]);
    }
    for (const rows of byStream.values()) {
      rows.sort((a, b) => (a.event.tsNs < b.event.tsNs ? -1 : a.event.tsNs > b.event.tsNs ? 1 : 0));
      for (const r of rows) if (!visit([r])) break;
    }
  }
}
