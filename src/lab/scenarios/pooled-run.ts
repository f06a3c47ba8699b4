// What `pooled` and `keepalive-race` share: pod a's sidecar in HTTP mode
// with upstream reuse, app a's keep-alive client calling app b, an HTTP
// capture (request lines and SYN/FIN/RST, in pods a and b) that follows every
// request id from the client connection to the upstream to the app, and the
// expected FIN/RST of every connection it saw. The scenario's own capture is
// separate from runScenario's (SYN/FIN/RST only): the race scenario reads it
// while it runs, to know when to stop.
import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import type { HttpClientConnection, HttpClientPlan, HttpClientRun } from "../app/http-client-script.js";
import { Capture } from "../capture.js";
import { LabStateError, LabTimeoutError } from "../errors.js";
import {
  HTTP_CAPTURE_FILTER,
  type HttpSegment,
  type HttpWireOptions,
  type PooledUse,
  type RacedRequest,
  type TcpTuple,
  formatTuple,
  racedRequests,
  pooledUses,
  reduceHttpCapture,
  unclosedConnections,
} from "../http-wire.js";
import { sleep } from "../processes.js";
import type { LabState, PodState, ProcessState } from "../state-file.js";
import { callHops, withClientPid, type Hop } from "./hops.js";
import { runHttpClient } from "./http-client.js";
import { pod } from "./run-call.js";
import { withSidecar } from "./sidecar-control.js";
import { clientConnectionExpectations, idleCloseExpectations, racedUpstreamExpectations, sameTuple } from "./pooled-expect.js";
import type { ExpectedSegment, RaceReport, ScenarioConnection, ScenarioContext } from "./types.js";

/** How long the pool may take to drain after the client is done (the app's idle close and the FINs that follow). Default deadline, not a delay. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export interface PooledRound {
  client: HttpClientRun;
  /** The HTTP ground truth so far (every round's segments). */
  segments: HttpSegment[];
  races: RacedRequest[];
}

export interface PooledRunOptions {
  /** Used for the capture directory and request ids. */
  name: string;
  /** The client's plan for round `i` (0-based), given the previous round (gaps carry over). */
  plan(target: { ip: string; port: number }, round: number, previous: PooledRound | undefined): HttpClientPlan;
  /** After each round: run another? */
  again(round: PooledRound, rounds: number): boolean;
}

export interface PooledRunResult {
  startUs: number;
  a: PodState;
  b: PodState;
  target: { ip: string; port: number };
  sidecar: ProcessState;
  clients: HttpClientRun[];
  segments: HttpSegment[];
  wire: HttpWireOptions;
  uses: PooledUse[];
  races: RacedRequest[];
  connections: ScenarioConnection[];
  /** Hops of every client connection and upstream, with the pooling sidecar's pid (computed before it is replaced again). */
  clientHops: Array<{ conn: HttpClientConnection; pid: number; hop: Hop }>;
  upstreamHops: Array<{ upstream: TcpTuple; passthrough?: TcpTuple; h2: Hop; h3: Hop }>;
}

export async function runPooled(ctx: ScenarioContext, opts: PooledRunOptions): Promise<PooledRunResult> {
  const startUs = Date.now() * 1000;
  const [a, b] = [pod(ctx, "a"), pod(ctx, "b")];
  const target = { ip: b.ip, port: ctx.state.appPort };
  const wire: HttpWireOptions = { clientPod: a.netns, serverPod: b.netns, outboundPort: ctx.state.mesh.outboundPort };
  await mkdir(join(ctx.state.dir, "captures"), { recursive: true });
  const dir = await mkdtemp(join(ctx.state.dir, "captures", `${opts.name}-http-`));
  return withSidecar(ctx, a, { mode: "http", httpReuse: "always" }, async (sidecar) => {
    const capture = await Capture.start({ netns: [a.netns, b.netns], dir, filter: HTTP_CAPTURE_FILTER, payload: true });
    const clients: HttpClientRun[] = [];
    let segments: HttpSegment[] = [];
    try {
      let previous: PooledRound | undefined;
      for (let i = 0; ; i++) {
        const client = await runHttpClient(ctx.state, a, opts.plan(target, i, previous));
        clients.push(client);
        segments = await drained(capture, wire);
        previous = { client, segments, races: racedRequests(segments, wire) };
        if (!opts.again(previous, i + 1)) break;
      }
    } finally {
      await capture.stop();
    }
    segments = reduceHttpCapture((await capture.stop()).text);
    const uses = pooledUses(segments, wire);
    const races = racedRequests(segments, wire);
    const connections: ScenarioConnection[] = [];
    const clientHops: PooledRunResult["clientHops"] = [];
    for (const client of clients) {
      for (const conn of client.connections) {
        const sc = scenarioConnection(a, conn, client.pid);
        connections.push(sc);
        const local = conn.local ?? { ip: a.ip, port: 0 };
        const hops = withClientPid(callHops(ctx.state, a, b, target, local), client.pid).hops;
        if (hops[0]) clientHops.push({ conn, pid: client.pid, hop: hops[0] });
      }
    }
    const upstreams = new Map<string, { upstream: TcpTuple; passthrough?: TcpTuple }>();
    for (const u of [...uses, ...races]) {
      const k = formatTuple(u.upstream);
      if (!upstreams.has(k) || u.passthrough) upstreams.set(k, { upstream: u.upstream, ...(u.passthrough ? { passthrough: u.passthrough } : {}) });
    }
    const upstreamHops = [...upstreams.values()].map((u) => ({ ...u, ...pinnedUpstreamHops(ctx.state, a, b, target, u) }));
    return { startUs, a, b, target, sidecar, clients, segments, wire, uses, races, connections, clientHops, upstreamHops };
  });
}

