// `tcptrail alerts`: the recent alerts kept in the TCPTRAIL_ALERTS stream, or
// with --follow every new one as it is published, as text or JSON lines.
import { Option, type Command } from "commander";
import {
  alertToJson,
  followAlerts,
  formatAlertText,
  parseDuration,
  readRecentAlerts,
  type AlertReadOptions,
  type AlertReadStats,
} from "../../alert/mod.js";
import { createLogger, type Logger } from "../../log/logger.js";
import { severityFromName, type Alert } from "../../model/mod.js";
import { DEFAULT_NATS_URL, connectNats } from "../../transport/mod.js";

export interface AlertsCommandOptions {
  /** Follow live alerts instead of replaying stored ones. Default: false. */
  follow?: boolean;
  /** NATS server URL. Default (CLI): $TCPTRAIL_NATS, else nats://127.0.0.1:4222. */
  nats: string;
  /** "text" (one readable line) or "json" (one object per line). */
  output: "text" | "json";
  /** Lowest severity shown ("info", "warning", "critical"). Default: all. */
  severity?: string;
  /** How far back to replay without --follow, e.g. "1h". */
  since: string;
}

export interface AlertsCommandIo {
  /** Receives each output line (without newline). */
  write: (line: string) => void;
  /** Ends --follow. */
  signal?: AbortSignal;
  logger?: Logger;
}

export function registerAlerts(program: Command): void {
  program
    .command("alerts")
    .description("show alerts on unexpected resets: recent ones from the alerts stream, or live with --follow")
    .option("-f, --follow", "print new alerts as they are published, until interrupted")
    .addOption(new Option("--nats <url>", "NATS server").env("TCPTRAIL_NATS").default(DEFAULT_NATS_URL))
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addOption(
      new Option("--severity <level>", "show only this severity and above").choices(["info", "warning", "critical"]),
    )
    .option("--since <duration>", "without --follow: how far back to look (e.g. 30m, 1h, 2d)", "1h")
    .action(async (opts: AlertsCommandOptions) => {
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once("SIGINT", stop).once("SIGTERM", stop);
      try {
        await runAlerts(opts, { write: (line) => process.stdout.write(`${line}\n`), signal: ac.signal });
      } finally {
        process.off("SIGINT", stop).off("SIGTERM", stop);
      }
    });
}

/** The command's work, separate from commander and process signals so it can be driven directly. */
export async function runAlerts(opts: AlertsCommandOptions, io: AlertsCommandIo): Promise<AlertReadStats> {
  const log = io.logger ?? createLogger({ name: "tcptrail-alerts" });
  const since = parseDuration(opts.since);
  if ("error" in since) throw new TypeError(`--since: ${since.error}`);
  const minSeverity = opts.severity === undefined ? undefined : severityFromName(opts.severity);
  if (opts.severity !== undefined && minSeverity === undefined) throw new TypeError(`--severity: unknown ${opts.severity}`);

  const print = opts.output === "json" ? (a: Alert) => JSON.stringify(alertToJson(a)) : formatAlertText;
  const read: AlertReadOptions = {
    onAlert: (alert) => io.write(print(alert)),
    onMalformed: (err, subject) => log.warn({ subject, reason: err.message }, "skipped a message that is not an alert"),
    ...(minSeverity !== undefined ? { minSeverity } : {}),
  };

  // Throws NatsUnreachableError when no server answers; once connected, a
  // follower rides out NATS restarts (the transport reconnects forever).
  const nc = await connectNats(opts.nats, { name: "tcptrail-alerts", logger: log });
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
      stats = await readRecentAlerts(nc, { ...read, since: new Date(Date.now() - since.ms) });
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
