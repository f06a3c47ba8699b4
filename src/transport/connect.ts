// One place that decides how tcptrail talks to NATS: reconnect forever (an agent
// must outlive a NATS restart) and say so in the logs when the link flaps.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { silentLogger, type Logger } from "../log/logger.js";
import { NatsUnreachableError } from "./errors.js";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

export interface ConnectNatsOptions {
  /** Client name shown by the server (`nats server report connections`). Default "tcptrail". */
  name?: string;
  /** Default: silent. */
  logger?: Logger;
  /** Delay between reconnect attempts. Default 1000 ms. */
  reconnectTimeWaitMs?: number;
  /** Reconnect attempts before giving up; -1 is forever. Default -1. */
  maxReconnectAttempts?: number;
  /** Timeout of the first connection. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Connect to NATS. Only the first connection can fail: after that the client
 * reconnects by itself and buffers what is published meanwhile.
 * @throws NatsUnreachableError when no server answers at url.
 */
export async function connectNats(url: string, opts: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const log = opts.logger ?? silentLogger;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: url,
      name: opts.name ?? "tcptrail",
      maxReconnectAttempts: opts.maxReconnectAttempts ?? -1,
      reconnectTimeWait: opts.reconnectTimeWaitMs ?? 1000,
      timeout: opts.timeoutMs ?? 5000,
    });
  } catch (e) {
    throw new NatsUnreachableError(
      `cannot reach NATS at ${url}: is nats-server running? (start one with \`nats-server -js\`, or pass --nats <url>)`,
      { url, cause: e },
    );
  }
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case "disconnect":
          log.warn({ server: s.server }, "NATS disconnected");
          break;
        case "reconnect":
          log.info({ server: s.server }, "NATS reconnected");
          break;
        case "error":
          log.warn({ err: s.error }, "NATS error");
          break;
        case "staleConnection":
          log.warn("NATS connection stale");
          break;
        case "ldm":
          log.info({ server: s.server }, "NATS server entering lame duck mode");
          break;
        default:
          log.debug({ status: s.type }, "NATS status");
      }
    }
  })().catch(() => undefined);
  return nc;
}
