// Run one scenario, optionally under packet capture in every pod, and check
// its expectations against that ground truth.
import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log/logger.js";
import { silentLogger } from "../log/logger.js";
import { Capture, type CaptureResult } from "./capture.js";
import { LabStateError } from "./errors.js";
import { checkExpectations, type ExpectationCheck } from "./expectations.js";
import type { Scenario, ScenarioResult } from "./scenarios/types.js";
import type { LabState } from "./state-file.js";

export interface RunScenarioOptions {
  /** Capture SYN/FIN/RST in every pod while the scenario runs. Default: true. */
  capture?: boolean;
  /** Where capture files go. Default: a new directory under `<stateDir>/captures/`. */
  captureDir?: string;
  /** Default: silent. */
  logger?: Logger;
}

export interface ScenarioRun {
  result: ScenarioResult;
  capture?: CaptureResult;
  /** The expectations held against the capture (when capturing). */
  check?: ExpectationCheck;
}

export async function runScenario(state: LabState, scenario: Scenario, opts: RunScenarioOptions = {}): Promise<ScenarioRun> {
  for (const name of scenario.pods) {
    if (!state.pods.some((p) => p.name === name)) {
      throw new LabStateError(`scenario ${scenario.name} needs pod "${name}" (lab has ${state.pods.map((p) => p.name).join(",")})`);
    }
  }
  const ctx = { state, log: opts.logger ?? silentLogger };
  if (opts.capture === false) return { result: await scenario.run(ctx) };
  await mkdir(join(state.dir, "captures"), { recursive: true });
  const dir = opts.captureDir ?? (await mkdtemp(join(state.dir, "captures", `${scenario.name}-`)));
  const capture = await Capture.start({ netns: state.pods.map((p) => p.netns), dir });
  let result: ScenarioResult;
  try {
    result = await scenario.run(ctx);
  } finally {
    await capture.stop();
  }
  const captured = await capture.stop();
  return { result, capture: captured, check: checkExpectations(captured.packets, result.expectations) };
}
