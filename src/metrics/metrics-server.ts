// Serves /metrics for Prometheus on its own port, so scraping works in
// agent-only mode too (no query API there).
import Fastify from "fastify";
import type { Registry } from "prom-client";

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9464 (the OpenTelemetry Prometheus exporter's port). */
  port?: number;
  /**
   * More exposition text to append per scrape (another thread's registry).
   * Called before `registry` is rendered, so it may set gauges there (e.g.
   * that its text is stale). It should bound its own wait: a scrape waits for it.
   */
  extraText?: () => Promise<string>;
}

export async function startMetricsServer(registry: Registry, opts: MetricsServerOptions = {}): Promise<MetricsServer> {
  const app = Fastify({ logger: false });
  app.get("/metrics", async (_req, reply) => {
    const extra = opts.extraText ? await opts.extraText() : "";
    reply.header("content-type", registry.contentType);
    const own = await registry.metrics();
    return extra ? `${own.endsWith("\n") ? own : `${own}\n`}${extra}` : own;
  });
  const host = opts.host ?? "127.0.0.1";
  const address = await app.listen({ host, port: opts.port ?? 9464 });
  return { url: `${address}/metrics`, close: () => app.close() };
}
