// A 3-server nats-server cluster on loopback for failover tests: JetStream on
// every server, each with its own store dir under one private temp dir, full
// mesh routes, one cluster name. Ready once JetStream's meta group has a
// leader and `$JS.API.INFO` answers (before that a stream create fails with
// "JetStream system temporarily unavailable", which would look like a bug in
// the code under test). Servers are killed and restarted by pid; close()
// kills every one still running and removes the dir, also after a failure.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { freePort } from "../../src/transport/mod.js";
import { makeTempDir } from "./temp-dir.js";
import { waitFor } from "./wait-for.js";

/** The servers of the cluster: a quorum (2) survives the loss of one. */
export const DEFAULT_CLUSTER_SIZE = 3;
/** How long start() and restart() wait for a server (or the meta leader). */
export const DEFAULT_CLUSTER_READY_TIMEOUT_MS = 20_000;

export interface NatsClusterOptions {
  /** Names the temp dir. Default "nats-cluster". */
  label?: string;
  /** Default DEFAULT_CLUSTER_SIZE (3). */
  size?: number;
  /** nats-server binary. Default: `nats-server` on PATH. */
  binary?: string;
}

export interface ClusterServer {
  /** nats-server's server_name: what JetStream's cluster info names leaders by. */
  readonly name: string;
  readonly url: string;
  /** The running process's pid, undefined while it is down. */
  readonly pid: number | undefined;
}

export interface NatsCluster {
  readonly servers: readonly ClusterServer[];
  /** Every client URL, comma-separated: what --nats takes for a cluster. */
  readonly urls: string;
  readonly dir: string;
  /** SIGKILL the named server (no lame-duck, no flush: a crash) and wait until it is gone. */
  kill(name: string): Promise<void>;
  /** Start the named server again with its config and store; resolves once it accepts clients. */
  restart(name: string): Promise<void>;
  /** Wait until the meta leader is elected and `$JS.API.INFO` answers on a running server. */
  waitJetStreamReady(timeoutMs?: number): Promise<void>;
  /** Kill every running server and remove the dir. Idempotent. */
  close(): Promise<void>;
}

interface Node {
  name: string;
  port: number;
  routePort: number;
  config: string;
  proc: ChildProcess | undefined;
  stderr: string;
}

export async function startNatsCluster(o: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = o.size ?? DEFAULT_CLUSTER_SIZE;
  const binary = o.binary ?? "nats-server";
  const dir = await makeTempDir(o.label ?? "nats-cluster");
  const nodes: Node[] = [];
  let closed = false;

  const launch = async (n: Node): Promise<void> => {
    n.stderr = "";
    const proc = spawn(binary, ["-c", n.config], { stdio: ["ignore", "ignore", "pipe"] });
    n.proc = proc;
    // nats-server logs to stderr: keep the tail for the error that says why it did not come up.
    proc.stderr?.on("data", (d: Buffer) => (n.stderr = (n.stderr + d.toString()).slice(-4000)));
    proc.once("exit", () => {
      if (n.proc === proc) n.proc = undefined;
    });
    await waitFor(
      async () => {
        if (n.proc !== proc) throw new Error(`nats-server ${n.name} exited at start: ${n.stderr}`);
        const nc = await tryConnect(`nats://127.0.0.1:${n.port}`);
        if (!nc) return false;
        await nc.close();
        return true;
      },
      { what: `nats-server ${n.name} accepting clients`, timeoutMs: DEFAULT_CLUSTER_READY_TIMEOUT_MS, intervalMs: 50 },
    );
  };

  const killNode = async (n: Node): Promise<void> => {
    const proc = n.proc;
    if (!proc || proc.pid === undefined) return;
    const exited = new Promise<void>((resolve) => (proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once("exit", () => resolve())));
    process.kill(proc.pid, "SIGKILL");
    await exited;
    n.proc = undefined;
  };

  const node = (name: string): Node => {
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new RangeError(`no server named ${name} in the cluster (${nodes.map((x) => x.name).join(", ")})`);
    return n;
  };

  const cluster: NatsCluster = {
    get servers() {
      return nodes.map((n) => ({ name: n.name, url: `nats://127.0.0.1:${n.port}`, pid: n.proc?.pid }));
    },
    get urls() {
      return nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(",");
    },
    dir: dir.path,
    kill: (name) => killNode(node(name)),
    async restart(name) {
      if (closed) throw new Error("restart() after close()");
      const n = node(name);
      await killNode(n);
      await launch(n);
    },
    async waitJetStreamReady(timeoutMs = DEFAULT_CLUSTER_READY_TIMEOUT_MS) {
      await waitFor(
        async () => {
          for (const n of nodes) {
            if (!n.proc) continue;
            const nc = await tryConnect(`nats://127.0.0.1:${n.port}`);
            if (!nc) continue;
            try {
              // Answered without an error only once the meta group has a leader.
              const reply = await nc.request("$JS.API.INFO", undefined, { timeout: 1000 });
              const info = reply.json<{ error?: unknown }>();
              if (info.error === undefined) return true;
            } catch {
              // No responders yet, or a timeout: not ready.
            } finally {
              await nc.close();
            }
          }
          return false;
        },
        { what: "the JetStream meta leader ($JS.API.INFO answering)", timeoutMs, intervalMs: 100 },
      );
    },
    async close() {
      closed = true;
      try {
        for (const n of nodes) await killNode(n).catch(() => undefined);
      } finally {
        await dir.remove();
      }
    },
  };

  try {
    for (let i = 0; i < size; i++) {
      const name = `n${i + 1}`;
      nodes.push({ name, port: await freePort(), routePort: await freePort(), config: join(dir.path, `${name}.conf`), proc: undefined, stderr: "" });
    }
    for (const n of nodes) {
      const store = join(dir.path, n.name);
      mkdirSync(store);
      const routes = nodes.filter((x) => x !== n).map((x) => `nats-route://127.0.0.1:${x.routePort}`);
      writeFileSync(
        n.config,
        [
          `server_name: ${n.name}`,
          `listen: 127.0.0.1:${n.port}`,
          // Small reservations: three servers share one test machine's disk.
          `jetstream { store_dir: "${store}", max_memory_store: 64MB, max_file_store: 1GB }`,
          `cluster { name: tcptrail-test, listen: 127.0.0.1:${n.routePort}, routes: [${routes.join(", ")}] }`,
          "",
        ].join("\n"),
      );
    }
    // All at once: a server alone waits for its routes before JetStream can elect.
    await Promise.all(nodes.map((n) => launch(n)));
    await cluster.waitJetStreamReady();
  } catch (e) {
    await cluster.close();
    throw e;
  }
  return cluster;
}

async function tryConnect(url: string): Promise<NatsConnection | undefined> {
  try {
    return await connect({ servers: url, timeout: 1000, maxReconnectAttempts: 0, ignoreClusterUpdates: true });
  } catch {
    return undefined;
  }
}
