// What the stitcher keeps per node: its reorder window,
// clock offset, lingering dead sockets and sidecar downstreams awaiting their
// upstream connect.
import { nsBetween, type KernelNs } from "../model/mod.js";
import { PodLabelDirectory } from "./pod-label-directory.js";
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
  /** Labels of this node's pods, from its events (their batches' pod directories). */
  readonly podLabels = new PodLabelDirectory();
  /** The newest kernel time ingested from this node (0n before any). */
  newestNs: KernelNs = 0n;
  /** Closed sockets of this node whose trace may be complete, by their close in this node's event time (wall ms). */
  readonly settling = new SlotQueue();
  /**
   * Sockets alive when one of this node's agent gaps ended, by when (this
   * node's event time, wall ms) they must have shown an event or be taken as
   * closed inside the gap (socket-registry.ts #gap).
   */
  readonly gapWatch = new SlotQueue();

  /**
   * This node's event time (wall ms): when its newest event happened, run on
   * by wall time only while the node is presumed live. A node that stops
   * sending is either idle or stalled (a SIGSTOPped agent, a long GC, a
   * partition), and from here the two look the same; so its clock runs on
   * for `liveMs` (enough for its own last trace to settle) and then stands
   * still, keeping what waits on it waiting, until `stallMaxMs` of silence
   * say it is idle or gone and wall time runs on it again.
   */
  nowMs(wallMs: number, liveMs: number, stallMaxMs: number): number {
    const newest = this.wallUs(this.newestNs) / 1000;
    const quiet = Math.max(0, wallMs - this.lastIngestMs);
    return newest + (quiet > stallMaxMs ? quiet : Math.min(quiet, liveMs));
  }

  /** Note an ingested event's kernel time. */
  saw(ts: KernelNs): void {
    if (ts > this.newestNs) this.newestNs = ts;
  }

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
