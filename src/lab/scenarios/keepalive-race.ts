import { APP_PATHS } from "../app/app-server-script.js";
import type { HttpClientSweep } from "../app/http-client-script.js";
import { LabTimeoutError } from "../errors.js";
import { formatTuple } from "../http-wire.js";
import { raceResetReason } from "./pooled-expect.js";
import { pooledExpectations, raceReports, runPooled } from "./pooled-run.js";
import { nowUs } from "./run-call.js";
import type { RaceReport, Scenario } from "./types.js";

/**
 * App b's keep-alive idle timeout: far below how long sidecar a keeps an idle
 * pooled connection (HAProxy closes half of its idle connections every
 * pool-purge-delay, 5 s by default), the misconfiguration behind Istio's
 * "503 UC" resets (the upstream's keep-alive timeout must exceed the sidecar's).
 */
export const RACE_APP_IDLE_MS = 100;
/** Client connections per round: one request each, each timed against the previous answer. */
export const RACE_CONNECTIONS_PER_ROUND = 30;
/** Rounds until a race shows on the wire: a cap on time and on attempts. */
export const RACE_DEADLINE_MS = 45_000;
export const RACE_MAX_ROUNDS = 12;
/**
 * Where the next request goes, after the previous answer: starting just under
 * the app's idle timeout (the app's clock starts before the client sees the
 * answer, and its timer fires late, never early), moved in 50 µs steps toward
 * the instant the app closes, within ±5 ms of it.
 */
export const RACE_SWEEP: HttpClientSweep = {
  startUs: RACE_APP_IDLE_MS * 1000 - 500,
  stepUs: 50,
  minUs: RACE_APP_IDLE_MS * 1000 - 5000,
  maxUs: RACE_APP_IDLE_MS * 1000 + 5000,
};

const rel = (us: number | undefined, ref: number): string => (us === undefined ? "none" : `${us - ref >= 0 ? "+" : ""}${us - ref} µs`);

export function describeRace(r: RaceReport): string {
  return [
    `race: request ${r.id}`,
    r.client ? `client ${formatTuple(r.client)}` : "client unseen",
    `upstream ${formatTuple(r.upstream)}`,
    `app b FIN ${rel(r.appFinUs, r.requestUs)}${r.idleUs !== undefined ? ` (idle ${(r.idleUs / 1000).toFixed(1)} ms)` : ""}`,
    `request at app b ${rel(r.requestAtAppUs, r.requestUs)}`,
    `app b RST ${rel(r.appRstUs, r.requestUs)}${raceResetReason(r) ? ` (${raceResetReason(r)})` : ""}`,
    `sidecar b FIN ${rel(r.upstreamFinUs, r.requestUs)}, RST ${rel(r.upstreamRstUs, r.requestUs)}`,
    `client got ${r.clientGot}`,
  ].join("; ");
}

/**
 * Pod a's sidecar pools upstreams (HTTP mode, http-reuse always); app b closes
 * a keep-alive connection after 100 ms idle. The client sends each request
 * about 100 ms after the previous answer, sweeping the gap in µs steps around
 * the instant app b closes, until a request meets the close on the wire: sent
 * on the pooled upstream as the app's FIN comes the other way (or just after
 * it), answered by app b's kernel with a RST, and by sidecar a with a 502.
 * Times on the wire are relative to the request leaving sidecar a.
 */
export const keepaliveRace: Scenario = {
  name: "keepalive-race",
  summary: "app b closes idle keep-alive connections (100 ms) as pod a's pooling sidecar reuses them: a request meets the FIN, a RST, a 502",
  pods: ["a", "b"],
  async run(ctx) {
    const deadline = Date.now() + RACE_DEADLINE_MS;
    const tag = Date.now().toString(36);
    const r = await runPooled(ctx, {
      name: "keepalive-race",
      plan: (target, round, previous) => {
        const lastGap = previous?.client.connections.at(-1)?.requests[0]?.gapUs;
        return {
          ...target,
          path: `${APP_PATHS.keepAlive}?idle=${RACE_APP_IDLE_MS}`,
          idPrefix: `k${tag}-${round}-`,
          connections: RACE_CONNECTIONS_PER_ROUND,
          requestsPerConnection: 1,
          sweep: { ...RACE_SWEEP, ...(typeof lastGap === "number" ? { startUs: lastGap } : {}) },
          timeoutMs: 10_000,
        };
      },
      again: (round, rounds) => round.races.length === 0 && rounds < RACE_MAX_ROUNDS && Date.now() < deadline,
    });
    const races = raceReports(r);
    const attempts = r.connections.length;
    if (races.length === 0) {
      throw new LabTimeoutError(`keepalive-race: no request met app b's idle close in ${attempts} attempts (${r.clients.length} rounds, ${RACE_DEADLINE_MS / 1000} s cap)`);
    }
    const gaps = r.clients.flatMap((c) => c.connections.flatMap((x) => x.requests.map((q) => q.gapUs))).filter((g): g is number => g !== null);
    const upstreams = new Set(r.uses.map((u) => formatTuple(u.upstream)));
    return {
      name: "keepalive-race",
      did: [
        `${r.a.netns}: sidecar restarted in HTTP mode with http-reuse always, pid ${r.sidecar.pid}`,
        `${r.b.netns}: app b closes a keep-alive connection after ${RACE_APP_IDLE_MS} ms idle`,
        `${r.a.netns}: ${attempts} client connections in ${r.clients.length} round(s) (pids ${r.clients.map((c) => c.pid).join(", ")}), one request each, sent ${Math.min(...gaps)}-${Math.max(...gaps)} µs after the previous answer (${RACE_SWEEP.stepUs} µs steps)`,
        `${attempts} client connections over ${upstreams.size} upstream connections; ${races.length} request(s) met the race:`,
        ...races.map((x) => `  ${describeRace(x)}`),
        `${r.a.netns}: sidecar restored to tcp mode`,
      ],
      connections: r.connections,
      expectations: pooledExpectations(r, races),
      pooled: r.uses,
      races,
      startUs: r.startUs,
      endUs: nowUs(),
    };
  },
};
