// Stitching connection events into distributed traces, and classifying them.
export { Stitcher, type StitcherStats } from "./stitcher.js";
export type { StitcherOptions } from "./options.js";
export type { TraceInfo, Relay } from "./trace-info.js";
export type { HopView, SockView, AddressView } from "./hop-view.js";
export { classifyHop, classifyTrace, type HopClass, type TraceClass, type Side } from "./classify.js";
export { explain } from "./explain.js";
export { socketId, traceId } from "./trace-id.js";
export {
  TraceError,
  StitcherOptionsError,
  isTraceError,
  isStitcherOptionsError,
  type TraceErrorCode,
} from "./errors.js";
