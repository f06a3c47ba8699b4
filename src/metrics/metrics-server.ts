// Serves /metrics for Prometheus on its own port, so scraping works in
// agent-only mode too (no query API there).
import Fastify from "fastify";
import type { Registry } from "prom-client";

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Default listen address 127.0.0.1:9464 (the OpenTelemetry Prometheus exporter's port). */
export async function startMetricsServer(registry: Registry, opts: { host?: string; port?: number } = {}): Promise<MetricsServer> {
  const app = Fastify({ logger: false });
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });
  const host = opts.host ?? "127.0.0.1";
  const address = await app.listen({ host, port: opts.port ?? 9464 });
  return { url: `${address}/metrics`, close: () => app.close() };
}
