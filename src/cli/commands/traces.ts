// `tcptrail traces`: stored traces from the query API, newest first, as a
// table, one line each (compact) or as JSON lines (one trace object per
// line); with -f, every new trace as the API stores it, through its live
// stream. The API client and renderers are imported in the action, so other
// commands never load them.
import type { Command } from "commander";
import type { TraceJson } from "../../query/mod.js";
import { UsageError } from "../errors.js";
import { runCommand } from "../exit.js";
import { apiFlag, apiTokenFileFlag, colorFlag, localTimeFlag, outputFlag, sinceFlag, untilFlag, type ColorMode } from "../flags.js";
import { queryApi } from "../query-api.js";
import { stdoutClosed } from "../stdout.js";

export interface TracesCommandOptions {
  /** API base URL. Default (CLI): $TCPTRAIL_API, else http://127.0.0.1:7070. */
  api: string;
  /** File holding the API's bearer token. Default: $TCPTRAIL_API_TOKEN, else none. */
  apiTokenFile?: string;
  output: "compact" | "table" | "json";
  /** Colour outcomes (compact, table). Default false: the CLI decides it from --color (src/cli/color.ts). */
  color?: boolean;
  /** Window start, µs since the epoch (the CLI parses --since into this). */
  since?: number;
  /** Window end, µs since the epoch. */
  until?: number;
  pod?: string;
  /** key=value pairs, comma-separated (the CLI joins repeated --label): a hop endpoint's pod must carry every one. */
  label?: string;
  ip?: string;
  port?: string;
  outcome?: string;
  role?: string;
  /** Default (CLI): 50. The API caps it at 1000. */
  limit?: string;
  /** Times in the local zone instead of UTC. */
  local?: boolean;
}

export interface FollowTracesIo {
  /** Ends the follow (Ctrl-C, a reader that went away). */
  signal?: AbortSignal;
  /** Runs once the API has taken the subscription: traces stored from then on are printed. */
  onFollowing?: () => void;
}

async function render(opts: Pick<TracesCommandOptions, "local" | "color">) {
  const { painter, renderTraceLine, renderTraceTable } = await import("../../query/mod.js");
  const style = { local: opts.local ?? false, paint: painter(opts.color ?? false) };
  return {
    line: (t: TraceJson) => renderTraceLine(t, style),
    table: (ts: TraceJson[]) => renderTraceTable(ts, style),
  };
}

/** Writes each output line through `write`; the API validates every filter. */
export async function runTraces(opts: TracesCommandOptions, write: (line: string) => void): Promise<void> {
  const { QueryClient } = await import("../../query/mod.js");
  const { apiClientOptions } = await import("../api-token.js");
  const { api, apiTokenFile, output, local, color, ...filters } = opts;
  const client = new QueryClient(apiClientOptions({ api, apiTokenFile }));
  const page = await queryApi(() => client.listTraces(filters));
  const r = await render({ local, color });
  if (output === "json") for (const t of page.traces) write(JSON.stringify(t));
  else if (output === "compact") for (const t of page.traces) write(r.line(t));
  else write(r.table(page.traces));
}

/**
 * `traces -f`: each trace the API stores from now on that matches the
 * filters (--pod, --ip, --port, --outcome, --role; the same as a listing's),
 * one line each (compact) or one JSON object each, until `io.signal` aborts.
 * A table is not offered: its columns would need every row first.
 */
export async function followTraces(opts: TracesCommandOptions, write: (line: string) => void, io: FollowTracesIo = {}): Promise<void> {
  if (opts.output === "table") throw new UsageError("traces -f prints compact or json: a table needs every row before the first (use -o compact)");
  const { QueryClient } = await import("../../query/mod.js");
  const { apiClientOptions } = await import("../api-token.js");
  const client = new QueryClient(apiClientOptions(opts));
  const r = await render(opts);
  const { pod, label, ip, port, outcome, role } = opts;
  await queryApi(() =>
    client.followTraces(
      { pod, label, ip, port, outcome, role },
      {
        onTrace: (t) => write(opts.output === "json" ? JSON.stringify(t) : r.line(t)),
        ...(io.onFollowing ? { onOpen: io.onFollowing } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
      },
    ),
  );
}

interface TracesCliOptions extends Omit<TracesCommandOptions, "color"> {
  color: ColorMode;
  follow?: boolean;
}

export function registerTraces(program: Command): void {
  program
    .command("traces")
    .description("list traces (newest first) from the query API of `tcptrail run`; -f follows new ones")
    .option("-f, --follow", "print new traces as they are stored, until interrupted (compact unless -o json)")
    .addOption(sinceFlag("window start: a duration ago (30s, 5m, 1h30m), an RFC 3339 time, now, or µs since the epoch"))
    .addOption(untilFlag("window end, same forms as --since"))
    .option("--pod <name>", "a hop endpoint in this pod")
    .option(
      "--label <key=value>",
      "a hop endpoint whose pod has this label; repeated (or comma-separated): every label, on the same pod",
      (v: string, prev?: string) => (prev ? `${prev},${v}` : v),
    )
    .option("--ip <address>", "a hop endpoint with this address")
    .option("--port <port>", "a hop endpoint with this port (with --ip: the same endpoint)")
    .option("--outcome <names>", "comma-separated outcomes, e.g. reset_by_server,refused")
    .option("--role <role>", "where the failure began: app or sidecar")
    .option("--limit <n>", "at most this many traces (1-1000)", "50")
    .addOption(localTimeFlag())
    .addOption(apiFlag())
    .addOption(apiTokenFileFlag())
    .addOption(outputFlag(["compact", "table", "json"], "table", "with -f: compact or json"))
    .addOption(colorFlag())
    .action((cli: TracesCliOptions, cmd: Command) =>
      runCommand(cmd, async () => {
        const { useColor } = await import("../color.js");
        const { follow, color, ...rest } = cli;
        const opts: TracesCommandOptions = { ...rest, color: useColor(color) };
        const print = (l: string): void => void process.stdout.write(`${l}\n`);
        if (!follow) return runTraces(opts, print);
        if (opts.since !== undefined || opts.until !== undefined) throw new UsageError("traces -f prints traces stored from now on: --since and --until are for a listing");
        // A table is the listing's default; a follow prints lines unless told otherwise.
        if (cmd.getOptionValueSource("output") === "default") opts.output = "compact";
        const ac = new AbortController();
        const stop = (): void => ac.abort();
        process.once("SIGINT", stop).once("SIGTERM", stop);
        try {
          // A reader that went away (`| head`) ends the follow like Ctrl-C does.
          await followTraces(opts, print, { signal: AbortSignal.any([ac.signal, stdoutClosed()]) });
        } finally {
          process.off("SIGINT", stop).off("SIGTERM", stop);
        }
      }),
    );
}
