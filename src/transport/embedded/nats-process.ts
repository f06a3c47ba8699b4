// One nats-server process: spawned, waited for until it accepts clients, and
// ended in order. Supervision (restarts, stale servers) is ../embedded-nats.ts.
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { execa, type ResultPromise } from "execa";
import { NatsServerStartError } from "../errors.js";

const READY = "Server is ready";
const STDERR_TAIL = 4096;
/** util-linux's setpriv: sets PR_SET_PDEATHSIG and execs the server in place, so the pid stays the server's. */
const SETPRIV = "/usr/bin/setpriv";

export interface NatsProcessSpec {
  binary: string;
  storeDir: string;
  pidFile: string;
  host: string;
  port: number;
  readyTimeoutMs: number;
  /** A config file (`-c`): the users and their permissions; the command line's address, port and JetStream dir win over it. */
  configFile?: string;
}

export interface NatsProcess {
  pid: number;
  /** Settles when the process has exited, for whatever reason. */
  exited: Promise<{ exitCode?: number; signal?: string; stderr: string }>;
  /** SIGTERM, then SIGKILL after graceMs. Idempotent. */
  stop(graceMs: number): Promise<void>;
}

let setprivUsable: Promise<boolean> | undefined;
const hasSetpriv = (): Promise<boolean> =>
  (setprivUsable ??= access(SETPRIV, constants.X_OK).then(
    () => true,
    () => false,
  ));

/**
 * Start the server and resolve once it accepts clients.
 * @throws NatsServerStartError with the tail of what it printed.
 */
export async function spawnNatsProcess(spec: NatsProcessSpec): Promise<NatsProcess> {
  const args = [
    ...(spec.configFile !== undefined ? ["-c", spec.configFile] : []),
    ...["-js", "-sd", spec.storeDir, "-a", spec.host, "-p", String(spec.port), "-P", spec.pidFile],
  ];
  // The server runs in its own process group (below), so a Ctrl-C or a
  // kill -9 of tcptrail does not reach it; without a death signal it would
  // outlive a crashed tcptrail and hold the port and the JetStream directory.
  // SIGTERM, not SIGKILL: the server then flushes its stream files.
  const [file, argv] = (await hasSetpriv())
    ? [SETPRIV, ["--pdeathsig", "TERM", "--", spec.binary, ...args]]
    : [spec.binary, args];
  const child: ResultPromise<{ stdin: "ignore"; stdout: "ignore"; stderr: "pipe"; reject: false; detached: true }> = execa(
    file,
    argv,
    {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
      reject: false,
      // Its own process group: a Ctrl-C meant for tcptrail must not kill the
      // server before the agent has flushed its last batch; stop() ends it in
      // order, and the death signal if tcptrail dies first.
      detached: true,
      // stop() does its own escalation; don't let execa race it.
      forceKillAfterDelay: false,
      buffer: false,
    },
  );
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stderr = "";
  const exited = child.then((r) => {
    process.off("exit", killOnExit);
    return { ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), ...(r.signal ? { signal: r.signal } : {}), stderr };
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new NatsServerStartError(`nats-server not ready after ${spec.readyTimeoutMs} ms`, { stderr })),
      spec.readyTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
      if (stderr.includes(READY)) done();
    };
    const done = () => {
      clearTimeout(timer);
      // Keep draining (and keep the tail for the exit report) so a chatty
      // server never blocks on a full pipe.
      child.stderr.off("data", onData);
      child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL)));
      resolve();
    };
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.stderr.off("data", onData);
      child.kill("SIGKILL");
      reject(e);
    };
    child.stderr.on("data", onData);
    void exited.then((r) => {
      if (!stderr.includes(READY)) fail(new NatsServerStartError(`nats-server exited (${r.exitCode ?? r.signal})`, { stderr }));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new NatsServerStartError("nats-server did not start", { stderr });

  let stopping: Promise<void> | undefined;
  return {
    pid,
    exited,
    stop(graceMs: number): Promise<void> {
      stopping ??= (async () => {
        if (hasExited) return;
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(t);
      })();
      return stopping;
    },
  };
}
