// Captures recorded once from a real lab run (prefix tx-, subnet 10.88.201.0/24):
// the pods, the scenario's result (connections, expectations) and the raw
// tcpdump text of every pod.
import { readFileSync } from "node:fs";
import type { ComparePod, ScenarioResult } from "../../src/lab/mod.js";

export interface Fixture {
  pods: ComparePod[];
  result: ScenarioResult;
  capture: Record<string, string>;
}

export function loadFixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8")) as Fixture;
}
