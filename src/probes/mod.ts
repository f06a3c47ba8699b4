// Where events are born: the bpftrace program, its supervisor and its line grammar.
export { LineParser, blankEvent, normalizeIp, type LineParserHandlers, type ParsedEvent } from "./line-parser.js";
export { BpftraceRunner, type BpftraceRunnerOptions, type CrashInfo } from "./bpftrace-runner.js";
export {
  preflight,
  findExecutable,
  PreflightError,
  isPreflightError,
  REQUIRED_TRACEPOINTS,
  type PreflightCode,
  type PreflightOptions,
  type ProbeFeatures,
} from "./preflight.js";
export { defaultProgramPath } from "./program.js";
