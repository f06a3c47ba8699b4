// The pod directory of one batch (EventBatch.pods): which labelled pods its
// events name, each once. The agent hands every event a reference to its
// pod's labels (one frozen object per pod, so a repeat costs one identity
// check); the encoder collects them here while the batch fills and writes them
// after the events. The decoder gives the labels back to each event of a
// listed namespace, so nothing downstream sees the directory.
import type { ConnEvent, ConnEventInit, PodLabels } from "../model/mod.js";
import type { tcptrail } from "../gen/tcptrail.js";
import { writePodEntry } from "./event-encoder.js";
import type { WireWriter } from "./wire-writer.js";

interface Entry {
  pod: string;
  labels: PodLabels;
}

export class PodDirectory {
  readonly #entries = new Map<number, Entry>();

  /** Note the pod of an event being encoded into the batch. */
  note(ev: ConnEventInit): void {
    const labels = ev.podLabels;
    const netns = ev.netns;
    if (labels == null || netns == null || netns === 0) return;
    const seen = this.#entries.get(netns);
    // Same pod, same labels object: the common case is one Map lookup. A pod
    // whose labels changed mid-batch is listed with its latest ones.
    if (seen !== undefined && seen.labels === labels && seen.pod === (ev.pod ?? "")) return;
    if (Object.keys(labels).length === 0) return;
    this.#entries.set(netns, { pod: ev.pod ?? "", labels });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Write the directory (after the batch's events) and start empty for the next batch. */
  writeAndClear(w: WireWriter): void {
    for (const [netns, e] of this.#entries) writePodEntry(w, netns, e.pod, e.labels);
    this.#entries.clear();
  }

  clear(): void {
    this.#entries.clear();
  }
}

/**
 * Give each decoded event of a listed namespace its pod's labels, in place:
 * one shared frozen object per pod. An entry whose pod name differs from the
 * event's (a namespace inode reused within the batch) does not apply.
 */
export function applyPodDirectory(events: readonly ConnEvent[], pods: readonly tcptrail.v1.IPodEntry[] | null | undefined): void {
  if (pods == null || pods.length === 0) return;
  const byNetns = new Map<number, { pod: string; labels: PodLabels }>();
  for (const p of pods) {
    const netns = Number(p.netns ?? 0);
    if (netns === 0 || p.labels == null) continue;
    byNetns.set(netns, { pod: p.pod ?? "", labels: Object.freeze({ ...p.labels }) });
  }
  if (byNetns.size === 0) return;
  for (const ev of events) {
    const e = byNetns.get(ev.netns);
    if (e !== undefined && e.pod === ev.pod) ev.podLabels = e.labels;
  }
}
