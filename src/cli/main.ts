// The `tcptrail` command line. Each command lives in ./commands/<name>.ts and
// registers itself on the program; this file only assembles them.
import { Command } from "commander";
import { registerCommands } from "./commands/mod.js";

const program = new Command()
  .name("tcptrail")
  .description("eBPF-backed TCP connection tracer for service meshes")
  .version("0.1.0")
  .showHelpAfterError();

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`tcptrail: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
