// Bring the mesh lab up, down, and report on it. Every kernel object and
// process is recorded in the state file before the next step runs, so `down`
// undoes exactly what `up` made, also after a crash, and only that.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log/logger.js";
import { silentLogger } from "../log/logger.js";
import { APP_SERVER_FILE, APP_SERVER_SOURCE } from "./app/app-server-script.js";
import { CLIENT_FILE, CLIENT_SOURCE } from "./app/client-script.js";
import { LabStateError } from "./errors.js";
import { meshNatRules } from "./iptables-rules.js";
import { isAlive, spawnInNetns, stopProcess, waitForListener } from "./processes.js";
import { type HttpReuse, type SidecarMode, sidecarConfig } from "./sidecar-config.js";
import { type LabState, type PodState, type ProcessState, readState, removeState, writeState } from "./state-file.js";
import {
  applyIptables,
  bridgeName,
  bridgeNetfilterSetting,
  createBridge,
  createPod,
  deleteBridge,
  deletePod,
  linkExists,
  netnsExists,
  planPods,
} from "./topology.js";

export interface LabOptions {
  /** Where the state file, configs, logs and helper scripts live. Default: `$TCPTRAIL_STATE_DIR/lab`, else `/var/lib/tcptrail/lab`. */
  stateDir?: string;
  /** Pod names; each becomes netns `<prefix><name>`. Default: ["a", "b", "c"]. */
  pods?: readonly string[];
  /** Pods without a sidecar or mesh rules. Default: ["c"] (when "c" is a pod), else []. */
  plainPods?: readonly string[];
  /** Prefix of every netns and link name. Default: "tt-". */
  prefix?: string;
  /** IPv4 /24 of the pods; pod i gets .(i+2). Default: "10.88.0.0/24". */
  subnet?: string;
  /** UID/GID of the sidecars. Default: 1337 / 1337. */
  sidecarUid?: number;
  sidecarGid?: number;
  /** Port of each pod's app. Default: 8080. */
  appPort?: number;
  /** Sidecar idle timeout (`timeout client/server`). Default: 30000 ms. */
  idleTimeoutMs?: number;
  /** Default: silent. */
  logger?: Logger;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TCPTRAIL_STATE_DIR ? join(env.TCPTRAIL_STATE_DIR, "lab") : "/var/lib/tcptrail/lab";
}

interface Resolved {
  stateDir: string;
  pods: readonly string[];
  plainPods: readonly string[];
  prefix: string;
  subnet: string;
  uid: number;
  gid: number;
  appPort: number;
  idleTimeoutMs: number;
  log: Logger;
}

function resolve(o: LabOptions): Resolved {
  const pods = o.pods ?? ["a", "b", "c"];
  return {
    stateDir: o.stateDir ?? defaultStateDir(),
    pods,
    plainPods: o.plainPods ?? (pods.includes("c") ? ["c"] : []),
    prefix: o.prefix ?? "tt-",
    subnet: o.subnet ?? "10.88.0.0/24",
    uid: o.sidecarUid ?? 1337,
    gid: o.sidecarGid ?? 1337,
    appPort: o.appPort ?? 8080,
    idleTimeoutMs: o.idleTimeoutMs ?? 30_000,
    log: o.logger ?? silentLogger,
  };
}

