// `tcptrail why <trace-id|ip:port|socket-id>`: the trace drawn as its chain of
// hops, with where the failure began and the kernel's reason in one sentence.
import { Option, type Command } from "commander";
import { DEFAULT_API_URL, QueryClient, parseTarget, renderWhy, type TraceJson } from "../../query/mod.js";

export interface WhyCommandOptions {
  /** API base URL. Default (CLI): $TCPTRAIL_API, else http://127.0.0.1:7070. */
  api: string;
  output: "table" | "json";
  /** For an ip:port target, only traces in this window (default: any). */
  since?: string;
}

/** The trace a target names: itself, or the newest trace through that endpoint or socket. */
async function resolve(client: QueryClient, target: string, since?: string): Promise<TraceJson> {
  const t = parseTarget(target);
  let found: TraceJson | null | undefined;
  if (t.kind === "trace") found = await client.getTrace(t.traceId);
  else if (t.kind === "endpoint") found = (await client.listTraces({ ip: t.ip, port: t.port, since, limit: 1 })).traces[0];
  else found = (await client.timeline({ socket: t.socketId, limit: 1 })).traces[0];
  if (!found) throw new Error(t.kind === "trace" ? `no trace with id ${t.traceId}` : `no stored trace goes through ${target}`);
  return found;
}

export async function runWhy(target: string, opts: WhyCommandOptions, write: (line: string) => void): Promise<void> {
  const trace = await resolve(new QueryClient({ url: opts.api }), target, opts.since);
  write(opts.output === "json" ? JSON.stringify(trace) : renderWhy(trace));
}

export function registerWhy(program: Command): void {
  program
    .command("why")
    .description("explain a trace: its hops, where the failure began and the kernel's reason")
    .argument("<target>", "a trace id, an endpoint ip:port (its newest trace), or a socket id")
    .option("--since <time>", "for ip:port: only traces in this window, e.g. 10m")
    .option("--api <url>", "query API base URL", process.env.TCPTRAIL_API ?? DEFAULT_API_URL)
    .addOption(new Option("-o, --output <format>", "table, or json (the trace as one line)").choices(["table", "json"]).default("table"))
    .action((target: string, opts: WhyCommandOptions) => runWhy(target, opts, (l) => console.log(l)));
}
