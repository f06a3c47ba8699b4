// `tcptrail observe`: print connection events from the stream, hubble-style.
// The observe loop (and with it the NATS client) is imported in the action.
import { Option, type Command } from "commander";
import type { OutputFormat } from "../../observe/mod.js";
import { runCommand } from "../exit.js";
import { colorFlag, localTimeFlag, natsAuthFlags, natsFlag, outputFlag, positiveInt, sinceFlag, readerStateDirFlag, type ColorMode } from "../flags.js";
import { natsAuthFromFlags, type NatsAuthFlagValues } from "../nats-auth.js";
import { addObserveFilterFlags, type ObserveFilterReader } from "../observe-filters.js";
import { stdoutClosed } from "../stdout.js";

interface ObserveFlags extends NatsAuthFlagValues {
  nats: string;
  /** Where `tcptrail run` keeps its state: its reader's NATS credentials when no --nats-* is given. */
  stateDir: string;
  follow?: boolean;
  /** µs since the epoch. */
  since?: number;
  last?: number;
  output: OutputFormat;
  color: ColorMode;
  local?: boolean;
}

export function registerObserve(program: Command): void {
  const observe = program
    .command("observe")
    .description("print connection events (last minute by default; -f to keep following)")
    .addOption(natsFlag())
    .option("-f, --follow", "keep printing new events")
    .addOption(sinceFlag("start at a duration ago (30s, 5m, 1h30m), an RFC 3339 time, now, or µs since the epoch"))
    .option("--last <n>", "print only the last n matching events of the replay", positiveInt);
  const filters = addObserveFilterFlags(observe);
  observe
    .addOption(outputFlag(["compact", "json"], "compact", "no table: a stream of events has no last row to align columns to"))
    .addOption(colorFlag())
    .addOption(localTimeFlag())
    // UTC is the default now; --utc stays accepted so older scripts keep working.
    .addOption(new Option("--utc", "print times in UTC (the default)").hideHelp())
    .addOption(readerStateDirFlag());
  for (const o of natsAuthFlags()) observe.addOption(o);
  observe.action((flags: ObserveFlags, cmd: Command) => runCommand(cmd, () => observeEvents(flags, filters)));
}

async function observeEvents(flags: ObserveFlags, filters: ObserveFilterReader): Promise<void> {
  const { buildFilter, runObserve } = await import("../../observe/mod.js");
  const { createLogger } = await import("../../log/logger.js");
  const { painter } = await import("../../query/mod.js");
  const { useColor } = await import("../color.js");
  // A misplaced --not is a UsageError, a bad value an InvalidFilterError: runCommand reports both as usage errors (exit 2).
  const filter = buildFilter(filters());

  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const natsAuth = natsAuthFromFlags(flags, flags.stateDir);
    await runObserve({
      natsUrl: flags.nats,
      ...(natsAuth ? { natsAuth } : {}),
      filter,
      follow: flags.follow ?? false,
      output: flags.output,
      compact: { local: flags.local ?? false, paint: painter(useColor(flags.color)) },
      // A reader that went away (`| head`) ends a follow like Ctrl-C does.
      signal: AbortSignal.any([ac.signal, stdoutClosed()]),
      logger: createLogger({ name: "observe", level: process.env.TCPTRAIL_LOG_LEVEL ?? "warn" }),
      ...(flags.since !== undefined ? { since: new Date(Math.floor(flags.since / 1_000)) } : {}),
      ...(flags.last !== undefined ? { last: flags.last } : {}),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
