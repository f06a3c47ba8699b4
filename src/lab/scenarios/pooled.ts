import { APP_PATHS } from "../app/app-server-script.js";
import { LabStateError } from "../errors.js";
import { formatTuple } from "../http-wire.js";
import { nowUs } from "./run-call.js";
import { pooledExpectations, raceReports, runPooled } from "./pooled-run.js";
import type { Scenario } from "./types.js";

export const POOLED_CLIENT_CONNECTIONS = 4;
export const POOLED_REQUESTS_PER_CONNECTION = 2;
/** App b's keep-alive idle timeout: well above the client's gaps (so the pool serves every connection), short enough to drain the pool quickly. */
export const POOLED_APP_IDLE_MS = 300;
/** Between one client connection's last answer and the next one's first request: sidecar a has put the upstream back in its pool by then. */
export const POOLED_GAP_US = 5000;

/**
 * Pod a's sidecar in HTTP mode with `http-reuse always`; app a opens several
 * connections one after another, a few keep-alive requests each, and sidecar a
 * serves them all over fewer upstream connections to pod b (one, when nothing
 * interferes). The pooled upstream closes when app b's keep-alive idle timer
 * fires. The result maps every client connection to the upstream that carried
 * it, from the packet capture.
 */
export const pooled: Scenario = {
  name: "pooled",
  summary: "pod a's sidecar pools upstream connections (HTTP mode, http-reuse always): several client connections, fewer upstreams",
  pods: ["a", "b"],
  async run(ctx) {
    const r = await runPooled(ctx, {
      name: "pooled",
      plan: (target) => ({
        ...target,
        path: `${APP_PATHS.keepAlive}?idle=${POOLED_APP_IDLE_MS}`,
        idPrefix: `p${Date.now().toString(36)}-`,
        connections: POOLED_CLIENT_CONNECTIONS,
        requestsPerConnection: POOLED_REQUESTS_PER_CONNECTION,
        gapUs: POOLED_GAP_US,
        timeoutMs: 10_000,
      }),
      again: () => false,
    });
    const races = raceReports(r);
    const upstreams = new Set(r.uses.map((u) => formatTuple(u.upstream)));
    const failed = r.connections.filter((c) => c.result.status !== 200);
    if (failed.length > 0) throw new LabStateError(`pooled: ${failed.length} client connection(s) did not get 200: ${JSON.stringify(failed.map((c) => c.result))}`);
    const mapped = new Set(r.uses.map((u) => `${u.client.src.ip}:${u.client.src.port}`));
    const unmapped = r.connections.filter((c) => !mapped.has(`${c.result.local?.ip}:${c.result.local?.port}`));
    if (unmapped.length > 0) throw new LabStateError(`pooled: no upstream on the wire for client connection(s) ${unmapped.map((c) => `${c.result.local?.ip}:${c.result.local?.port}`).join(", ")}`);
    // The scenario's point: if the sidecar did not reuse, say so instead of passing as a plain call.
    if (upstreams.size >= r.connections.length) {
      throw new LabStateError(`pooled: ${r.connections.length} client connections went over ${upstreams.size} upstream connections: no reuse`);
    }
    return {
      name: "pooled",
      did: [
        `${r.a.netns}: sidecar restarted in HTTP mode with http-reuse always, pid ${r.sidecar.pid}`,
        `${r.a.netns}: client pid ${r.clients[0]?.pid ?? 0}: ${r.connections.length} connections one after another, ${POOLED_REQUESTS_PER_CONNECTION} keep-alive requests each, GET ${APP_PATHS.keepAlive} ${r.target.ip}:${r.target.port}`,
        `${r.connections.length} client connections over ${upstreams.size} upstream connection(s):`,
        ...r.uses.map((u) => `  client ${formatTuple(u.client)} → upstream ${formatTuple(u.upstream)} (${u.requests} requests: ${u.requestIds.join(", ")})`),
        `${r.b.netns}: app b closed each pooled connection after ${POOLED_APP_IDLE_MS} ms idle`,
        `${r.a.netns}: sidecar restored to tcp mode`,
      ],
      connections: r.connections,
      // A race here would be a false one (or a lab far slower than planned): it is reported, and its upstream expected as raced.
      expectations: pooledExpectations(r, races),
      pooled: r.uses,
      races,
      startUs: r.startUs,
      endUs: nowUs(),
    };
  },
};
