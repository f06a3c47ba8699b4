// Stitching connection events into distributed traces, and classifying them.
export { MAX_NODES, Stitcher, type StitcherStats } from "./stitcher.js";
export { DEFAULT_GAP_CLOSE_WAIT_MS, DEFAULT_IDLE_CLOSE_MIN_MS, DEFAULT_PROXY_IDLE_TIMEOUT_MS, DEFAULT_RACE_CROSSING_WINDOW_MS, DEFAULT_STALL_MAX_MS, type StitcherOptions } from "./options.js";
export type { TraceInfo, Relay } from "./trace-info.js";
export type { HopView, SockView, AddressView } from "./hop-view.js";
export { FAILURE_OUTCOMES, classifyHop, classifyTrace, type HopClass, type TraceClass, type Side } from "./classify.js";
export { explain, type ExplainContext } from "./explain.js";
export type { IdleCloseOptions } from "./idle-close.js";
export { socketId, traceId } from "./trace-id.js";
export {
  StitcherOptionsError,
  TooManyNodesError,
  isStitcherOptionsError,
  isTooManyNodesError,
  type TooManyNodesOptions,
} from "./errors.js";
