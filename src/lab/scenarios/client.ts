// Run the lab client inside a pod: one request per call, one process per
// request, so each connection has its own recognizable process (comm tt-client).
import { execa } from "execa";
import { join } from "node:path";
import { CLIENT_FILE, type ClientResult } from "../app/client-script.js";
import { LabCommandError } from "../errors.js";
import { inNetns } from "../exec.js";
import type { WireEndpoint } from "../ground-truth.js";
import type { LabState, PodState } from "../state-file.js";
import type { ScenarioConnection } from "./types.js";

export interface ClientCall {
  from: PodState;
  target: WireEndpoint;
  /** Request path, e.g. "/ok", "/slow?ms=2000". */
  path: string;
  /** The client closes (FIN) after this long without the peer closing. Default: 10000 ms. */
  timeoutMs?: number;
  /** Wait this long after connecting before sending the request, and send nothing if the peer closed meanwhile. Default: 0. */
  sendDelayMs?: number;
}

export interface RunningClient {
  /** The client process, known as soon as it is spawned. */
  pid: number;
  done: Promise<ScenarioConnection>;
}

export function startClient(state: LabState, call: ClientCall): RunningClient {
  const script = join(state.dir, "bin", CLIENT_FILE);
  const args = [script, call.target.ip, String(call.target.port), call.path, String(call.timeoutMs ?? 10_000), String(call.sendDelayMs ?? 0)];
  const [bin, argv] = inNetns(call.from.netns, process.execPath, args);
  const proc = execa(bin, argv, { reject: false, stdin: "ignore", timeout: (call.timeoutMs ?? 10_000) + 10_000 });
  const pid = proc.pid ?? 0;
  const done = proc.then((r) => {
    const line = String(r.stdout).trim().split("\n").pop() ?? "";
    let result: ClientResult;
    try {
      result = JSON.parse(line) as ClientResult;
    } catch {
      throw LabCommandError.failed(`lab client in ${call.from.netns}`, String(r.stderr) || `exit ${String(r.exitCode)}`);
    }
    return { clientPod: call.from.netns, target: call.target, path: call.path, pid: result.pid, result };
  });
  return { pid, done };
}

export function runClient(state: LabState, call: ClientCall): Promise<ScenarioConnection> {
  return startClient(state, call).done;
}
