// The mesh lab: pods in network namespaces with Istio's iptables rules and
// HAProxy sidecars, scripted scenarios, and the packet ground truth that
// tcptrail's events are checked against.
export {
  labUp,
  labDown,
  labStatus,
  openLab,
  podOf,
  processOf,
  startSidecar,
  defaultStateDir,
  type LabOptions,
  type LabStatus,
  type PodStatus,
  type DownReport,
  type SidecarStartOptions,
} from "./lab.js";
export type { LabState, PodState, ProcessState, ProcessRole } from "./state-file.js";
export { meshNatRules, resolveMeshRules, MESH_DEFAULTS, type MeshRulesOptions } from "./iptables-rules.js";
export {
  sidecarConfig,
  SIDECAR_DEFAULTS,
  isSidecarMode,
  isHttpReuse,
  type SidecarConfigOptions,
  type SidecarMode,
  type HttpReuse,
} from "./sidecar-config.js";
export { spawnInNetns, stopProcess, isAlive, processStartTime, type SpawnedProcess, type StopOptions } from "./processes.js";
export { planPods, bridgeName, netnsExists, linkExists } from "./topology.js";
export { Capture, CAPTURE_FILTER, type CaptureOptions, type CaptureResult } from "./capture.js";
export {
  parseTcpdumpText,
  reduceCapture,
  formatWirePacket,
  hasFlag,
  type WirePacket,
  type WireEndpoint,
  type TcpFlag,
} from "./ground-truth.js";
export {
  HTTP_CAPTURE_FILTER,
  parseHttpCapture,
  reduceHttpCapture,
  pooledUses,
  racedRequests,
  unclosedConnections,
  requestIdOf,
  formatTuple,
  type HttpSegment,
  type HttpWireOptions,
  type PooledUse,
  type RacedRequest,
  type TcpTuple,
} from "./http-wire.js";
export { checkExpectations, segmentMatches, type ExpectationCheck } from "./expectations.js";
export {
  compareWithEvents,
  type CompareOptions,
  type ComparisonReport,
  type SegmentAttribution,
  type RedirectCheck,
  type TracedEvent,
  type ComparePod,
  type SenderInfo,
} from "./compare-events.js";
export { runScenario, type ScenarioRun, type RunScenarioOptions } from "./run-scenario.js";
export * from "./scenarios/mod.js";
export { APP_PATHS, APP_HEADERS } from "./app/app-server-script.js";
export type { ClientResult } from "./app/client-script.js";
export type { HttpClientPlan, HttpClientRun, HttpClientConnection, HttpClientRequest, HttpClientSweep } from "./app/http-client-script.js";
export * from "./errors.js";
