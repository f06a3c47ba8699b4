// `tcptrail traces`: stored traces from the query API, newest first, as a
// table or as JSON lines (one trace object per line).
import { Option, type Command } from "commander";
import { DEFAULT_API_URL, QueryClient, renderTraceTable } from "../../query/mod.js";

export interface TracesCommandOptions {
  /** API base URL. Default (CLI): $TCPTRAIL_API, else http://127.0.0.1:7070. */
  api: string;
  output: "table" | "json";
  since?: string;
  until?: string;
  pod?: string;
  ip?: string;
  port?: string;
  outcome?: string;
  role?: string;
  /** Default (CLI): 50. The API caps it at 1000. */
  limit?: string;
}

/** Writes each output line through `write`; the API validates every filter. */
export async function runTraces(opts: TracesCommandOptions, write: (line: string) => void): Promise<void> {
  const client = new QueryClient({ url: opts.api });
  const { api: _api, output, ...filters } = opts;
  const page = await client.listTraces(filters);
  if (output === "json") for (const t of page.traces) write(JSON.stringify(t));
  else write(renderTraceTable(page.traces));
}

export function registerTraces(program: Command): void {
  program
    .command("traces")
    .description("list traces (newest first) from the query API of `tcptrail run`")
    .option("--since <time>", "window start: a duration ago (30s, 5m, 2h) or an RFC3339 time")
    .option("--until <time>", "window end: a duration ago or an RFC3339 time")
    .option("--pod <name>", "a hop endpoint in this pod")
    .option("--ip <address>", "a hop endpoint with this address")
    .option("--port <port>", "a hop endpoint with this port (with --ip: the same endpoint)")
    .option("--outcome <names>", "comma-separated outcomes, e.g. reset_by_server,refused")
    .option("--role <role>", "where the failure began: app or sidecar")
    .option("--limit <n>", "at most this many traces (1-1000)", "50")
    .option("--api <url>", "query API base URL", process.env.TCPTRAIL_API ?? DEFAULT_API_URL)
    .addOption(new Option("-o, --output <format>", "table, or json (one object per line)").choices(["table", "json"]).default("table"))
    .action((opts: TracesCommandOptions) => runTraces(opts, (l) => console.log(l)));
}
