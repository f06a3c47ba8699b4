// Prometheus metrics of one tcptrail process. Hot paths count in plain
// numbers and the agent adds the deltas here once per tick, so a counter
// increment never sits on the per-event path.
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

export interface TcptrailMetrics {
  registry: Registry;
  probeLines: Counter;
  eventsRead: Counter;
  eventsPublished: Counter;
  kernelLost: Counter;
  queueDropped: Counter;
  eventsUnpublished: Counter;
  malformedLines: Counter;
  bpftraceRestarts: Counter;
  lateEvents: Counter;
  eventsFiltered: Counter;
  liveSockets: Gauge;
  queuedEvents: Gauge;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): TcptrailMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "tcptrail_process_" });
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [registry] });
  return {
    registry,
    // Lines, not events: what bpftrace's reader and the pipe carry (BEGIN, "Lost N events" and malformed lines too).
    probeLines: counter("tcptrail_probe_lines_total", "Lines read from bpftrace's output."),
    eventsRead: counter("tcptrail_events_read_total", "Kernel events parsed from bpftrace output."),
    eventsPublished: counter("tcptrail_events_published_total", "Events acknowledged by NATS JetStream."),
    kernelLost: counter("tcptrail_kernel_lost_events_total", "Events bpftrace reported lost in the perf buffer."),
    queueDropped: counter("tcptrail_queue_dropped_events_total", "Events dropped because the publish queue was full."),
    eventsUnpublished: counter(
      "tcptrail_events_unpublished_total",
      "Events read but never published when an agent run stopped (NATS away, close deadline, pipeline worker lost); the next start reports them in a GAP.",
    ),
    malformedLines: counter("tcptrail_malformed_lines_total", "bpftrace output lines that could not be parsed."),
    bpftraceRestarts: counter("tcptrail_bpftrace_restarts_total", "Times bpftrace died and was restarted."),
    lateEvents: counter("tcptrail_late_events_total", "Events that arrived after the reorder window and left out of order."),
    eventsFiltered: counter(
      "tcptrail_events_filtered_total",
      "Events of sockets outside the agent's --pods, dropped before publishing (another agent reports them; not a loss).",
    ),
    liveSockets: gauge("tcptrail_live_sockets", "Sockets the agent is tracking."),
    queuedEvents: gauge("tcptrail_queued_events", "Events waiting to be published."),
  };
}
