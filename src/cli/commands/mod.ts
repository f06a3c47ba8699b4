// Every command of the CLI, registered in the order `tcptrail --help` lists them.
import type { Command } from "commander";
import { registerRun } from "./run.js";
import { registerAgent } from "./agent.js";
import { registerConsumer } from "./consumer.js";
import { registerObserve } from "./observe.js";
import { registerAlerts } from "./alerts.js";
import { registerTraces } from "./traces.js";
import { registerTimeline } from "./timeline.js";
import { registerWhy } from "./why.js";
import { registerLab } from "./lab.js";

type Register = (program: Command) => void;

const commands: Register[] = [
  registerRun,
  registerAgent,
  registerConsumer,
  registerObserve,
  registerAlerts,
  registerTraces,
  registerTimeline,
  registerWhy,
  registerLab,
];

export function registerCommands(program: Command): void {
  for (const register of commands) register(program);
}
