// Issue 4's acceptance, end to end: `tcptrail run`'s main job (agent, NATS,
// consumer, store, API, alerts) watching the real lab. For every scenario the
// API returns one trace for the logical connection, hops in order, the right
// original destination, and an origin (reset_origin, or the first closer)
// that matches the tcpdump ground truth; the default alert rules fire for
// sidecar-crash, reject and no-listener and stay silent for ok. A RST netfilter
// sent is the network's (its sender's address on the wire, no process), and the
// sidecar it reached is named; a sidecar's close on its idle timeout is named
// as that, compared with the timeouts the lab configured. Root only.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { followAlerts, type AlertFollower } from "../../src/alert/mod.js";
import { SIDECAR_DEFAULTS, labDown, labUp, processOf, runScenario, scenarios, type LabState } from "../../src/lab/mod.js";
import { IDLE_TIMEOUT_MS } from "../../src/lab/scenarios/idle-timeout.js";
import { silentLogger } from "../../src/log/logger.js";
import type { Alert } from "../../src/model/mod.js";
import type { TraceJson } from "../../src/query/mod.js";
import { startMainJob, type MainJob } from "../../src/runtime/mod.js";
import { connectNats, freePort, type NatsConnection } from "../../src/transport/mod.js";
import { describeRoot, isWaitTimeoutError, makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";

const prefix = `q${randomBytes(2).toString("hex")}-`;
const subnet = `10.88.${10 + ((randomBytes(1)[0] ?? 0) % 240)}.0/24`;
let tmp: TempDir | undefined;
let dir = "";
let job: MainJob | undefined;
let state: LabState | undefined;
let api = "";
let nc: NatsConnection | undefined;
let follower: AlertFollower | undefined;
const alerts: Alert[] = [];

/** What the default rules must say about each scenario (issue 4: fire for these three, silent for ok). */
// Scenarios run in the lab's order: by the time `reject` runs, the consumer has
// seen pod b's sockets, so a RST "from b" that b's kernel never reported is
// known to come from no traced socket (alone, it would read as a refusal).
const ALERTS: Record<string, string[] | undefined> = {
  ok: [],
  "no-listener": ["refused"],
  "sidecar-crash": ["sidecar-exit"],
  reject: ["reset-untraced"],
};

/**
 * The traces whose first hop's client is `pid`, and (for failure messages) every
 * trace since then. A trace is finished when all its sockets are closed; a socket
 * left in FIN_WAIT2 by a peer that never answers closes only after
 * tcp_fin_timeout (60 s), hence the long deadline.
 */
async function tracesOf(pid: number, sinceUs: number): Promise<{ mine: TraceJson[]; all: TraceJson[] }> {
  let found: { mine: TraceJson[]; all: TraceJson[] } = { mine: [], all: [] };
  const query = async (): Promise<boolean> => {
    const res = await fetch(`${api}/api/v1/traces?since=${new Date(sinceUs / 1000).toISOString()}&limit=1000`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { traces: TraceJson[] };
    found = { mine: body.traces.filter((t) => t.hops[0]?.client?.pid === pid), all: body.traces };
    return found.mine.length > 0;
  };
  // At the deadline, return what there is: the caller's expectation then prints every trace.
  await waitFor(query, { what: `a trace from client pid ${pid}`, timeoutMs: 75_000, intervalMs: 250 }).catch((e: unknown) => {
    if (!isWaitTimeoutError(e)) throw e;
  });
  return found;
}

describeRoot("traces of the lab scenarios through the main job (root)", () => {
  beforeAll(async () => {
    tmp = await makeTempDir("traces");
    dir = tmp.path;
    const natsPort = await freePort();
    const apiPort = await freePort();
    job = await startMainJob({
      logger: silentLogger,
      stateDir: dir,
      embeddedNats: { stateDir: join(dir, "nats"), port: natsPort },
      node: `traces-${process.pid}`,
      agent: { reorderWindowMs: 50 },
      apiPort,
      // What `run --proxy-idle-timeout` passes: the lab's sidecar timeouts, the default and idle-timeout's short one.
      consumer: { stitcher: { proxyIdleTimeoutMs: [SIDECAR_DEFAULTS.idleTimeoutMs, IDLE_TIMEOUT_MS] } },
    });
    api = `http://127.0.0.1:${apiPort}`;
    nc = await connectNats(`nats://127.0.0.1:${natsPort}`, { auth: job.natsAuth!.reader });
    follower = followAlerts(nc, { onAlert: (a: Alert) => alerts.push(a) });
    state = await labUp({ stateDir: join(dir, "lab"), prefix, subnet });
  }, 120_000);

  afterAll(async () => {
    await labDown({ stateDir: join(dir, "lab") }).catch(() => undefined);
    await follower?.stop().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await job?.stop().catch(() => undefined);
    await tmp?.remove();
  }, 60_000);

  // Pooled upstreams (issue 10) serve several client connections over one
  // upstream socket: checked below against the capture's request-id mapping,
  // not with the one-connection-one-trace rule of the other scenarios.
  const POOLED = new Set(["pooled", "keepalive-race"]);
  for (const scenario of scenarios.filter((x) => !POOLED.has(x.name))) {
    // One retry: a scenario is a fresh connection, and a run on a loaded CI machine
    // once left a socket open past the wait (see the note on tracesOf).
    it(`${scenario.name}: one trace, hops in order, original destination and origin as on the wire`, { retry: 1, timeout: 120_000 }, async () => {
      const s = state!;
      const sinceUs = Date.now() * 1000 - 1_000_000;
      const run = await runScenario(s, scenario, { capture: true });
      for (const conn of run.result.connections) {
        const { mine: traces, all } = await tracesOf(conn.pid, sinceUs);
        const dump = JSON.stringify(traces, null, 1);
        const context = `client pid ${conn.pid}; every trace since the scenario began:\n${all.map((x) => `${x.outcome} ${x.explanation}`).join("\n")}`;
        expect(traces, context).toHaveLength(1);
        const t = traces[0]!;
        const clientPod = s.pods.find((p) => p.netns === conn.clientPod || p.name === conn.clientPod)!;
        const serverPod = s.pods.find((p) => p.ip === conn.target.ip)!;
        // hops in order: app → (its sidecar) → … ; each hop starts in the pod where the previous one ended
        expect(t.hops[0]!.client!.pod, dump).toBe(clientPod.netns);
        expect(t.hops[0]!.client!.role, dump).toBe("APP");
        for (let i = 1; i < t.hops.length; i++) expect(t.hops[i]!.client!.pod, dump).toBe(t.hops[i - 1]!.server!.pod);
        const wantHops = (clientPod.meshed ? 2 : 1) + (scenario.name === "reject" ? 0 : 1);
        expect(t.hops, dump).toHaveLength(wantHops);
        if (scenario.name !== "reject") expect(t.hops.at(-1)!.server!.pod, dump).toBe(serverPod.netns);
        // the original destination before REDIRECT, as the app asked
        expect(t.hops[0]!.original_destination, dump).toBe(`${conn.target.ip}:${conn.target.port}`);

        // origin: the first FIN or RST on the wire, with its sender from the ground truth
        const first = run.check!.matched
          .flatMap((m) => m.packets.map((p) => ({ p, e: m.expectation })))
          .filter(({ e }) => !e.optional)
          .sort((a, b) => a.p.tsUs - b.p.tsUs)[0]!;
        const firstRole = first.e.role === "app" ? "APP" : first.e.role === "sidecar" ? "SIDECAR" : null;
        if (t.outcome === "COMPLETED") {
          expect(t.reset_origin, dump).toBeNull();
          const closers = t.hops.map((h) => (h.first_fin_by === "client" ? h.client : h.first_fin_by === "server" ? h.server : null));
          expect(closers.some((c) => c?.pod === first.e.fromPod && c?.role === firstRole), `${first.e.words}\n${dump}`).toBe(true);
        } else if (t.outcome === "RESET_UNTRACED") {
          expect(first.e.untraced, dump).toBe(true);
          // The RST's sender as the wire shows it: no process, the address the RST came from.
          const wire = first.p.src;
          expect(t.reset_origin, `${first.e.words}\n${dump}`).toMatchObject({ role: "NETWORK", pid: null, comm: null, ip: wire.ip, port: wire.port });
        } else {
          expect(t.reset_origin?.pod, `${first.e.words}\n${dump}`).toBe(first.e.fromPod);
          if (firstRole) expect(t.reset_origin?.role, `${first.e.words}\n${dump}`).toBe(firstRole);
        }

        if (scenario.name === "reject") {
          // netfilter in pod b answered for the address sidecar a dialed: the app's
          // original destination, pod b's address and the rejected port.
          expect(t.outcome, dump).toBe("RESET_UNTRACED");
          expect(t.reset_origin, dump).toMatchObject({ role: "NETWORK", pid: null, ip: serverPod.ip, port: conn.target.port, pod: serverPod.netns });
          expect(`${t.reset_origin!.ip}:${t.reset_origin!.port}`, dump).toBe(t.hops[0]!.original_destination);
          // It reached the client's sidecar, on its upstream connection (the origin hop).
          const hit = t.hops.find((h) => h.index === t.reset_origin_hop);
          expect(hit, dump).toBeDefined();
          expect(t.reset_receiver, dump).toMatchObject({
            role: "SIDECAR",
            pod: clientPod.netns,
            pid: processOf(s, clientPod, "sidecar").pid,
            socket_id: hit!.client.socket_id,
          });
        }
        if (scenario.name === "idle-timeout") {
          // Pod b's sidecar closed on its idle timeout, about as long after the last event as the lab set it
          // (named "sidecar <pod>", or "Sidecar haproxy (pid …, <node>/<pod>)" when it closed with a RST).
          const pod = serverPod.netns.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          expect(t.explanation, dump).toMatch(
            new RegExp(
              `sidecar [^;]*\\b${pod}\\b[^;]* closed the idle connection [^;]* on hop \\d+: [\\d.]+ s idle vs the configured timeout ${IDLE_TIMEOUT_MS / 1000} s \\(proxy idle timeout\\)`,
              "i",
            ),
          );
        }

        // the default alert rules
        const want = ALERTS[scenario.name];
        if (want) {
          const firedFor = () => new Set(alerts.filter((a) => a.traceId === t.trace_id).map((a) => a.rule));
          if (want.length > 0) {
            await waitFor(() => want.every((rule) => firedFor().has(rule)), { what: `alerts ${want.join(", ")} for ${scenario.name}`, timeoutMs: 10_000 });
          } else {
            // Deliberate quiet period: the absence of an alert has no event to wait for.
            await new Promise((r) => setTimeout(r, 500));
          }
          const fired = alerts.filter((a) => a.traceId === t.trace_id).map((a) => a.rule);
          expect([...new Set(fired)].sort(), dump).toEqual([...want].sort());
        }
      }
    });
  }

  for (const scenario of scenarios.filter((x) => POOLED.has(x.name))) {
    it(`${scenario.name}: every client connection's trace holds the pooled upstream that carried it; each raced request is explained, no other`, { retry: 1, timeout: 150_000 }, async () => {
      const s = state!;
      const sinceUs = Date.now() * 1000 - 1_000_000;
      const run = await runScenario(s, scenario, { capture: true });
      const pooled = run.result.pooled ?? [];
      const races = run.result.races ?? [];
      expect(pooled.length, run.result.did.join("\n")).toBeGreaterThan(0);
      const pids = [...new Set(run.result.connections.map((c) => c.pid))];
      // The client's connections as the API has them, keyed by the client's own endpoint (hop 1's client).
      const byClient = new Map<string, TraceJson>();
      let all: TraceJson[] = [];
      const clientKey = (ip: string, port: number) => `${ip}:${port}`;
      await waitFor(
        async () => {
          const res = await fetch(`${api}/api/v1/traces?since=${new Date(sinceUs / 1000).toISOString()}&limit=1000`);
          all = ((await res.json()) as { traces: TraceJson[] }).traces;
          byClient.clear();
          for (const t of all) {
            const c = t.hops[0]?.client;
            if (c && c.ip && c.port !== null && c.pid !== null && pids.includes(c.pid)) byClient.set(clientKey(c.ip, c.port), t);
          }
          return pooled.every((u) => byClient.has(clientKey(u.client.src.ip, u.client.src.port)));
        },
        { what: `a trace for each of ${pooled.length} client connections`, timeoutMs: 75_000, intervalMs: 250 },
      ).catch((e: unknown) => {
        if (!isWaitTimeoutError(e)) throw e;
      });
      const summary = all.map((t) => `${t.hops[0]?.client?.ip}:${t.hops[0]?.client?.port} ${t.outcome} ${t.explanation}`).join("\n");
      const firstUse = new Map<string, number>();
      for (const u of [...pooled].sort((a, b) => a.firstUs - b.firstUs)) {
        const up = `${u.upstream.src.ip}:${u.upstream.src.port}`;
        firstUse.set(up, (firstUse.get(up) ?? 0) + 1);
        const t = byClient.get(clientKey(u.client.src.ip, u.client.src.port));
        expect(t, `no trace for client ${clientKey(u.client.src.ip, u.client.src.port)}\n${summary}`).toBeDefined();
        const dump = JSON.stringify(t, null, 1);
        // The upstream the capture saw carry this connection's requests is a hop of its trace, from sidecar a's end
        // (its server end is the peer's inbound listener: the REDIRECT happens in the peer pod, after the wire).
        const hop = t!.hops.find((h) => h.client.ip === u.upstream.src.ip && h.client.port === u.upstream.src.port && h.server.ip === u.upstream.dst.ip);
        expect(hop, `upstream ${up} → ${u.upstream.dst.ip}:${u.upstream.dst.port}\n${dump}`).toBeDefined();
        expect(hop!.client.role, dump).toBe("SIDECAR");
        // Reused by a later client connection: that trace says the hop is shared, with its interval of use.
        if (firstUse.get(up)! > 1) {
          expect(hop!.shared, dump).toBe(true);
          expect(hop!.use_start_us, dump).not.toBeNull();
        }
        // The hops behind the upstream reach the app in the server pod.
        const serverPod = s.pods.find((p) => p.ip === u.upstream.dst.ip)!;
        expect(t!.hops.at(-1)!.server.pod, dump).toBe(serverPod.netns);
      }
      // The race, exactly where the capture saw it.
      const raced = new Set(races.filter((r) => r.client).map((r) => clientKey(r.client!.src.ip, r.client!.src.port)));
      for (const [key, t] of byClient) {
        const dump = JSON.stringify(t, null, 1);
        if (raced.has(key)) {
          expect(t.outcome, `raced request on client ${key}\n${dump}`).toBe("UPSTREAM_IDLE_CLOSE_RACE");
          expect(t.explanation, dump).toMatch(/closed its idle keep-alive connection \(idle [\d.]+ m?s\) -?[\d,.]+ µs (before|after) sidecar [^ ]+ reused it for a request from app /i);
          expect(t.race, dump).not.toBeNull();
        } else {
          expect(t.outcome, `no race on the wire for client ${key}\n${dump}`).not.toBe("UPSTREAM_IDLE_CLOSE_RACE");
        }
      }
      if (scenario.name === "keepalive-race") {
        expect(raced.size, run.result.did.join("\n")).toBeGreaterThan(0);
        const fire = () => alerts.filter((a) => a.rule === "upstream-idle-close-race" && [...byClient.values()].some((t) => t.trace_id === a.traceId));
        await waitFor(() => fire().length > 0, { what: "the keep-alive race alert", timeoutMs: 10_000 });
      }
    });
  }
});
