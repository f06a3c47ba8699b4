// Where raw kernel events become attributed, ordered connection events.
export { Agent, DEFAULT_AGENT_TICK_MS, type AgentOptions, type AgentStats } from "./agent.js";
export { OwnerTable } from "./owner-table.js";
export { ReorderBuffer, type Timestamped } from "./reorder-buffer.js";
export { SocketTable, type SocketInfo } from "./socket-table.js";
export { MeshRoleClassifier, type MeshRole, type MeshRoleOptions } from "./role.js";
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
