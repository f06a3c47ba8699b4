// `tcptrail why <trace-id|ip:port|socket-id>`: the trace drawn as its chain of
// hops, with where the failure began and the kernel's reason in one sentence.
// The API client and renderers are imported in the action.
import type { Command } from "commander";
import type { QueryClient, TraceJson } from "../../query/mod.js";
import { NotFoundError } from "../errors.js";
import { runCommand } from "../exit.js";
import { apiFlag, apiTokenFileFlag, colorFlag, outputFlag, sinceFlag, untilFlag, type ColorMode } from "../flags.js";
import { queryApi } from "../query-api.js";

export interface WhyCommandOptions {
  /** API base URL. Default (CLI): $TCPTRAIL_API, else http://127.0.0.1:7070. */
  api: string;
  /** File holding the API's bearer token. Default: $TCPTRAIL_API_TOKEN, else none. */
  apiTokenFile?: string;
  /** table: the chain of hops and the sentence; compact: the sentence alone, one line; json: the trace. */
  output: "compact" | "table" | "json";
  /** Colour the outcome (table). Default false: the CLI decides it from --color (src/cli/color.ts). */
  color?: boolean;
  /** For an ip:port target, only traces in this window (µs since the epoch; default: any). */
  since?: number;
  until?: number;
}

/** The trace a target names: itself, or the newest trace through that endpoint or socket. */
async function resolve(client: QueryClient, target: string, opts: WhyCommandOptions): Promise<TraceJson> {
  const { parseTarget } = await import("../../query/mod.js");
  const t = parseTarget(target);
  let found: TraceJson | null | undefined;
  if (t.kind === "trace") found = await client.getTrace(t.traceId);
  else if (t.kind === "endpoint") found = (await client.listTraces({ ip: t.ip, port: t.port, since: opts.since, until: opts.until, limit: 1 })).traces[0];
  else found = (await client.timeline({ socket: t.socketId, limit: 1 })).traces[0];
  if (!found) throw new NotFoundError(t.kind === "trace" ? `no trace with id ${t.traceId}` : `no stored trace goes through ${target}`);
  return found;
}

/** @throws NotFoundError when no stored trace matches the target. */
export async function runWhy(target: string, opts: WhyCommandOptions, write: (line: string) => void): Promise<void> {
  const { QueryClient, painter, renderWhy, whySentence } = await import("../../query/mod.js");
  const { apiClientOptions } = await import("../api-token.js");
  const client = new QueryClient(apiClientOptions(opts));
  const trace = await queryApi(() => resolve(client, target, opts));
  if (opts.output === "json") write(JSON.stringify(trace));
  else if (opts.output === "compact") write(`${trace.trace_id}: ${whySentence(trace)}`);
  else write(renderWhy(trace, { paint: painter(opts.color ?? false) }));
}

export function registerWhy(program: Command): void {
  program
    .command("why")
    .description("explain a trace: its hops, where the failure began and the kernel's reason")
    .argument("<target>", "a trace id, an endpoint ip:port (its newest trace), or a socket id")
    .addOption(sinceFlag("for ip:port: only traces in this window, e.g. 10m (same forms as for traces)"))
    .addOption(untilFlag("for ip:port: only traces before this"))
    .addOption(apiFlag())
    .addOption(apiTokenFileFlag())
    .addOption(outputFlag(["compact", "table", "json"], "table", "compact: the one sentence"))
    .addOption(colorFlag())
    .action((target: string, cli: Omit<WhyCommandOptions, "color"> & { color: ColorMode }, cmd: Command) =>
      runCommand(cmd, async () => {
        const { useColor } = await import("../color.js");
        await runWhy(target, { ...cli, color: useColor(cli.color) }, (l) => console.log(l));
      }),
    );
}
