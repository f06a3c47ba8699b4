// `tcptrail timeline <trace-id|ip:port|socket-id>`: every event of one
// connection (both ends) in time order, with time since the first and the
// previous. The API client and renderers are imported in the action.
import type { Command } from "commander";
import { NotFoundError } from "../errors.js";
import { runCommand } from "../exit.js";
import { apiFlag, apiTokenFileFlag, colorFlag, localTimeFlag, outputFlag, sinceFlag, untilFlag, type ColorMode } from "../flags.js";
import { queryApi } from "../query-api.js";

export interface TimelineCommandOptions {
  /** API base URL. Default (CLI): $TCPTRAIL_API, else http://127.0.0.1:7070. */
  api: string;
  /** File holding the API's bearer token. Default: $TCPTRAIL_API_TOKEN, else none. */
  apiTokenFile?: string;
  /** table: aligned under a header; compact: the same fields, one line per event; json: one event object per line. */
  output: "compact" | "table" | "json";
  /** Colour resets, FINs and outcomes (compact, table). Default false: the CLI decides it from --color (src/cli/color.ts). */
  color?: boolean;
  /** Only events after this, µs since the epoch. */
  since?: number;
  /** Only events before this, µs since the epoch. */
  until?: number;
  limit?: string;
  /** Times in the local zone instead of UTC. */
  local?: boolean;
}

/** @throws NotFoundError when nothing is stored for the target (in the window). */
export async function runTimeline(target: string, opts: TimelineCommandOptions, write: (line: string) => void): Promise<void> {
  const { QueryClient, painter, parseTarget, renderTimeline, targetParams } = await import("../../query/mod.js");
  const { apiClientOptions } = await import("../api-token.js");
  const client = new QueryClient(apiClientOptions(opts));
  const tl = await queryApi(() =>
    client.timeline({ ...targetParams(parseTarget(target)), since: opts.since, until: opts.until, limit: opts.limit }),
  );
  if (tl.events.length === 0 && tl.traces.length === 0) {
    const window = opts.since !== undefined || opts.until !== undefined ? " in that time window" : "";
    throw new NotFoundError(`no stored events or traces for ${target}${window}`);
  }
  if (opts.output === "json") for (const e of tl.events) write(JSON.stringify(e));
  else write(renderTimeline(tl, { local: opts.local ?? false, paint: painter(opts.color ?? false), layout: opts.output }));
}

export function registerTimeline(program: Command): void {
  program
    .command("timeline")
    .description("the events of one connection in time order, both ends, with deltas")
    .argument("<target>", "a trace id, an endpoint ip:port, or a socket id node/sock/birth_ts")
    .addOption(sinceFlag("only events after: a duration ago (30s, 5m, 1h30m), an RFC 3339 time, now, or µs since the epoch"))
    .addOption(untilFlag("only events before, same forms as --since"))
    .option("--limit <n>", "at most this many events (1-10000)")
    .addOption(localTimeFlag())
    .addOption(apiFlag())
    .addOption(apiTokenFileFlag())
    .addOption(outputFlag(["compact", "table", "json"], "table"))
    .addOption(colorFlag())
    .action((target: string, cli: Omit<TimelineCommandOptions, "color"> & { color: ColorMode }, cmd: Command) =>
      runCommand(cmd, async () => {
        const { useColor } = await import("../color.js");
        await runTimeline(target, { ...cli, color: useColor(cli.color) }, (l) => console.log(l));
      }),
    );
}
