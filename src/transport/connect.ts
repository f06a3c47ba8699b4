// One place that decides how tcptrail talks to NATS: reconnect forever (an agent
// must outlive a NATS restart) and say so in the logs when the link flaps.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { silentLogger, type Logger } from "../log/logger.js";
import { natsAuthConnectOptions, type NatsAuthOptions } from "./auth/nats-auth.js";
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
  /** Credentials and TLS (auth/nats-auth.ts). Default: none (anonymous, plain TCP). */
  auth?: NatsAuthOptions;
}

/**
 * Connect to NATS. Only the first connection can fail: after that the client
 * reconnects by itself and buffers what is published meanwhile.
 * @throws NatsAuthError (before connecting) when a credentials or TLS file cannot be used.
 * @throws NatsUnreachableError when no server answers at url, or it refuses the credentials.
 */
export async function connectNats(url: string, opts: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const log = opts.logger ?? silentLogger;
  const auth = natsAuthConnectOptions(opts.auth);
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...auth,
      // A cluster is given as "nats://a:4222,nats://b:4222": the client tries
      // each and, once connected, fails over between them (and the servers
      // the cluster announces) when its server goes away.
      servers: natsServers(url),
      name: opts.name ?? "tcptrail",
      maxReconnectAttempts: opts.maxReconnectAttempts ?? -1,
      reconnectTimeWait: opts.reconnectTimeWaitMs ?? 1000,
      timeout: opts.timeoutMs ?? 5000,
    });
  } catch (e) {
    throw new NatsUnreachableError(unreachableMessage(url, e), { url, cause: e });
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

/** The comma-separated server list of a --nats value; one URL stays one. */
export function natsServers(url: string): string[] {
  const servers = url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return servers.length > 0 ? servers : [url];
}

/** Why the first connection failed, in words that say what to change: a refused credential is not a missing server. */
function unreachableMessage(url: string, cause: unknown): string {
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (/authorization violation|authentication/i.test(reason)) {
    return `NATS at ${url} refused the credentials (${reason}): give them with --nats-creds, --nats-nkey, --nats-user and --nats-password-file, or --nats-token-file (or their TCPTRAIL_NATS_* variables)`;
  }
  if (/tls|certificate|ssl/i.test(reason)) return `TLS with NATS at ${url} failed (${reason}): check --nats-tls-ca, --nats-tls-cert and --nats-tls-key`;
  return `cannot reach NATS at ${url}: is nats-server running? (start one with \`nats-server -js\`, or pass --nats <url>)`;
}
