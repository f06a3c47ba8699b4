// Crash and restart a pod's sidecar, keeping the state file true.
import { processOf, startSidecar, type SidecarStartOptions } from "../lab.js";
import { stopProcess } from "../processes.js";
import type { PodState, ProcessState } from "../state-file.js";
import type { ScenarioContext } from "./types.js";

/** SIGKILL the pod's HAProxy (no chance to close anything itself); resolves once it is gone. */
export async function killSidecar(ctx: ScenarioContext, pod: PodState): Promise<ProcessState> {
  const p = processOf(ctx.state, pod, "sidecar");
  await stopProcess(p, { signal: "SIGKILL" });
  return p;
}

/** Replace the pod's HAProxy, e.g. with another idle timeout (default 30 s) or in HTTP mode; no options: the defaults. */
export function restartSidecar(ctx: ScenarioContext, pod: PodState, opts?: number | SidecarStartOptions): Promise<ProcessState> {
  return startSidecar(ctx.state, pod, typeof opts === "number" ? { idleTimeoutMs: opts } : (opts ?? {}));
}

/**
 * Run `body` with the pod's sidecar replaced by one started with `opts`, and
 * put the default sidecar back afterwards, also when `body` fails: the next
 * scenario must find the lab as `lab up` left it.
 */
export async function withSidecar<T>(
  ctx: ScenarioContext,
  pod: PodState,
  opts: SidecarStartOptions,
  body: (sidecar: ProcessState) => Promise<T>,
): Promise<T> {
  const sidecar = await restartSidecar(ctx, pod, opts);
  try {
    return await body(sidecar);
  } finally {
    await restartSidecar(ctx, pod);
  }
}
