// One node's pod labels, as its batches' pod directories (EventBatch.pods)
// gave them to the events: pod name → labels. Traces are built from the
// socket table, which keeps the pod as a name only, so a hop's endpoint finds
// its labels here when the trace is built.
import type { PodLabels } from "../model/mod.js";

/** Pods remembered per node: far more than a node runs at once, so only long-gone pods are forgotten. */
export const DEFAULT_MAX_LABELLED_PODS = 10_000;

export class PodLabelDirectory {
  readonly #byPod = new Map<string, PodLabels>();
  readonly #max: number;

  constructor(max = DEFAULT_MAX_LABELLED_PODS) {
    this.#max = max;
  }

  /** An event's pod and labels: the common case (the same object again) is one lookup. */
  note(pod: string, labels: PodLabels): void {
    if (this.#byPod.get(pod) === labels) return;
    // Re-inserted so that the map's order is the order of the last change: the oldest goes first.
    this.#byPod.delete(pod);
    this.#byPod.set(pod, labels);
    if (this.#byPod.size > this.#max) this.#byPod.delete(this.#byPod.keys().next().value!);
  }

  get(pod: string): PodLabels | undefined {
    return pod === "" ? undefined : this.#byPod.get(pod);
  }

  get size(): number {
    return this.#byPod.size;
  }
}
