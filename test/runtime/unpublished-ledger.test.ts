// The ledger's arithmetic on its own, with batches as the publisher sees them:
// a GAP marker is no event but carries the events it reports lost, a shed
// batch is covered by the marker its drop makes (whether or not that one is
// published), and drops once the run is closing stay the run's loss.
import { describe, expect, it } from "vitest";
import { UnpublishedLedger } from "../../src/runtime/unpublished-ledger.js";
import type { EncodedBatch } from "../../src/transport/mod.js";
import { BatchQueue } from "../../src/transport/batch-queue.js";

let nextSeq = 1;
function batch(count: number, gap?: { lost: number }): EncodedBatch {
  const firstSeq = nextSeq;
  nextSeq += count;
  return {
    firstSeq,
    count,
    firstTsNs: BigInt(firstSeq) * 1000n,
    lastTsNs: BigInt(firstSeq + count - 1) * 1000n,
    ...(gap ? { gaps: 1, gapLost: gap.lost } : { gaps: 0, gapLost: 0 }),
    lastTimeUs: (firstSeq + count - 1) * 10,
    msgID: String(firstSeq),
    bytes: new Uint8Array(1),
  };
}

describe("BatchQueue counts what it sheds in kernel events", () => {
  it("a shed GAP marker counts as the events it reported lost, not as one event", () => {
    const q = new BatchQueue(5);
    const d = { count: 0, firstTsNs: 0n, lastTsNs: 0n };
    q.push(batch(4, { lost: 7 }), d); // 3 events + a marker for 7 lost
    q.push(batch(3), d); // sheds the first
    expect(d.count).toBe(3 + 7);
  });
});

describe("UnpublishedLedger", () => {
  it("counts read-and-queued minus published, sheds covered by their marker, the marker's own report when it is not published", () => {
    nextSeq = 1;
    const l = new UnpublishedLedger({ node: "n", bootId: "b", agentStartUs: 1 });
    const a = batch(10);
    l.queued(a);
    l.published(a);
    const shed = batch(5);
    l.queued(shed);
    expect(l.dropped(5)).toBe(true); // the pipeline makes a marker for these 5
    const marker = batch(3, { lost: 5 }); // 2 events and that marker
    l.queued(marker);
    // Unpublished so far: the 5 shed (reported by an unpublished marker) + 2 events.
    expect(l.unpublished(17)).toBe(7);
    l.published(marker);
    expect(l.unpublished(17)).toBe(0);
    // Read, never queued (still in the pipeline when it died): counted too.
    expect(l.unpublished(20)).toBe(3);
    l.close();
    const last = batch(4);
    l.queued(last);
    expect(l.dropped(4)).toBe(false); // closing: no marker will come
    expect(l.unpublished(21)).toBe(4);
    const r = l.record(21, true);
    expect(r).toMatchObject({ unpublished: 4, lastSeq: last.firstSeq + 3, spanStartNs: String(marker.lastTsNs), spanEndNs: String(last.lastTsNs), final: true });
  });
});
