// `tcptrail observe`: print connection events from the stream, hubble-style.
import { Command, Option } from "commander";
import { createLogger } from "../../log/logger.js";
import {
  OUTPUT_FORMATS,
  buildFilter,
  isObserveError,
  parseSince,
  runObserve,
  type OutputFormat,
} from "../../observe/mod.js";
import { DEFAULT_NATS_URL } from "../../transport/mod.js";

interface ObserveFlags {
  nats: string;
  follow?: boolean;
  since?: string;
  last?: string;
  node?: string;
  pod: string[];
  ip: string[];
  port: string[];
  role?: string;
  kind: string[];
  output: OutputFormat;
  utc?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Usage errors exit with 2, like other CLI argument errors. */
const USAGE_EXIT = 2;

export function registerObserve(program: Command): void {
  program
    .command("observe")
    .description("print connection events (last minute by default; -f to keep following)")
    .addOption(new Option("--nats <url>", "NATS server").env("TCPTRAIL_NATS").default(DEFAULT_NATS_URL))
    .option("-f, --follow", "keep printing new events")
    .option("--since <when>", "start at a duration ago (30s, 5m, 1h) or an RFC 3339 time")
    .option("--last <n>", "print only the last n matching events of the replay")
    .option("--node <name>", "only events of this node")
    .option("--pod <name>", "only events of this pod (repeatable)", collect, [])
    .option("--ip <addr>", "local, remote or target address (repeatable)", collect, [])
    .option("--port <port>", "local, remote or target port (repeatable)", collect, [])
    .option("--role <role>", "app or sidecar")
    .option("--kind <kind>", "event kind, e.g. state-change, reset-sent (repeatable)", collect, [])
    .addOption(new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("compact"))
    .option("--utc", "print times in UTC")
    .action(async (flags: ObserveFlags, cmd: Command) => {
      let parsed;
      try {
        parsed = {
          since: flags.since !== undefined ? parseSince(flags.since) : undefined,
          filter: buildFilter({
            node: flags.node !== undefined ? [flags.node] : [],
            pod: flags.pod,
            ip: flags.ip,
            port: flags.port,
            role: flags.role !== undefined ? [flags.role] : [],
            kind: flags.kind,
          }),
          last: flags.last !== undefined ? parseLast(flags.last) : undefined,
        };
      } catch (e) {
        if (isObserveError(e)) cmd.error(`tcptrail observe: ${e.message}`, { exitCode: USAGE_EXIT, code: e.code });
        throw e;
      }
      if (parsed.last === null) cmd.error(`tcptrail observe: invalid --last "${flags.last}": expected a positive integer`, { exitCode: USAGE_EXIT });

      const ac = new AbortController();
      const onSignal = () => ac.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await runObserve({
          natsUrl: flags.nats,
          filter: parsed.filter,
          follow: flags.follow ?? false,
          output: flags.output,
          compact: { utc: flags.utc ?? false },
          signal: ac.signal,
          logger: createLogger({ name: "observe", level: process.env.TCPTRAIL_LOG_LEVEL ?? "warn" }),
          ...(parsed.since ? { since: parsed.since } : {}),
          ...(parsed.last != null ? { last: parsed.last } : {}),
        });
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}

function parseLast(s: string): number | null {
  return /^\d+$/.test(s) && Number(s) > 0 ? Number(s) : null;
}