/** Create the lab. Fails if a lab is recorded in the state dir; a failure half-way tears down what was made. */
export async function labUp(opts: LabOptions = {}): Promise<LabState> {
  const o = resolve(opts);
  if (await readState(o.stateDir)) throw new LabStateError(`a lab is already up in ${o.stateDir} (run lab down first)`);
  const pods = planPods({ prefix: o.prefix, pods: o.pods, plainPods: o.plainPods, subnet: o.subnet });
  const bridge = bridgeName(o.prefix);
  for (const name of [bridge, ...pods.map((p) => p.hostVeth)]) {
    if (await linkExists(name)) throw new LabStateError(`link ${name} already exists (another lab with prefix "${o.prefix}"?)`);
  }
  for (const p of pods) {
    if (await netnsExists(p.netns)) throw new LabStateError(`netns ${p.netns} already exists`);
  }
  const state: LabState = {
    version: 1,
    prefix: o.prefix,
    subnet: o.subnet,
    bridge,
    dir: o.stateDir,
    createdAt: new Date().toISOString(),
    mesh: { uid: o.uid, gid: o.gid, outboundPort: 15001, inboundPort: 15006, inboundExcludePorts: [15008, 15090, 15021, 15020] },
    appPort: o.appPort,
    pods: [],
    processes: [],
  };
  try {
    await mkdir(join(o.stateDir, "bin"), { recursive: true });
    await mkdir(join(o.stateDir, "log"), { recursive: true });
    await writeFile(join(o.stateDir, "bin", APP_SERVER_FILE), APP_SERVER_SOURCE);
    await writeFile(join(o.stateDir, "bin", CLIENT_FILE), CLIENT_SOURCE);
    await writeState(state);
    await createBridge(bridge);
    for (const pod of pods) {
      // Recorded first: a crash inside createPod leaves a netns that down must still remove.
      state.pods.push(pod);
      await writeState(state);
      await createPod(pod, bridge);
      if (pod.meshed) await applyIptables(pod.netns, meshNatRules({ proxyUid: o.uid, proxyGid: o.gid }));
      o.log.info({ pod: pod.netns, ip: pod.ip, meshed: pod.meshed }, "pod created");
    }
    for (const pod of pods) {
      await startApp(state, pod);
      if (pod.meshed) await startSidecar(state, pod, { idleTimeoutMs: o.idleTimeoutMs });
    }
    return state;
  } catch (e) {
    o.log.error({ err: e }, "lab up failed, tearing down");
    await teardown(state, o.log).catch(() => undefined);
    throw e;
  }
}

export interface DownReport {
  /** Processes stopped (pid), namespaces and links deleted. */
  stopped: number[];
  namespaces: string[];
  links: string[];
}

/** Remove everything the recorded lab made. Idempotent: no state file, nothing to do. */
export async function labDown(opts: Pick<LabOptions, "stateDir" | "logger"> = {}): Promise<DownReport> {
  const o = resolve(opts);
  const state = await readState(o.stateDir);
  if (!state) return { stopped: [], namespaces: [], links: [] };
  return teardown(state, o.log);
}

async function teardown(state: LabState, log: Logger): Promise<DownReport> {
  const report: DownReport = { stopped: [], namespaces: [], links: [] };
  // Processes first: a netns stays alive as long as a process is inside it.
  for (const p of state.processes) {
    if (await isAlive(p)) {
      await stopProcess(p);
      report.stopped.push(p.pid);
    }
  }
  for (const pod of state.pods) {
    if (await netnsExists(pod.netns)) report.namespaces.push(pod.netns);
    await deletePod(pod);
  }
  if (await linkExists(state.bridge)) report.links.push(state.bridge);
  await deleteBridge(state.bridge);
  await removeState(state.dir);
  log.info(report, "lab down");
  return report;
}

export interface PodStatus {
  netns: string;
  ip: string;
  meshed: boolean;
  netnsExists: boolean;
  processes: Array<{ role: ProcessState["role"]; pid: number; alive: boolean }>;
}

export interface LabStatus {
  up: boolean;
  stateDir: string;
  bridge?: string;
  subnet?: string;
  pods: PodStatus[];
  /** /proc/sys/net/bridge/bridge-nf-call-iptables: "1" means bridged frames also cross the root netns's iptables. */
  bridgeNetfilter?: string;
}

