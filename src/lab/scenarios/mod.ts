// Every scenario, by name.
import { appAbort } from "./app-abort.js";
import { idleTimeout } from "./idle-timeout.js";
import { keepaliveRace } from "./keepalive-race.js";
import { noListener } from "./no-listener.js";
import { ok } from "./ok.js";
import { plainToMesh } from "./plain-to-mesh.js";
import { pooled } from "./pooled.js";
import { reject } from "./reject.js";
import { sidecarCrash } from "./sidecar-crash.js";
import type { Scenario } from "./types.js";

export const scenarios: readonly Scenario[] = [ok, appAbort, noListener, sidecarCrash, reject, idleTimeout, plainToMesh, pooled, keepaliveRace];

export function scenarioByName(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}

export type { ExpectedRole, ExpectedSegment, RaceReport, Scenario, ScenarioConnection, ScenarioContext, ScenarioResult, WireSelector } from "./types.js";
export type { ClientCall, RunningClient } from "./client.js";
export { runClient, startClient } from "./client.js";
export { killSidecar, restartSidecar, withSidecar } from "./sidecar-control.js";
export { runHttpClient } from "./http-client.js";
