// The GAP a start publishes for each earlier run that stopped with events
// read and never published (its high-water record): under that run's own
// origin and after its last seq, so the GAP sits in that run's stream where
// the events would have been, its kernel span in that run's clock. A record
// saved periodically (the run crashed after it) gets a GAP too, even with a
// count of 0: the events read after that save are unaccounted, and sockets
// alive then must not be called complete.
import { EventKind, monotonicNs, type ConnEventInit, type KernelNs } from "../model/mod.js";
import type { Logger } from "../log/logger.js";
import { batchMsgId, encodeBatch, eventsSubject, type JetStreamClient } from "../transport/mod.js";
import { listHighWater, removeHighWater } from "./high-water-file.js";
import type { HighWaterRecord } from "./unpublished-ledger.js";

/**
 * A crashed run may have queued seqs after its last save; its GAP's seq is
 * past any it can have reached (2^32 events in one save period), so that it
 * is neither a duplicate message id nor below the consumer's high-water.
 */
export const CRASH_SEQ_MARGIN = 2 ** 32;

export function gapReason(r: HighWaterRecord): string {
  return r.final
    ? `agent stopped with ${r.unpublished} unpublished events`
    : `agent stopped without a clean shutdown (crash?): ${r.unpublished} events unpublished at its last save, those read after it unknown`;
}

/** The GAP event for `r`; `bootId` is this boot's, to extend a crashed run's span to now when it ran in it. */
export function unpublishedGap(r: HighWaterRecord, bootId: string, nowMs = Date.now()): ConnEventInit {
  const start: KernelNs = BigInt(r.spanStartNs);
  let end: KernelNs = BigInt(r.spanEndNs);
  let timeUs = r.timeUs || r.savedAtMs * 1000;
  if (!r.final && r.bootId === bootId) {
    // Same boot, same kernel clock: whatever happened until now went unseen.
    const now = monotonicNs();
    if (now > end) end = now;
    timeUs = nowMs * 1000;
  }
  return {
    seq: r.final ? r.lastSeq + 1 : r.lastSeq + CRASH_SEQ_MARGIN,
    kind: EventKind.EVENT_KIND_GAP,
    tsNs: end,
    timeUs,
    sock: "",
    lost: r.unpublished,
    gapReason: gapReason(r),
    gapStartNs: start,
  };
}

/**
 * Publish a GAP for every earlier run of `node` whose record is in `dir`,
 * removing each record once JetStream has the GAP (a GAP published twice, by
 * a start that died before removing it, is stored once: same message id).
 * Never throws: a record that could not be published stays for the next start.
 * Returns the GAPs published.
 */
export async function publishUnpublishedGaps(js: JetStreamClient, dir: string, node: string, bootId: string, log: Logger): Promise<ConnEventInit[]> {
  const published: ConnEventInit[] = [];
  for (const r of listHighWater(dir, node, log)) {
    if (r.final && r.unpublished === 0) {
      removeHighWater(dir, r);
      continue;
    }
    const gap = unpublishedGap(r, bootId);
    const origin = { node: r.node, bootId: r.bootId, agentStartUs: r.agentStartUs };
    try {
      await js.publish(eventsSubject(node), encodeBatch(origin, [gap]), { msgID: batchMsgId(origin, gap.seq!) });
      removeHighWater(dir, r);
      published.push(gap);
      log.warn({ lost: r.unpublished, agentStartUs: r.agentStartUs, final: r.final }, `published a GAP for the previous agent run: ${gap.gapReason}`);
    } catch (err) {
      log.warn({ err, lost: r.unpublished, agentStartUs: r.agentStartUs }, "could not publish the previous agent run's GAP; the next start tries again");
    }
  }
  return published;
}
