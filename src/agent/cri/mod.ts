// Pod identity from the node's container runtime over the CRI (runtime.v1),
// behind the agent's PodResolver interface, and the choice between it and
// the named namespaces under /run/netns.
export {
  CriPodResolver,
  DEFAULT_CRI_RESYNC_MS,
  DEFAULT_SIDECAR_CONTAINER_NAMES,
  podName,
  type CriPodResolverOptions,
  type PodIdentity,
} from "./cri-pod-resolver.js";
export { containerIdOfCgroup, containerIdOfCgroupPath, readContainerId } from "./cgroup-container.js";
export { DEFAULT_EXITED_PROCESS_KEEP_MS, DEFAULT_PROCESS_CACHE_SIZE, ProcessContainers, type ProcessContainersOptions } from "./process-containers.js";
export {
  CONTAINERD_SOCKET,
  CRIO_SOCKET,
  CriRuntimeClient,
  DEFAULT_CRI_CALL_TIMEOUT_MS,
  DEFAULT_CRI_SOCKETS,
  type CriRuntimeClientOptions,
} from "./runtime-client.js";
export {
  DEFAULT_CRI_PROBE_TIMEOUT_MS,
  DEFAULT_POD_RESOLVER_MODE,
  POD_RESOLVER_MODES,
  choosePodResolver,
  createPodResolver,
  isPodResolverMode,
  probeCriSocket,
  type PodResolverChoice,
  type PodResolverMode,
  type PodResolverSpec,
} from "./pod-resolver-choice.js";
export { sandboxNetns, type SandboxNetns } from "./sandbox-netns.js";
export { netnsInodeOf, sandboxNetnsInode } from "./netns-inode.js";
export { CriCallError, isCriCallError, type CriCallErrorOptions } from "./errors.js";
