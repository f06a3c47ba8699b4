// `tcptrail alerts`: the recent alerts kept in the TCPTRAIL_ALERTS stream, or
// with --follow every new one as it is published, one line each or as JSON
// lines. The alert reader (and with it the NATS client) is imported in the action.
import { Option, type Command } from "commander";
import type { AlertReadOptions, AlertReadStats } from "../../alert/mod.js";
import type { Logger } from "../../log/logger.js";
import type { Alert } from "../../model/mod.js";
import { UsageError } from "../errors.js";
import { runCommand } from "../exit.js";
import { colorFlag, localTimeFlag, natsAuthFlags, natsFlag, outputFlag, sinceFlag, readerStateDirFlag, type ColorMode } from "../flags.js";
import { natsAuthFromFlags, type NatsAuthFlagValues } from "../nats-auth.js";
import { stdoutClosed } from "../stdout.js";

/** How far back `tcptrail alerts` looks without --since. */
export const DEFAULT_ALERTS_LOOKBACK_MS = 3_600_000;

export interface AlertsCommandOptions extends NatsAuthFlagValues {
  /** Follow live alerts instead of replaying stored ones. Default: false. */
  follow?: boolean;
  /** NATS server URL. Default (CLI): $TCPTRAIL_NATS, else nats://127.0.0.1:4222. */
  nats: string;
  /** "compact" (one readable line; `-o text` is an alias) or "json" (one object per line). */
  output: "compact" | "json";
  /** Lowest severity shown ("info", "warning", "critical"). Default: all. */
  severity?: string;
  /** Without follow: replay alerts from this time on, µs since the epoch. Default: DEFAULT_ALERTS_LOOKBACK_MS ago. */
  since?: number;
  /** Times in the local zone instead of UTC. */
  local?: boolean;
  /** Colour the severity (compact). Default false: the CLI decides it from --color (src/cli/color.ts). */
  color?: boolean;
  /** `tcptrail run`'s state dir: its reader's NATS credentials when no --nats-* is given. Default: none looked for. */
  stateDir?: string;
}

export interface AlertsCommandIo {
  /** Receives each output line (without newline). */
  write: (line: string) => void;
  /** Ends --follow. */
  signal?: AbortSignal;
  logger?: Logger;
}

export function registerAlerts(program: Command): void {
  const alerts = program
    .command("alerts")
    .description("show alerts on unexpected resets: recent ones from the alerts stream, or live with --follow")
    .option("-f, --follow", "print new alerts as they are published, until interrupted")
    .addOption(natsFlag())
    .addOption(outputFlag(["compact", "json"], "compact", "no table: a stream of alerts has no last row to align columns to"))
    .addOption(
      new Option("--severity <level>", "show only this severity and above").choices(["info", "warning", "critical"]),
    )
    .addOption(colorFlag())
    .addOption(localTimeFlag())
    .addOption(sinceFlag("without --follow: from when (a duration ago like 30m, 1h30m, 2d, an RFC 3339 time, ...; default 1h ago)"))
    .addOption(readerStateDirFlag());
  for (const o of natsAuthFlags()) alerts.addOption(o);
  alerts.action((cli: Omit<AlertsCommandOptions, "color"> & { color: ColorMode }, cmd: Command) =>
    runCommand(cmd, async () => {
      const { useColor } = await import("../color.js");
      const opts: AlertsCommandOptions = { ...cli, color: useColor(cli.color) };
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once("SIGINT", stop).once("SIGTERM", stop);
      try {
        await runAlerts(opts, {
          write: (line) => process.stdout.write(`${line}\n`),
          // A reader that went away (`| head`) ends a follow like Ctrl-C does.
          signal: AbortSignal.any([ac.signal, stdoutClosed()]),
        });
      } finally {
        process.off("SIGINT", stop).off("SIGTERM", stop);
      }
    }),
  );
}

/** The command's work, separate from commander and process signals so it can be driven directly. */
export async function runAlerts(opts: AlertsCommandOptions, io: AlertsCommandIo): Promise<AlertReadStats> {
  const { alertToJson, followAlerts, formatAlertText, readRecentAlerts } = await import("../../alert/mod.js");
  const { createLogger } = await import("../../log/logger.js");
  const { severityFromName } = await import("../../model/mod.js");
  const { connectNats } = await import("../../transport/mod.js");
  const log = io.logger ?? createLogger({ name: "tcptrail-alerts" });
  const minSeverity = opts.severity === undefined ? undefined : severityFromName(opts.severity);
  if (opts.severity !== undefined && minSeverity === undefined) throw new UsageError(`--severity: unknown ${opts.severity}`);
  const sinceMs = opts.since !== undefined ? Math.floor(opts.since / 1_000) : Date.now() - DEFAULT_ALERTS_LOOKBACK_MS;

  const { painter } = await import("../../query/render-color.js");
  const text = { local: opts.local ?? false, paint: painter(opts.color ?? false) };
  const print = opts.output === "json" ? (a: Alert) => JSON.stringify(alertToJson(a)) : (a: Alert) => formatAlertText(a, text);
  const read: AlertReadOptions = {
    onAlert: (alert) => io.write(print(alert)),
    onMalformed: (err, subject) => log.warn({ subject, reason: err.message }, "skipped a message that is not an alert"),
    ...(minSeverity !== undefined ? { minSeverity } : {}),
  };

  // Throws NatsUnreachableError when no server answers; once connected, a
  // follower rides out NATS restarts (the transport reconnects forever).
  const natsAuth = natsAuthFromFlags(opts, opts.stateDir);
  const nc = await connectNats(opts.nats, { name: "tcptrail-alerts", logger: log, ...(natsAuth ? { auth: natsAuth } : {}) });
  let stats: AlertReadStats;
  try {
    if (opts.follow) {
      const follower = followAlerts(nc, read);
      // Make sure the server has the subscription before anyone relies on it.
      await nc.flush();
      await untilAborted(io.signal, follower.closed);
      await follower.stop();
      stats = follower.stats();
    } else {
      stats = await readRecentAlerts(nc, { ...read, since: new Date(sinceMs) });
    }
  } finally {
    await nc.drain().catch(() => undefined);
  }
  if (stats.malformed > 0) log.warn({ malformed: stats.malformed }, "messages skipped: not alerts");
  return stats;
}

function untilAborted(signal: AbortSignal | undefined, closed: Promise<void>): Promise<void> {
  if (!signal) return closed;
  if (signal.aborted) return Promise.resolve();
  return Promise.race([closed, new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }))]);
}
