// The `tcptrail` command line. Each command lives in ./commands/<name>.ts and
// registers itself on the program; this file assembles them and decides, once
// for all of them, how errors are printed and which exit code they give
// (./exit.ts). Command files import their heavy modules inside their actions,
// so the command line loads only what the command it runs needs.
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/mod.js";
import { EXIT_OK, exitCodeOf, failureLine } from "./exit.js";
import { handleClosedStdout, stdoutClosed } from "./stdout.js";

// `tcptrail observe | head -1`: a reader that closed the pipe ends the command quietly, status 0.
handleClosedStdout();

const program = new Command()
  .name("tcptrail")
  .description("eBPF-backed TCP connection tracer for service meshes")
  .version("0.1.0")
  .showHelpAfterError()
  // Throw instead of process.exit so the exit code is decided below, the same
  // way for commander's own usage errors and for the commands' failures.
  // Subcommands inherit both settings because they are set before any exists.
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(`tcptrail: ${message.replace(/^error: /, "")}`) });

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // A command cut short because nobody reads its output any more did what was asked.
  if (stdoutClosed().aborted) {
    process.exitCode = EXIT_OK;
    return;
  }
  // Commander has printed its own errors (and the help) already; the rest get one line.
  if (!(err instanceof CommanderError)) console.error(failureLine(err));
  process.exitCode = exitCodeOf(err);
});
