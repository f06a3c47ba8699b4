// GET /traces and GET /traces/:id.
import type { FastifyInstance } from "fastify";
import { traceToJson } from "../../mod.js";
import { parseTraceList, traceIdSchema, traceListSchema, type TraceListQuery } from "../params.js";
import type { RouteDeps } from "./deps.js";

export function tracesRoutes(app: FastifyInstance, { store }: RouteDeps): void {
  app.get<{ Querystring: TraceListQuery }>("/traces", { schema: { querystring: traceListSchema } }, async (req) => {
    const page = await store.listTraces(parseTraceList(req.query));
    return { traces: page.traces.map(traceToJson), next_cursor: page.nextCursor };
  });

  app.get<{ Params: { id: string } }>("/traces/:id", { schema: { params: traceIdSchema } }, async (req, reply) => {
    const trace = await store.getTrace(req.params.id);
    if (!trace) return reply.code(404).send({ error: "NOT_FOUND", message: `no trace with id ${req.params.id}` });
    return traceToJson(trace);
  });
}
