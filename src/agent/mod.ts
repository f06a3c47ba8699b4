// Where raw kernel events become attributed, ordered connection events.
export { Agent, type AgentOptions, type AgentStats } from "./agent.js";
export {
  DEFAULT_AGENT_TICK_MS,
  DEFAULT_LINGER_MS,
  DEFAULT_REORDER_WINDOW_MS,
  EMPTY_PIPELINE_STATS,
  resolvePipelineSettings,
  type AgentPipeline,
  type AgentPipelineFactory,
  type PipelineContext,
  type PipelineHooks,
  type PipelineSettings,
  type PipelineStats,
  type ReleasedHorizon,
  type ResolvedPipelineSettings,
} from "./agent-pipeline.js";
export { EventPipeline, type EventPipelineOptions } from "./event-pipeline.js";
export { OwnerTable } from "./owner-table.js";
export { ReorderBuffer, type Timestamped } from "./reorder-buffer.js";
export { SocketTable, type SocketInfo } from "./socket-table.js";
export { DEFAULT_SIDECAR_UID, MeshRoleClassifier, type MeshRole, type MeshRoleOptions } from "./role.js";
export {
  DEFAULT_MAX_MISS_RETRY_MS,
  DEFAULT_MISS_RETRY_MS,
  DEFAULT_NETNS_DIR,
  DEFAULT_TOMBSTONE_MS,
  DEFAULT_UNWATCHED_RESCAN_MS,
  NetnsDirResolver,
  type PodResolver,
  type NetnsDirResolverOptions,
} from "./pod-resolver.js";
export { PodFilter, parsePodGlobs } from "./pod-filter.js";
