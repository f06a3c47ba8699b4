// Where events are born: the bpftrace program, its supervisor and its line grammar.
export { LineParser, blankEvent, normalizeIp, type LineParserHandlers, type ParsedEvent } from "./line-parser.js";
export { LineSplitter, type LineRangeHandler } from "./line-splitter.js";
export { BpftraceRunner, type BpftraceRunnerOptions, type CrashInfo } from "./bpftrace-runner.js";
export {
  BPFTRACE_ENV,
  BPFTRACE_PREFIX_ENV,
  CURRENT_BPFTRACE_MIN_VERSION,
  DEFAULT_BPFTRACE_PREFIX,
  DEFAULT_PERF_RB_PAGES,
  DEFAULT_RING_BUFFER_PAGES,
  SLOW_BPFTRACE_WARNING,
  bpftraceLimitsEnv,
  bpftraceVersion,
  defaultPerfRbPages,
  findBpftrace,
  findExecutable,
  isCurrentBpftrace,
  parseBpftraceVersion,
  type BpftraceLimits,
  type BpftraceLocation,
  type BpftraceSource,
  type BpftraceVersion,
  type FindBpftraceOptions,
} from "./bpftrace-binary.js";
export { preflight, REQUIRED_TRACEPOINTS, type PreflightOptions, type ProbeFeatures } from "./preflight.js";
export {
  BpftraceMissingError,
  BpftraceUnusableError,
  NotRootError,
  PreflightError,
  ProbeAttachError,
  ProgramMissingError,
  TracefsUnmountedError,
  TracepointMissingError,
  isBpftraceMissingError,
  isBpftraceUnusableError,
  isNotRootError,
  isPreflightError,
  isProbeAttachError,
  isProgramMissingError,
  isTracefsUnmountedError,
  isTracepointMissingError,
  type TracepointMissingOptions,
} from "./errors.js";
export { defaultProgramPath } from "./program.js";
export { MAX_SELF_PORTS, selfExclusionArgs, type SelfExclusion } from "./self-exclusion.js";
export { programArgs, type ProgramArgsOptions } from "./program-args.js";
