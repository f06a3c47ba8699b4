// GET /stream/traces and /stream/events: live Server-Sent Events from the hub,
// filtered per client with the same parameters as the stored queries.
import type { FastifyInstance } from "fastify";
import { eventToJson, traceToJson } from "../../mod.js";
import { eventMatches, traceMatches } from "../match.js";
import {
  eventStreamSchema,
  parseEventStream,
  parseTraceStream,
  traceStreamSchema,
  type EventStreamQuery,
  type TraceListQuery,
} from "../params.js";
import { SseConnection } from "../sse.js";
import type { RouteDeps } from "./deps.js";

export function streamRoutes(app: FastifyInstance, { hub, sse, streams }: RouteDeps): void {
  app.get<{ Querystring: TraceListQuery }>("/stream/traces", { schema: { querystring: traceStreamSchema } }, async (req, reply) => {
    // Parse before hijacking so a bad parameter still gets its 400.
    const filter = parseTraceStream(req.query);
    reply.hijack();
    const conn = new SseConnection(reply.raw, sse);
    streams.add(conn);
    const unsubscribe = hub.subscribeTraces((t) => {
      if (traceMatches(t, filter)) conn.send("trace", traceToJson(t));
    });
    conn.onClose(() => {
      unsubscribe();
      streams.delete(conn);
    });
  });

  app.get<{ Querystring: EventStreamQuery }>("/stream/events", { schema: { querystring: eventStreamSchema } }, async (req, reply) => {
    const filter = parseEventStream(req.query);
    reply.hijack();
    const conn = new SseConnection(reply.raw, sse);
    streams.add(conn);
    const unsubscribe = hub.subscribeEvents((node, e) => {
      if (eventMatches(node, e, filter)) conn.send("event", eventToJson(node, e));
    });
    conn.onClose(() => {
      unsubscribe();
      streams.delete(conn);
    });
  });
}
