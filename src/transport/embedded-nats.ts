// A private nats-server with JetStream, for single-node installs and tests:
// same binary and protocol as a real deployment, state kept under stateDir.
// It is supervised: restarted on the same port when it dies (clients
// reconnect by themselves and the agent's bounded queue holds events
// meanwhile, deduplicated by message id when they flow again), killed with
// tcptrail, and a server left by a crashed run is replaced at start.
import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { silentLogger, type Logger } from "../log/logger.js";
import { createEmbeddedAuth, type EmbeddedNatsAuth } from "./embedded/auth-config.js";
import { spawnNatsProcess, type NatsProcess, type NatsProcessSpec } from "./embedded/nats-process.js";
import type { RolePermissionsOptions } from "./embedded/role-permissions.js";
import { replaceStaleServer } from "./embedded/stale-server.js";
import { NatsServerMissingError } from "./errors.js";

/** First wait before restarting a server that died; doubles up to DEFAULT_RESTART_MAX_MS. */
export const DEFAULT_RESTART_MIN_MS = 100;
export const DEFAULT_RESTART_MAX_MS = 5000;
/** How long to wait for "Server is ready". */
export const DEFAULT_NATS_READY_TIMEOUT_MS = 10_000;
/** SIGTERM grace for a stale server found at start. */
const STALE_GRACE_MS = 5000;

export interface EmbeddedNatsOptions {
  /** JetStream data goes to `<stateDir>/jetstream`, the pid file to `<stateDir>/nats-server.pid`. Created if missing. */
  stateDir: string;
  /** Client port. Default: a free port picked at start (and kept across restarts). */
  port?: number;
  /** Listen address. Default 127.0.0.1 (never exposed beyond loopback unless asked). */
  host?: string;
  /** nats-server binary. Default: /usr/sbin/nats-server, else `nats-server` on PATH. */
  binary?: string;
  /** How long to wait for "Server is ready". Default DEFAULT_NATS_READY_TIMEOUT_MS (10 000 ms). */
  readyTimeoutMs?: number;
  /** Restart the server when it dies. Default true. */
  restart?: boolean;
  /** Backoff between restart attempts, ms. Default DEFAULT_RESTART_MIN_MS (100) doubling to DEFAULT_RESTART_MAX_MS (5000). */
  restartMinMs?: number;
  restartMaxMs?: number;
  /** Default: silent. */
  log?: Logger;
  /**
   * Require credentials: one nkey user per role (agent, consumer, reader)
   * with its subject permissions, keys made fresh at this start, the config
   * and the reader's seed written 0600 into stateDir; anonymous clients are
   * refused. `true` or the roles' options (the consumer's durable name).
   * Default false: an open server, for tests and benches (`tcptrail run`
   * turns it on).
   */
  auth?: boolean | RolePermissionsOptions;
}

