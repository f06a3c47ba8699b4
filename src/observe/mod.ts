// `tcptrail observe`: filters, output formats and the replay/follow loop.
export {
  buildFilter,
  isEmptyFilter,
  matchEvent,
  type EventFilter,
  type FilterFlags,
  type FilterFlagsWithNot,
  type FilterGroup,
  type RemotePodOf,
} from "./filter.js";
export { TCP_FLAGS, isTcpFlag, tcpFlagOf, type TcpFlag } from "./tcp-flags.js";
export { DEFAULT_MAX_POD_ADDRESSES, PodAddresses } from "./pod-addresses.js";
export {
  OUTPUT_FORMATS,
  formatClock,
  formatCompact,
  formatEvent,
  toJsonRecord,
  type CompactOptions,
  type OutputFormat,
} from "./format.js";
export {
  DEFAULT_LOOKBACK_MS,
  replayStart,
  runObserve,
  type ObserveOptions,
  type ObserveResult,
} from "./observe.js";
export { InvalidFilterError, isInvalidFilterError, type InvalidFilterOptions } from "./errors.js";
