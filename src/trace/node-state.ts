// What the stitcher keeps per node: its reorder window,
// clock offset, lingering dead sockets and sidecar downstreams awaiting their
// upstream connect.
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
  /** time_us - ts_ns/1000 from the newest event that carried both: kernel ns → wall µs. */
  offsetUs = 0;
  /** Wall ms of the last ingest, to release a quiet node's window. */
  lastIngestMs = 0;

  constructor(name: string, index: number, windowNs: number) {
    this.name = name;
    this.index = index;
    this.window = new ReorderWindow(windowNs);
  }

  /** Kernel ns of this node as wall-clock µs (0 stays 0). */
  wallUs(ns: number): number {
    return ns === 0 ? 0 : Math.round(ns / 1000 + this.offsetUs);
  }
}