/** Poll the capture until every connection that carried a request is closed on the wire; the segments then. */
async function drained(capture: Capture, wire: HttpWireOptions): Promise<HttpSegment[]> {
  const deadline = Date.now() + DEFAULT_DRAIN_TIMEOUT_MS;
  for (;;) {
    const segments = reduceHttpCapture(await capture.snapshot());
    const open = unclosedConnections(segments, wire);
    if (open.length === 0) return segments;
    if (Date.now() > deadline) {
      throw new LabTimeoutError(`timed out: ${open.length} connection(s) of the pooled calls still open on the wire: ${open.map(formatTuple).join(", ")}`);
    }
    await sleep(20);
  }
}

function scenarioConnection(from: PodState, c: HttpClientConnection, pid: number): ScenarioConnection {
  const lastReq = c.requests.at(-1);
  return {
    clientPod: from.netns,
    target: c.target,
    path: c.requests[0]?.path ?? "",
    pid,
    result: {
      pid,
      local: c.local,
      target: c.target,
      path: c.requests[0]?.path ?? "",
      status: lastReq?.status ?? null,
      bytes: c.bytes,
      end: c.end,
      error: c.error,
      startMs: c.startMs,
      endMs: c.endMs,
    },
  };
}

/**
 * The upstream hop (sidecar a → sidecar b) and the passthrough hop (sidecar b
 * → app b) of one pooled upstream, with both sides' wire selectors narrowed to
 * the connection's own ports: many upstreams share the addresses.
 */
function pinnedUpstreamHops(
  state: LabState,
  a: PodState,
  b: PodState,
  target: { ip: string; port: number },
  u: { upstream: TcpTuple; passthrough?: TcpTuple },
): { h2: Hop; h3: Hop } {
  const hops = callHops(state, a, b, target, { ip: a.ip, port: 0 }).hops;
  const [h2, h3] = [hops[1], hops[2]];
  if (!h2 || !h3) throw new LabStateError(`a call between meshed pods has 3 hops, got ${hops.length}`);
  const U = u.upstream;
  const pinned2: Hop = {
    ...h2,
    client: { ...h2.client, wire: { iface: "eth0", src: U.src, dst: U.dst } },
    server: { ...h2.server, wire: { iface: "eth0", src: U.dst, dst: U.src } },
  };
  const P = u.passthrough;
  const pinned3: Hop = P
    ? { ...h3, client: { ...h3.client, wire: { iface: "lo", src: P.src, dst: P.dst } }, server: { ...h3.server, wire: { iface: "lo", src: P.dst, dst: P.src } } }
    : h3;
  return { h2: pinned2, h3: pinned3 };
}

/** The races with what the client got for each raced request (by its id). */
export function raceReports(r: Pick<PooledRunResult, "races" | "clients">): RaceReport[] {
  const requests = new Map(r.clients.flatMap((c) => c.connections.flatMap((conn) => conn.requests.map((q) => [q.id, { q, conn }] as const))));
  return r.races.map((race) => {
    const got = requests.get(race.id);
    const clientGot = !got ? "unknown" : got.q.status !== null ? String(got.q.status) : got.conn.error ?? "no answer";
    return { ...race, clientGot };
  });
}

/** Every client connection's and every upstream's FIN/RST: raced upstreams close differently. */
export function pooledExpectations(r: PooledRunResult, races: readonly RaceReport[]): ExpectedSegment[] {
  return [
    ...r.clientHops.flatMap((c) => clientConnectionExpectations(c.hop, races.some((x) => c.conn.requests.some((q) => q.id === x.id)))),
    ...r.upstreamHops.flatMap((u) => {
      const race = races.find((x) => sameTuple(x.upstream, u.upstream));
      return race ? racedUpstreamExpectations(u.h2, u.h3, race) : idleCloseExpectations(u.h2, u.h3);
    }),
  ];
}
