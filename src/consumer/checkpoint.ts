// Where a consumer resumes stitching after a restart: the wall-clock time from
// which stored events are replayed, kept in the store's meta rows next to the
// events it refers to.
import type { Logger } from "../log/logger.js";
import type { TraceStore } from "../store/mod.js";

export interface Checkpoint {
  /** Replay stored events from this wall-clock µs (before any safety margin). */
  watermarkUs: number;
  /** When it was written, wall-clock ms. */
  savedAtMs: number;
}

const keyOf = (durableName: string): string => `consumer/${durableName}/checkpoint`;

export async function loadCheckpoint(store: TraceStore, durableName: string, log: Logger): Promise<Checkpoint | null> {
  const raw = await store.getMeta(keyOf(durableName));
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as Partial<Checkpoint>;
    if (Number.isSafeInteger(v.watermarkUs) && Number.isSafeInteger(v.savedAtMs)) {
      return { watermarkUs: v.watermarkUs!, savedAtMs: v.savedAtMs! };
    }
  } catch {
    // fall through
  }
  // Unreadable: starting without replay may lose in-flight traces, which is
  // better than refusing to start; say so.
  log.warn({ durableName, raw: raw.slice(0, 200) }, "ignoring unreadable consumer checkpoint");
  return null;
}

export async function saveCheckpoint(store: TraceStore, durableName: string, cp: Checkpoint): Promise<void> {
  await store.setMeta(keyOf(durableName), JSON.stringify(cp));
}
