// `tcptrail run` as users start it (the built CLI, bench/tcptrail-process.ts),
// with what a fault test needs on top: its state dir and ports kept across a
// restart, the pids of its children (nats-server, bpftrace) to kill, its
// traces from the query API and its GAP events from `tcptrail observe`.
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { execa } from "execa";
import { TCPTRAIL_BIN, startTcptrail, type TcptrailProcess } from "../../../bench/tcptrail-process.js";
import { EventKind } from "../../../src/model/mod.js";
import type { TraceJson } from "../../../src/query/trace-json.js";
import { READER_SEED_FILE } from "../../../src/transport/embedded/auth-config.js";
import { connectNats, freePort, subscribeEvents } from "../../../src/transport/mod.js";
import { waitFor } from "../../helpers/mod.js";
import type { GapSpan } from "./connection-verdict.js";

/**
 * The CLI to run: TCPTRAIL_FAULTS_BIN when set (a private build of the tree
 * under test), else the installed bin/tcptrail (npm test builds dist first).
 */
export const FAULTS_BIN = process.env.TCPTRAIL_FAULTS_BIN ?? TCPTRAIL_BIN;

export interface RunPorts {
  nats: number;
  api: number;
  metrics: number;
}

export interface TcptrailRun {
  readonly proc: TcptrailProcess;
  readonly apiUrl: string;
  readonly natsUrl: string;
}

export async function runPorts(): Promise<RunPorts> {
  return { nats: await freePort(), api: await freePort(), metrics: await freePort() };
}

export async function startRun(stateDir: string, node: string, ports: RunPorts): Promise<TcptrailRun> {
  const args = [
    "run",
    "--state-dir",
    stateDir,
    "--node",
    node,
    "--nats-port",
    String(ports.nats),
    "--listen",
    `127.0.0.1:${ports.api}`,
    "--metrics-port",
    String(ports.metrics),
    // A small stream: the tests publish a few thousand events.
    "--events-rate",
    "200",
    "--reorder-window-ms",
    "50",
  ];
  const proc = await startTcptrail(args, { metricsPort: ports.metrics, bin: FAULTS_BIN, stopTimeoutMs: 30_000 });
  return { proc, apiUrl: `http://127.0.0.1:${ports.api}`, natsUrl: `nats://127.0.0.1:${ports.nats}` };
}

/** Direct children of `pid` whose executable (argv[0], not a path in an argument) is named `name`. */
export async function childPids(pid: number, name: string): Promise<number[]> {
  const r = await execa("pgrep", ["-P", String(pid)], { reject: false });
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map(Number)
    .filter((c) => {
      try {
        const argv0 = readFileSync(`/proc/${c}/cmdline`, "utf8").split("\0")[0] ?? "";
        return basename(argv0) === name;
      } catch {
        return false;
      }
    });
}

/** The one child of `pid` named `name`, once it exists. */
export function childPid(pid: number, name: string, timeoutMs = 30_000): Promise<number> {
  return waitFor(async () => (await childPids(pid, name))[0], { what: `${name}, a child of ${pid}`, timeoutMs, intervalMs: 100 });
}

/** Every trace with an endpoint on `port`, oldest pages last (the API's order does not matter here). */
export async function tracesOnPort(apiUrl: string, port: number): Promise<TraceJson[]> {
  const out: TraceJson[] = [];
  let cursor: string | null = null;
  do {
    const u = new URL(`${apiUrl}/api/v1/traces`);
    u.searchParams.set("port", String(port));
    u.searchParams.set("since", "1h");
    u.searchParams.set("limit", "1000");
    if (cursor) u.searchParams.set("cursor", cursor);
    const res = await fetch(u, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET ${u}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { traces: TraceJson[]; next_cursor: string | null };
    out.push(...body.traces);
    cursor = body.next_cursor;
  } while (cursor);
  return out;
}

/**
 * The GAP events of `node` in the events stream. The embedded server admits
 * only its roles' users: the reader's seed is in the run's state dir (absent
 * on a server without auth, then none is needed).
 */
export async function gapEvents(natsUrl: string, node: string, stateDir: string): Promise<GapSpan[]> {
  const seed = join(stateDir, "nats", READER_SEED_FILE);
  const nc = await connectNats(natsUrl, { name: "fault-test", maxReconnectAttempts: 0, ...(existsSync(seed) ? { auth: { nkeyFile: seed } } : {}) });
  try {
    const sub = await subscribeEvents(nc, { node, since: new Date(Date.now() - 30 * 60_000) });
    const out: GapSpan[] = [];
    for await (const { batch } of sub) {
      for (const e of batch.events) {
        if (e.kind !== EventKind.EVENT_KIND_GAP) continue;
        out.push({
          startNs: e.gapStartNs ?? e.tsNs,
          endNs: e.tsNs,
          lost: e.lost,
          reason: e.gapReason,
          estimatedLost: (e as { estimatedLost?: number | null }).estimatedLost ?? null,
        });
      }
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** SIGKILL `pid` and wait until it is gone (reaped by its parent, or a zombie of a dead one). */
export async function killHard(pid: number, what: string): Promise<void> {
  process.kill(pid, "SIGKILL");
  await waitFor(
    () => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.split(") ")[1]?.startsWith("Z") ?? true;
      } catch {
        return true;
      }
    },
    { what: `${what} (pid ${pid}) to die`, timeoutMs: 10_000 },
  );
}
