// Which PodResolver the agent uses (`--pod-resolver netns|cri|auto`), chosen
// once at start and described as plain data, so that the agent's pipeline
// worker can build the resolver in its own thread: a resolver object cannot
// cross a thread boundary, its description can.
import { existsSync } from "node:fs";
import { InvalidArgumentError } from "../../errors/mod.js";
import { silentLogger, type Logger } from "../../log/logger.js";
import { NetnsDirResolver, type PodResolver } from "../pod-resolver.js";
import { CriPodResolver } from "./cri-pod-resolver.js";
import { CriCallError } from "./errors.js";
import { CriRuntimeClient, DEFAULT_CRI_SOCKETS, socketPath } from "./runtime-client.js";

export const POD_RESOLVER_MODES = ["auto", "netns", "cri"] as const;
export type PodResolverMode = (typeof POD_RESOLVER_MODES)[number];
/** CRI when a runtime answers on its socket, else the named namespaces under /run/netns. */
export const DEFAULT_POD_RESOLVER_MODE: PodResolverMode = "auto";
/** How long start waits for a CRI socket to answer Version. */
export const DEFAULT_CRI_PROBE_TIMEOUT_MS = 2000;

export const isPodResolverMode = (s: string): s is PodResolverMode => (POD_RESOLVER_MODES as readonly string[]).includes(s);

/** What the user asked for. */
export interface PodResolverChoice {
  /** Default DEFAULT_POD_RESOLVER_MODE (auto). */
  mode?: PodResolverMode;
  /** The CRI socket. Default: the first of DEFAULT_CRI_SOCKETS that answers (containerd, then CRI-O). */
  criSocket?: string;
  /** With CRI: containers whose processes are the sidecar, by name. Default DEFAULT_SIDECAR_CONTAINER_NAMES (istio-proxy). */
  sidecarContainers?: readonly string[];
}

/** The resolver decided on, as plain data (structured-clonable to a worker). */
export type PodResolverSpec = { kind: "netns"; dir?: string } | { kind: "cri"; socket: string; resyncMs?: number; sidecarContainers?: readonly string[] };

/** Whether a CRI runtime answers on `socket`: its Version, or the CriCallError saying why not. */
export async function probeCriSocket(socket: string, timeoutMs = DEFAULT_CRI_PROBE_TIMEOUT_MS): Promise<{ runtimeName: string; runtimeVersion: string }> {
  const path = socketPath(socket);
  // No socket file: say so without a gRPC connection attempt.
  if (!existsSync(path)) throw new CriCallError(`CRI Version on ${path} failed: no such socket`, { method: "Version", socket: path });
  const client = new CriRuntimeClient({ socket: path, callTimeoutMs: timeoutMs });
  try {
    const v = await client.version();
    return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion };
  } finally {
    client.close();
  }
}

/**
 * Decide the resolver. "cri" without an answering socket is an error (the
 * user asked for pod names from the runtime); "auto" then falls back to
 * /run/netns and says why.
 */
export async function choosePodResolver(choice: PodResolverChoice = {}, o: { logger?: Logger; probeTimeoutMs?: number } = {}): Promise<PodResolverSpec> {
  const log = o.logger ?? silentLogger;
  const mode = choice.mode ?? DEFAULT_POD_RESOLVER_MODE;
  if (!isPodResolverMode(mode)) throw InvalidArgumentError.format("podResolver", `must be one of ${POD_RESOLVER_MODES.join(", ")}, got ${String(mode)}`);
  if (mode === "netns") return { kind: "netns" };
  const candidates = choice.criSocket !== undefined ? [socketPath(choice.criSocket)] : DEFAULT_CRI_SOCKETS;
  const failures: string[] = [];
  for (const socket of candidates) {
    try {
      const v = await probeCriSocket(socket, o.probeTimeoutMs);
      log.info({ socket, runtime: v.runtimeName, version: v.runtimeVersion }, "pods are named by the container runtime (CRI)");
      return { kind: "cri", socket, ...(choice.sidecarContainers !== undefined ? { sidecarContainers: [...choice.sidecarContainers] } : {}) };
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (mode === "cri") throw new CriCallError(`--pod-resolver cri: no CRI runtime answers (${failures.join("; ")})`, { method: "Version", socket: candidates.join(",") });
  log.info({ tried: candidates }, "no CRI runtime answers: pods are named by their network namespace under /run/netns");
  return { kind: "netns" };
}

/** Build the resolver a spec describes (in whichever thread runs the pipeline). */
export function createPodResolver(spec: PodResolverSpec, hostName: string, logger?: Logger): PodResolver {
  if (spec.kind === "cri") {
    return new CriPodResolver({
      socket: spec.socket,
      hostName,
      ...(spec.resyncMs !== undefined ? { resyncMs: spec.resyncMs } : {}),
      ...(spec.sidecarContainers !== undefined ? { sidecarContainers: spec.sidecarContainers } : {}),
      ...(logger ? { logger } : {}),
    });
  }
  return new NetnsDirResolver({ hostName, ...(spec.dir !== undefined ? { dir: spec.dir } : {}) });
}
