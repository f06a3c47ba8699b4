// One pino logger for the process. Logs go to stderr so that stdout stays
// clean for command output (observe, traces -o json).
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino(
    { name: opts.name ?? "tcptrail", level: opts.level ?? process.env.TCPTRAIL_LOG_LEVEL ?? "info" },
    pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that discards everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: "silent" });
