// Shared steps of the scenarios: look pods up, call, and describe the hops.
import { podOf } from "../lab.js";
import type { PodState } from "../state-file.js";
import { runClient, startClient, type ClientCall, type RunningClient } from "./client.js";
import { LabStateError } from "../errors.js";
import { callHops, withClientPid, type CallHops, type Hop } from "./hops.js";
import type { ScenarioConnection, ScenarioContext } from "./types.js";

export interface Call {
  conn: ScenarioConnection;
  hops: CallHops;
}

export function pod(ctx: ScenarioContext, name: string): PodState {
  return podOf(ctx.state, name);
}

/** The i-th hop of a call (0 = the caller's own connection). */
export function hop(c: Call, i: number): Hop {
  const h = c.hops.hops[i];
  if (!h) throw new LabStateError(`call has ${c.hops.hops.length} hops, no hop ${i}`);
  return h;
}

export async function call(ctx: ScenarioContext, c: ClientCall & { to: PodState }): Promise<Call> {
  const conn = await runClient(ctx.state, c);
  return { conn, hops: hopsOf(ctx, c.from, c.to, conn) };
}

export function start(ctx: ScenarioContext, c: ClientCall): RunningClient {
  return startClient(ctx.state, c);
}

export function hopsOf(ctx: ScenarioContext, from: PodState, to: PodState, conn: ScenarioConnection): CallHops {
  const local = conn.result.local ?? { ip: from.ip, port: 0 };
  return withClientPid(callHops(ctx.state, from, to, conn.target, local), conn.pid);
}

export const nowUs = (): number => Date.now() * 1000;

/** What most scenarios start from: now, the caller pod a, the callee pod b, and b's address at `port` (default: the app's). */
export function fromAToB(ctx: ScenarioContext, port = ctx.state.appPort): { startUs: number; a: PodState; b: PodState; target: { ip: string; port: number } } {
  const b = pod(ctx, "b");
  return { startUs: nowUs(), a: pod(ctx, "a"), b, target: { ip: b.ip, port } };
}
