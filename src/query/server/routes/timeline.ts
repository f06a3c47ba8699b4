// GET /timeline: the events of one connection (both ends) and its traces.
import type { FastifyInstance } from "fastify";
import { eventToJson, traceToJson } from "../../mod.js";
import { parseTimeline, timelineSchema, type TimelineParams } from "../params.js";
import type { RouteDeps } from "./deps.js";

export function timelineRoutes(app: FastifyInstance, { store }: RouteDeps): void {
  app.get<{ Querystring: TimelineParams }>("/timeline", { schema: { querystring: timelineSchema } }, async (req) => {
    const tl = await store.timeline(parseTimeline(req.query));
    return {
      events: tl.events.map((e) => eventToJson(e.node, e.event)),
      traces: tl.traces.map(traceToJson),
      truncated: tl.truncated,
      // Some socket's raw events had left the store's event ring: its events are rebuilt from its hop.
      summarized: tl.summarized === true,
    };
  });
}
