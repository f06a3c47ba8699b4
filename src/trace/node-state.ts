// What the stitcher keeps per node: its reorder window,
// clock offset, lingering dead sockets and sidecar downstreams awaiting their
// upstream connect.
import { nsBetween, type KernelNs } from "../model/mod.js";
import { ReorderWindow } from "./reorder-window.js";
import { SlotQueue } from "./slot-queue.js";

export class NodeState {
  readonly name: string;
  readonly index: number;
  readonly window: ReorderWindow;
  /** Dead sockets in death order, unmapped once their linger expires. */
  readonly dead = new SlotQueue();
  /** pid → sidecar downstream slots accepted recently and not linked yet. */
  readonly pending = new Map<number, number[]>();
  /**
   * The newest event that carried both clocks (kernel ns, wall µs): kernel
   * ns → wall µs. Kept as a pair, not an offset, so the conversion takes the
   * small ns distance to it and does not depend on the uptime.
   */
  refNs: KernelNs = 0n;
  refUs = 0;
  /** Wall ms of the last ingest, to release a quiet node's window. */
  lastIngestMs = 0;

  constructor(name: string, index: number, windowNs: number) {
    this.name = name;
    this.index = index;
    this.window = new ReorderWindow(windowNs);
  }

  /** Learn the clock offset from an event that carried both clocks. */
  sync(tsNs: KernelNs, timeUs: number): void {
    this.refNs = tsNs;
    this.refUs = timeUs;
  }

  /** Kernel ns of this node as wall-clock µs (0 stays 0). */
  wallUs(ns: KernelNs): number {
    return ns === 0n ? 0 : this.refUs + Math.round(nsBetween(this.refNs, ns) / 1000);
  }
}