export async function labStatus(opts: Pick<LabOptions, "stateDir"> = {}): Promise<LabStatus> {
  const o = resolve(opts);
  const state = await readState(o.stateDir);
  const bridgeNetfilter = await bridgeNetfilterSetting();
  if (!state) return { up: false, stateDir: o.stateDir, pods: [], ...(bridgeNetfilter ? { bridgeNetfilter } : {}) };
  const pods: PodStatus[] = [];
  for (const pod of state.pods) {
    const processes = [];
    for (const p of state.processes.filter((x) => x.pod === pod.netns)) {
      processes.push({ role: p.role, pid: p.pid, alive: await isAlive(p) });
    }
    pods.push({ netns: pod.netns, ip: pod.ip, meshed: pod.meshed, netnsExists: await netnsExists(pod.netns), processes });
  }
  return { up: true, stateDir: state.dir, bridge: state.bridge, subnet: state.subnet, pods, ...(bridgeNetfilter ? { bridgeNetfilter } : {}) };
}

/** The recorded lab, or a LabStateError when none is up. */
export async function openLab(opts: Pick<LabOptions, "stateDir"> = {}): Promise<LabState> {
  const dir = resolve(opts).stateDir;
  const state = await readState(dir);
  if (!state) throw new LabStateError(`no lab is up in ${dir} (run lab up)`);
  return state;
}

export function podOf(state: LabState, name: string): PodState {
  const pod = state.pods.find((p) => p.name === name || p.netns === name);
  if (!pod) throw new LabStateError(`no pod "${name}" in the lab (${state.pods.map((p) => p.name).join(",")})`);
  return pod;
}

export function processOf(state: LabState, pod: PodState, role: ProcessState["role"]): ProcessState {
  const p = state.processes.find((x) => x.pod === pod.netns && x.role === role);
  if (!p) throw new LabStateError(`pod ${pod.netns} has no ${role}`);
  return p;
}

async function record(state: LabState, p: ProcessState): Promise<void> {
  state.processes = state.processes.filter((x) => !(x.pod === p.pod && x.role === p.role));
  state.processes.push(p);
  await writeState(state);
}

async function startApp(state: LabState, pod: PodState): Promise<ProcessState> {
  const log = join(state.dir, "log", `${pod.netns}-app.log`);
  const script = join(state.dir, "bin", APP_SERVER_FILE);
  const sp = await spawnInNetns(pod.netns, process.execPath, [script, String(state.appPort)], { log });
  const p: ProcessState = { pod: pod.netns, role: "app", pid: sp.pid, startTime: sp.startTime, argv: sp.argv, log };
  await record(state, p);
  await waitForListener(p.pid, state.appPort);
  return p;
}

export interface SidecarStartOptions {
  /** Default: 30000 ms. */
  idleTimeoutMs?: number;
  /** Default: "tcp" (see SidecarConfigOptions). */
  mode?: SidecarMode;
  /** Only in "http" mode. Default: "safe" (see SidecarConfigOptions). */
  httpReuse?: HttpReuse;
}

/** Start (or replace) the pod's HAProxy sidecar and wait until both capture listeners are up. */
export async function startSidecar(state: LabState, pod: PodState, opts: SidecarStartOptions = {}): Promise<ProcessState> {
  if (!pod.meshed) throw new LabStateError(`pod ${pod.netns} is not meshed`);
  const old = state.processes.find((x) => x.pod === pod.netns && x.role === "sidecar");
  if (old) await stopProcess(old);
  const config = join(state.dir, `${pod.netns}-haproxy.cfg`);
  await writeFile(
    config,
    sidecarConfig({
      uid: state.mesh.uid,
      gid: state.mesh.gid,
      outboundPort: state.mesh.outboundPort,
      inboundPort: state.mesh.inboundPort,
      ...(opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
      ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
      ...(opts.httpReuse !== undefined ? { httpReuse: opts.httpReuse } : {}),
    }),
  );
  const log = join(state.dir, "log", `${pod.netns}-haproxy.log`);
  // -db: foreground, no master process: the recorded PID is the proxy itself.
  const sp = await spawnInNetns(pod.netns, "haproxy", ["-f", config, "-db"], { log });
  const p: ProcessState = { pod: pod.netns, role: "sidecar", pid: sp.pid, startTime: sp.startTime, argv: sp.argv, config, log };
  await record(state, p);
  await waitForListener(p.pid, state.mesh.outboundPort);
  await waitForListener(p.pid, state.mesh.inboundPort);
  return p;
}
