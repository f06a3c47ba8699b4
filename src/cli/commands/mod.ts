// Every command of the CLI, registered in the order `tcptrail --help` lists them.
import type { Command } from "commander";

type Register = (program: Command) => void;

const commands: Register[] = [];

export function registerCommands(program: Command): void {
  for (const register of commands) register(program);
}
