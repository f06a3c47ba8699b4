// Run the lab's keep-alive client inside a pod: one process, several client
// connections one after another (see app/http-client-script.ts).
import { execa } from "execa";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HTTP_CLIENT_FILE, HTTP_CLIENT_SOURCE, type HttpClientPlan, type HttpClientRun } from "../app/http-client-script.js";
import { LabCommandError } from "../errors.js";
import { inNetns } from "../exec.js";
import type { LabState, PodState } from "../state-file.js";

const isRun = (v: unknown): v is HttpClientRun =>
  typeof v === "object" && v !== null && typeof (v as HttpClientRun).pid === "number" && Array.isArray((v as HttpClientRun).connections);

export async function runHttpClient(state: LabState, from: PodState, plan: HttpClientPlan): Promise<HttpClientRun> {
  // Written on every run, not only by `lab up`: a lab brought up by an older build lacks it.
  const script = join(state.dir, "bin", HTTP_CLIENT_FILE);
  await writeFile(script, HTTP_CLIENT_SOURCE);
  const [bin, argv] = inNetns(from.netns, process.execPath, [script, JSON.stringify(plan)]);
  const limitMs = plan.connections * (plan.timeoutMs + (plan.sweep?.maxUs ?? plan.gapUs ?? 0) / 1000) + 10_000;
  const r = await execa(bin, argv, { reject: false, stdin: "ignore", timeout: limitMs });
  const line = String(r.stdout).trim().split("\n").pop() ?? "";
  let run: unknown;
  try {
    run = JSON.parse(line);
  } catch {
    run = undefined;
  }
  if (!isRun(run)) throw LabCommandError.failed(`lab keep-alive client in ${from.netns}`, String(r.stderr) || `exit ${String(r.exitCode)}`);
  return run;
}
