// Crash and restart a pod's sidecar, keeping the state file true.
import { processOf, startSidecar } from "../lab.js";
import { stopProcess } from "../processes.js";
import type { PodState, ProcessState } from "../state-file.js";
import type { ScenarioContext } from "./types.js";

/** SIGKILL the pod's HAProxy (no chance to close anything itself); resolves once it is gone. */
export async function killSidecar(ctx: ScenarioContext, pod: PodState): Promise<ProcessState> {
  const p = processOf(ctx.state, pod, "sidecar");
  await stopProcess(p, { signal: "SIGKILL" });
  return p;
}

/** Replace the pod's HAProxy, e.g. with another idle timeout (default 30 s). */
export function restartSidecar(ctx: ScenarioContext, pod: PodState, idleTimeoutMs?: number): Promise<ProcessState> {
  return startSidecar(ctx.state, pod, idleTimeoutMs !== undefined ? { idleTimeoutMs } : {});
}
