// A small set of real traces and the events they came from: generated
// connections (traffic-events.ts) or the lab's recorded ones (lab-traffic.ts)
// stitched by the real Stitcher, so the store bench stores exactly what the
// consumer would store, not a hand-made guess of it. trace-clone.ts turns the
// set into as many as a bench needs.
import type { ConnEvent, Trace } from "../src/model/mod.js";
import { Stitcher } from "../src/trace/mod.js";
import { buildLabTemplate } from "./lab-traffic.js";
import { CONNECTION_OF, Emitter, type TrafficKind } from "./traffic-events.js";

/** Connections stitched for one template: enough distinct ports, pods and pids for blocks of thousands to compress as real ones. */
export const DEFAULT_TEMPLATE_CONNECTIONS = 4096;
/** Nodes the template's connections are spread over (each connection on one node, as a node's agent sees it). */
export const DEFAULT_TEMPLATE_NODES = 2;

export interface TemplateOptions {
  /** Default DEFAULT_TEMPLATE_CONNECTIONS. */
  connections?: number;
  /** Default DEFAULT_TEMPLATE_NODES. Generated traffic only: recorded traffic keeps its recorded nodes. */
  nodes?: number;
  /**
   * Connections per second the template's connections start at. Recorded
   * traffic only, which keeps its recorded durations; generated traffic packs
   * its events 2 µs apart. Default trace-clone.ts's DEFAULT_CLONE_RATE.
   */
  ratePerSec?: number;
}

export interface NodeEvents {
  node: string;
  /** In the order the node's agent published them (seq 1, 2, ...). */
  events: ConnEvent[];
}

export interface TrafficTemplate {
  kind: TrafficKind;
  connections: number;
  /** One per connection, ordered by start time. */
  traces: Trace[];
  nodes: NodeEvents[];
  /** All nodes' events / connections. */
  eventsPerConnection: number;
}

/** Node names of a template, as socket ids and event sources name them. */
export const templateNode = (n: number) => `node-${n}`;

/**
 * Generate `connections` connections of `kind` (or replay the lab's
 * recordings, in DEFAULT_LAB_MIX's proportions) and stitch them.
 * @throws Error when the stitcher does not give one trace per connection (the
 * generator and the stitcher disagree: a bench built on that would mislead)
 */
export function buildTemplate(kind: TrafficKind, o: TemplateOptions = {}): TrafficTemplate {
  const connections = o.connections ?? DEFAULT_TEMPLATE_CONNECTIONS;
  if (kind === "lab") return buildLabTemplate({ connections, ...(o.ratePerSec !== undefined ? { ratePerSec: o.ratePerSec } : {}) });
  const nodeCount = o.nodes ?? DEFAULT_TEMPLATE_NODES;
  const emitters = Array.from({ length: nodeCount }, () => new Emitter());
  const connection = CONNECTION_OF[kind];
  for (let i = 0; i < connections; i++) connection(emitters[i % nodeCount]!, i);
  const traces: Trace[] = [];
  const stitcher = new Stitcher({ onTrace: (t) => void traces.push(t) });
  const nodes = emitters.map((e, n) => ({ node: templateNode(n), events: e.out }));
  for (const { node, events } of nodes) stitcher.ingest(node, events);
  stitcher.flush();
  if (traces.length !== connections) throw new Error(`${kind} template: ${connections} connections stitched into ${traces.length} traces`);
  traces.sort((a, b) => a.startUs - b.startUs || (a.traceId < b.traceId ? -1 : 1));
  const events = nodes.reduce((n, x) => n + x.events.length, 0);
  return { kind, connections, traces, nodes, eventsPerConnection: events / connections };
}
