// The in-process fan-out between whoever finishes traces and receives events
// (the consumer) and whoever streams them (the SSE routes). Publishing never
// blocks and never throws: a broken subscriber must not stall the consumer.
import type { ConnEvent, ConnEventInit, Trace, TraceInit } from "../../model/mod.js";
import { silentLogger, type Logger } from "../../log/logger.js";

export type TraceListener = (trace: Trace | TraceInit) => void;
export type EventListener = (node: string, event: ConnEvent | ConnEventInit) => void;

export interface LiveHub {
  publishTrace(trace: Trace | TraceInit): void;
  publishEvents(node: string, events: (ConnEvent | ConnEventInit)[]): void;
  /** Returns the unsubscribe function. */
  subscribeTraces(listener: TraceListener): () => void;
  subscribeEvents(listener: EventListener): () => void;
  /** Current subscriber counts, for metrics and tests. */
  readonly subscribers: { traces: number; events: number };
}

export interface LiveHubOptions {
  /** Where subscriber failures are reported. Default: silent. */
  log?: Logger;
}

export function createLiveHub(opts: LiveHubOptions = {}): LiveHub {
  const log = opts.log ?? silentLogger;
  const traceListeners = new Set<TraceListener>();
  const eventListeners = new Set<EventListener>();
  const safely = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      log.warn({ err }, `a live ${what} subscriber failed`);
    }
  };
  return {
    publishTrace(trace) {
      for (const l of traceListeners) safely("trace", () => l(trace));
    },
    publishEvents(node, events) {
      if (eventListeners.size === 0) return;
      for (const e of events) for (const l of eventListeners) safely("event", () => l(node, e));
    },
    subscribeTraces(listener) {
      traceListeners.add(listener);
      return () => traceListeners.delete(listener);
    },
    subscribeEvents(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    get subscribers() {
      return { traces: traceListeners.size, events: eventListeners.size };
    },
  };
}
