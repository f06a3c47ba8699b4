// Fixtures are JSON arrays of { node, event }: the parser is the benches'
// (bench/recorded-events.ts, which also reads the recorded lab streams for
// the store bench), so tests and benches read recordings one way.
import type { ConnEvent } from "../../../src/model/mod.js";
import type { FixtureRecord } from "../../../bench/recorded-events.js";

export { loadFixture, parseFixture, toConnEvent, type FixtureRecord } from "../../../bench/recorded-events.js";

/**
 * Feed records to `ingest` as the transport would: consecutive records of one
 * node form batches of at most `batchSize`.
 */
export function replay(
  records: readonly FixtureRecord[],
  ingest: (node: string, events: ConnEvent[]) => void,
  batchSize = 8,
): void {
  let node = "";
  let batch: ConnEvent[] = [];
  const flush = () => {
    if (batch.length) ingest(node, batch);
    batch = [];
  };
  for (const r of records) {
    if (r.node !== node || batch.length >= batchSize) {
      flush();
      node = r.node;
    }
    batch.push(r.event);
  }
  flush();
}
