// The lab's memory of what it created, on disk. It is written after every
// creation step (before the next one), so `lab down` can undo a half-built lab
// even when the process that built it crashed.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LabStateError } from "./errors.js";

export interface PodState {
  /** Short name given by the user ("a"). */
  name: string;
  /** Named netns under /run/netns ("tt-a"): also the pod name tcptrail reports. */
  netns: string;
  ip: string;
  prefixLen: number;
  meshed: boolean;
  /** Root-namespace end of the pod's veth pair (the pod end is eth0). */
  hostVeth: string;
}

export type ProcessRole = "sidecar" | "app";

export interface ProcessState {
  pod: string;
  role: ProcessRole;
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22): guards against PID reuse. */
  startTime: number;
  argv: string[];
  /** Configuration file the process runs with (HAProxy). */
  config?: string;
  log: string;
}

export interface LabState {
  version: 1;
  prefix: string;
  subnet: string;
  bridge: string;
  /** Directory holding configs, logs and the lab's helper scripts. */
  dir: string;
  createdAt: string;
  /** Sidecar identity and listeners the mesh rules were generated for. */
  mesh: { uid: number; gid: number; outboundPort: number; inboundPort: number; inboundExcludePorts: number[] };
  appPort: number;
  pods: PodState[];
  processes: ProcessState[];
}

export const STATE_FILE_NAME = "state.json";

export function stateFilePath(dir: string): string {
  return join(dir, STATE_FILE_NAME);
}

export async function readState(dir: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFilePath(dir), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const s = JSON.parse(text) as LabState;
  if (s.version !== 1) throw new LabStateError(`unsupported lab state version ${String(s.version)} in ${dir}`);
  return s;
}

/** Atomic replace: a crash mid-write leaves the previous state, never half a file. */
export async function writeState(state: LabState): Promise<void> {
  await mkdir(state.dir, { recursive: true });
  const path = stateFilePath(state.dir);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  await rename(tmp, path);
}

export async function removeState(dir: string): Promise<void> {
  await rm(stateFilePath(dir), { force: true });
}