export interface EmbeddedNats {
  url: string;
  port: number;
  /** The running server's pid (changes when it is restarted). */
  readonly pid: number;
  /** Times the server was restarted after dying. */
  readonly restarts: number;
  /** The pid of a server left by an earlier run that was stopped at start, if any. */
  readonly replacedStalePid: number | undefined;
  /** With the auth option: each role's credentials (secrets: never log them) and the files written. */
  readonly auth: EmbeddedNatsAuth | undefined;
  /** SIGTERM, then SIGKILL after graceMs (default 5000); no restart after. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findBinary(explicit: string | undefined): Promise<string> {
  const candidates = explicit
    ? [explicit]
    : ["/usr/sbin/nats-server", ...(process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, "nats-server"))];
  for (const c of candidates) if (await isExecutable(c)) return c;
  const binary = explicit ?? "nats-server";
  throw new NatsServerMissingError(`${binary} not found: install it: apt-get install nats-server`, { binary });
}

/** Ask the kernel for a free port on host. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      // A listening TCP server always has an address object: plain Error for the impossible.
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Start nats-server with JetStream and resolve once it accepts clients.
 * @throws NatsServerMissingError, NatsServerStartError
 */
export async function startEmbeddedNats(opts: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  const binary = await findBinary(opts.binary);
  const log = opts.log ?? silentLogger;
  const host = opts.host ?? "127.0.0.1";
  const storeDir = join(opts.stateDir, "jetstream");
  const pidFile = join(opts.stateDir, "nats-server.pid");
  await mkdir(storeDir, { recursive: true });
  const stale = await replaceStaleServer(pidFile, storeDir, STALE_GRACE_MS);
  if (stale) {
    log.warn({ pid: stale.pid }, `stopped nats-server pid ${stale.pid}, left running on ${opts.stateDir} by an earlier tcptrail run that did not stop it`);
  }
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_NATS_READY_TIMEOUT_MS;
  // Once per start: a server restarted by the supervisor reads the same users, so connected clients log in again.
  const auth = opts.auth ? await createEmbeddedAuth(opts.stateDir, opts.auth === true ? {} : opts.auth) : undefined;
  // A picked port can be taken by someone else before nats-server binds it: retry then.
  const attempts = opts.port === undefined ? 3 : 1;
  let first: { proc: NatsProcess; spec: NatsProcessSpec } | undefined;
  let last: unknown;
  for (let i = 0; i < attempts && !first; i++) {
    const spec: NatsProcessSpec = {
      binary,
      storeDir,
      pidFile,
      host,
      port: opts.port ?? (await freePort(host)),
      readyTimeoutMs,
      ...(auth ? { configFile: auth.configFile } : {}),
    };
    try {
      first = { proc: await spawnNatsProcess(spec), spec };
    } catch (e) {
      last = e;
    }
  }
  if (!first) throw last;
  return supervise(first.proc, first.spec, opts, log, stale?.pid, auth);
}

function supervise(
  initial: NatsProcess,
  spec: NatsProcessSpec,
  opts: EmbeddedNatsOptions,
  log: Logger,
  replacedStalePid: number | undefined,
  auth: EmbeddedNatsAuth | undefined,
): EmbeddedNats {
  const minMs = opts.restartMinMs ?? DEFAULT_RESTART_MIN_MS;
  const maxMs = opts.restartMaxMs ?? DEFAULT_RESTART_MAX_MS;
  let current = initial;
  let restarts = 0;
  let stopped = false;
  let restarting: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;

  const watch = (proc: NatsProcess): void => {
    void proc.exited.then((r) => {
      if (stopped || opts.restart === false) return;
      log.error(
        { pid: proc.pid, exitCode: r.exitCode, signal: r.signal, stderr: r.stderr.trim().split("\n").slice(-3).join(" | ") },
        "embedded nats-server died; restarting it",
      );
      restarting = restart();
    });
  };

  const restart = async (): Promise<void> => {
    let delay = minMs;
    while (!stopped) {
      // Interruptible: stop() must not wait out a 5 s backoff.
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
      wake = undefined;
      if (stopped) return;
      try {
        const proc = await spawnNatsProcess(spec);
        if (stopped) {
          await proc.stop(1000);
          return;
        }
        current = proc;
        restarts++;
        log.warn({ pid: proc.pid, restarts, port: spec.port }, "embedded nats-server restarted");
        watch(proc);
        return;
      } catch (err) {
        log.error({ err, retryInMs: Math.min(delay * 2, maxMs) }, "restarting the embedded nats-server failed");
        delay = Math.min(delay * 2, maxMs);
      }
    }
  };

  watch(initial);
  return {
    url: `nats://${spec.host.includes(":") ? `[${spec.host}]` : spec.host}:${spec.port}`,
    port: spec.port,
    get pid() {
      return current.pid;
    },
    get restarts() {
      return restarts;
    },
    replacedStalePid,
    auth,
    async stop(graceMs = 5000): Promise<void> {
      stopped = true;
      wake?.();
      await restarting;
      await current.stop(graceMs);
    },
  };
}
