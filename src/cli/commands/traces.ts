// `tcptrail traces`: stored traces from the query API, newest first, as a
// table or as JSON lines (one trace object per line). The API client and
// renderers are imported in the action, so other commands never load them.
import type { Command } from "commander";
import { runCommand } from "../exit.js";
import { apiFlag, apiTokenFileFlag, localTimeFlag, outputFlag, sinceFlag, untilFlag } from "../flags.js";
import { queryApi } from "../query-api.js";

export interface TracesCommandOptions {
  /** API base URL. Default (CLI): $TCPTRAIL_API, else http://127.0.0.1:7070. */
  api: string;
  /** File holding the API's bearer token. Default: $TCPTRAIL_API_TOKEN, else none. */
  apiTokenFile?: string;
  output: "table" | "json";
  /** Window start, µs since the epoch (the CLI parses --since into this). */
  since?: number;
  /** Window end, µs since the epoch. */
  until?: number;
  pod?: string;
  ip?: string;
  port?: string;
  outcome?: string;
  role?: string;
  /** Default (CLI): 50. The API caps it at 1000. */
  limit?: string;
  /** Times in the local zone instead of UTC. */
  local?: boolean;
}

/** Writes each output line through `write`; the API validates every filter. */
export async function runTraces(opts: TracesCommandOptions, write: (line: string) => void): Promise<void> {
  const { QueryClient, renderTraceTable } = await import("../../query/mod.js");
  const { apiClientOptions } = await import("../api-token.js");
  const { api, apiTokenFile, output, local, ...filters } = opts;
  const client = new QueryClient(apiClientOptions({ api, apiTokenFile }));
  const page = await queryApi(() => client.listTraces(filters));
  if (output === "json") for (const t of page.traces) write(JSON.stringify(t));
  else write(renderTraceTable(page.traces, { local: local ?? false }));
}

export function registerTraces(program: Command): void {
  program
    .command("traces")
    .description("list traces (newest first) from the query API of `tcptrail run`")
    .addOption(sinceFlag("window start: a duration ago (30s, 5m, 1h30m), an RFC 3339 time, now, or µs since the epoch"))
    .addOption(untilFlag("window end, same forms as --since"))
    .option("--pod <name>", "a hop endpoint in this pod")
    .option("--ip <address>", "a hop endpoint with this address")
    .option("--port <port>", "a hop endpoint with this port (with --ip: the same endpoint)")
    .option("--outcome <names>", "comma-separated outcomes, e.g. reset_by_server,refused")
    .option("--role <role>", "where the failure began: app or sidecar")
    .option("--limit <n>", "at most this many traces (1-1000)", "50")
    .addOption(localTimeFlag())
    .addOption(apiFlag())
    .addOption(apiTokenFileFlag())
    .addOption(outputFlag(["table", "json"], "table"))
    .action((opts: TracesCommandOptions, cmd: Command) => runCommand(cmd, () => runTraces(opts, (l) => console.log(l))));
}
