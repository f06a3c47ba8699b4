// GET /healthz: answers 200 only when the store answers a query. Open without
// the API token (it says nothing about traces), so probes and supervisors
// need no secret; the Host check still applies.
import type { FastifyInstance } from "fastify";
import type { RouteDeps } from "./deps.js";

export function healthRoutes(app: FastifyInstance, { store }: RouteDeps): void {
  app.get("/healthz", { config: { open: true } }, async (_req, reply) => {
    try {
      // A primary-key miss: exercises the database without scanning it.
      await store.getTrace("");
      return { status: "ok" };
    } catch (err) {
      return reply.code(503).send({ error: "UNAVAILABLE", message: `store: ${(err as Error).message}` });
    }
  });
}
