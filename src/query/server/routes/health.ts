// GET /healthz: 503 when the store does not answer a query; otherwise 200
// with `status: "ok"`, or `status: "degraded"` and the reason while the
// store answers reads but cannot write (disk full, locked or read-only file,
// I/O error: storeHealth). Degraded is still 200 on purpose: the API still
// answers queries, and a supervisor that restarts on a non-2xx (the
// Deployment's livenessProbe) would only crash-loop a pod whose disk is full;
// tcptrail_store_healthy and the store-degraded alert are what to page on.
// Open without the API token (it says nothing about traces), so probes and
// supervisors need no secret; the Host check still applies.
import type { FastifyInstance } from "fastify";
import type { RouteDeps } from "./deps.js";

export function healthRoutes(app: FastifyInstance, { store, storeHealth }: RouteDeps): void {
  app.get("/healthz", { config: { open: true } }, async (_req, reply) => {
    try {
      // A primary-key miss: exercises the database without scanning it.
      await store.getTrace("");
    } catch (err) {
      return reply.code(503).send({ error: "UNAVAILABLE", message: `store: ${(err as Error).message}` });
    }
    const writes = storeHealth?.();
    if (!writes || writes.status === "ok") return { status: "ok" };
    return {
      status: "degraded",
      reason: `store cannot write: ${writes.reason ?? "unknown"}`,
      ...(writes.kind ? { kind: writes.kind } : {}),
      ...(writes.sinceMs !== undefined ? { since: new Date(writes.sinceMs).toISOString() } : {}),
    };
  });
}
