// `tcptrail timeline <trace-id|ip:port|socket-id>`: every event of one
// connection (both ends) in time order, with time since the first and the previous.
import { Option, type Command } from "commander";
import { DEFAULT_API_URL, QueryClient, parseTarget, renderTimeline, targetParams } from "../../query/mod.js";

export interface TimelineCommandOptions {
  /** API base URL. Default (CLI): $TCPTRAIL_API, else http://127.0.0.1:7070. */
  api: string;
  output: "table" | "json";
  since?: string;
  until?: string;
  limit?: string;
}

export async function runTimeline(target: string, opts: TimelineCommandOptions, write: (line: string) => void): Promise<void> {
  const client = new QueryClient({ url: opts.api });
  const tl = await client.timeline({ ...targetParams(parseTarget(target)), since: opts.since, until: opts.until, limit: opts.limit });
  if (opts.output === "json") for (const e of tl.events) write(JSON.stringify(e));
  else write(renderTimeline(tl));
}

export function registerTimeline(program: Command): void {
  program
    .command("timeline")
    .description("the events of one connection in time order, both ends, with deltas")
    .argument("<target>", "a trace id, an endpoint ip:port, or a socket id node/sock/birth_ts")
    .option("--since <time>", "only events after: a duration ago (5m) or an RFC3339 time")
    .option("--until <time>", "only events before: a duration ago or an RFC3339 time")
    .option("--limit <n>", "at most this many events (1-10000)")
    .option("--api <url>", "query API base URL", process.env.TCPTRAIL_API ?? DEFAULT_API_URL)
    .addOption(new Option("-o, --output <format>", "table, or json (one event per line)").choices(["table", "json"]).default("table"))
    .action((target: string, opts: TimelineCommandOptions) => runTimeline(target, opts, (l) => console.log(l)));
}
