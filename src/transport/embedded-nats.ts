// A private nats-server with JetStream, for single-node installs and tests:
// same binary and protocol as a real deployment, state kept under stateDir.
import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { NatsServerMissingError, NatsServerStartError } from "./errors.js";

export interface EmbeddedNatsOptions {
  /** JetStream data goes to `<stateDir>/jetstream`. Created if missing. */
  stateDir: string;
  /** Client port. Default: a free port picked at start. */
  port?: number;
  /** Listen address. Default 127.0.0.1 (never exposed beyond loopback unless asked). */
  host?: string;
  /** nats-server binary. Default: /usr/sbin/nats-server, else `nats-server` on PATH. */
  binary?: string;
  /** How long to wait for "Server is ready". Default 10 000 ms. */
  readyTimeoutMs?: number;
}

export interface EmbeddedNats {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL after graceMs (default 5000). Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const READY = "Server is ready";
const STDERR_TAIL = 4096;

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
 * Start nats-server with JetStream and resolve once it accepts clients. The
 * process is killed if this Node process exits (execa's cleanup), and by stop().
 * @throws NatsServerMissingError, NatsServerStartError
 */
export async function startEmbeddedNats(opts: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  const binary = await findBinary(opts.binary);
  const host = opts.host ?? "127.0.0.1";
  const storeDir = join(opts.stateDir, "jetstream");
  await mkdir(storeDir, { recursive: true });
  // A picked port can be taken by someone else before nats-server binds it: retry then.
  const attempts = opts.port === undefined ? 3 : 1;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port ?? (await freePort(host));
    try {
      return await spawnServer(binary, storeDir, host, port, opts.readyTimeoutMs ?? 10_000);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

async function spawnServer(
  binary: string,
  storeDir: string,
  host: string,
  port: number,
  readyTimeoutMs: number,
): Promise<EmbeddedNats> {
  const child: ResultPromise<{ stdin: "ignore"; stdout: "ignore"; stderr: "pipe"; reject: false; detached: true }> =
    execa(binary, ["-js", "-sd", storeDir, "-a", host, "-p", String(port)], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
      reject: false,
      // Its own process group: a Ctrl-C meant for tcptrail must not kill the
      // server before the agent has flushed its last batch; stop() ends it in
      // order, and the exit hook below if tcptrail dies first.
      detached: true,
      // stop() does its own escalation; don't let execa race it.
      forceKillAfterDelay: false,
      buffer: false,
    });
  const pid = child.pid;
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stderr = "";
  let exited = false;
  const exit = child.then((r) => {
    exited = true;
    process.off("exit", killOnExit);
    return r;
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new NatsServerStartError(`nats-server not ready after ${readyTimeoutMs} ms`, { stderr })), readyTimeoutMs);
    const onData = (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
      if (stderr.includes(READY)) done();
    };
    const done = () => {
      clearTimeout(timer);
      child.stderr.off("data", onData);
      // Keep draining so a chatty server never blocks on a full pipe.
      child.stderr.resume();
      resolve();
    };
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.stderr.off("data", onData);
      child.kill("SIGKILL");
      reject(e);
    };
    child.stderr.on("data", onData);
    void exit.then((r) => {
      if (!stderr.includes(READY)) fail(new NatsServerStartError(`nats-server exited (${r.exitCode ?? r.signal})`, { stderr }));
    });
  });
  if (pid === undefined) throw new NatsServerStartError("nats-server did not start", { stderr });

  let stopping: Promise<void> | undefined;
  return {
    url: `nats://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    pid,
    stop(graceMs = 5000): Promise<void> {
      stopping ??= (async () => {
        if (exited) return;
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exit;
        clearTimeout(t);
      })();
      return stopping;
    },
  };
}
