// `tcptrail run` with OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp-endpoint): the
// main job (embedded NATS, consumer, store, API; the agent left out, it needs
// bpftrace) exports every trace it stitched as OTLP spans, from the consumer
// worker or from the main thread alike, and counts them in its metrics.
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerCommands } from "../../src/cli/commands/mod.js";
import { mainJobOptions, type RunCliOptions } from "../../src/cli/commands/run.js";
import { runTraces } from "../../src/cli/commands/traces.js";
import { otlpTraceId } from "../../src/export/otlp/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import type { TraceJson } from "../../src/query/mod.js";
import { startMainJob, type ConsumerThreadMode, type MainJob } from "../../src/runtime/mod.js";
import { EventPublisher, connectNats, freePort, jetstream, type NatsConnection } from "../../src/transport/mod.js";
import { publishAll, suffix } from "../consumer/helpers/harness.js";
import { NODE, sequentialScenarios } from "../consumer/helpers/workload.js";
import { makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";
import { OTLP_KIND, startOtlpReceiver, type OtlpReceiver } from "./helpers/otlp-receiver.js";

let tmp: TempDir;
let job: MainJob | undefined;
let nc: NatsConnection | undefined;
let receiver: OtlpReceiver;

beforeEach(async () => {
  tmp = await makeTempDir("otlp-mainjob");
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  try {
    await nc?.close().catch(() => undefined);
    await job?.stop();
  } finally {
    nc = job = undefined;
    await receiver.close();
    await tmp.remove();
  }
});

/** `run`'s command line parsed for real; its action swapped for one that keeps the options. */
async function parseRun(args: string[]): Promise<RunCliOptions> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
  registerCommands(program);
  let given: RunCliOptions | undefined;
  program.commands.find((c) => c.name() === "run")!.action((o: RunCliOptions) => void (given = o));
  const [natsPort, apiPort] = [await freePort(), await freePort()];
  await program.parseAsync(["run", "--state-dir", tmp.path, "--nats-port", String(natsPort), "--api-port", String(apiPort), "--no-metrics", ...args], {
    from: "user",
  });
  return given!;
}

async function publishScenarios(names: string[]): Promise<void> {
  // As the agent: the embedded server refuses anonymous clients.
  nc = await connectNats(job!.endpoints.nats!, { auth: job!.natsAuth!.agent });
  const publisher = new EventPublisher({ js: jetstream(nc), node: NODE, bootId: `b-${suffix()}`, agentStartUs: Date.now() * 1000 });
  await publishAll(publisher, sequentialScenarios(names));
  await publisher.close();
}

async function tracesFromApi(n: number): Promise<TraceJson[]> {
  let traces: TraceJson[] = [];
  await waitFor(
    async () => {
      const lines: string[] = [];
      await runTraces({ api: job!.endpoints.api!, output: "json" }, (l) => lines.push(l));
      traces = lines.map((l) => JSON.parse(l) as TraceJson);
      return traces.length === n;
    },
    { what: `${n} traces from the API` },
  );
  return traces;
}

describe("the OTLP endpoint on run's command line", () => {
  it("comes from --otlp-endpoint or $OTEL_EXPORTER_OTLP_ENDPOINT and reaches the main job's options; nothing without either", async () => {
    expect(mainJobOptions(await parseRun(["--otlp-endpoint", "https://otel.example:4318/base"]), silentLogger).otlp).toEqual({
      endpoint: "https://otel.example:4318/base",
    });
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = "http://127.0.0.1:4318";
    expect(mainJobOptions(await parseRun([]), silentLogger).otlp).toEqual({ endpoint: "http://127.0.0.1:4318" });
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    expect(mainJobOptions(await parseRun([]), silentLogger).otlp).toBeUndefined();
    await expect(parseRun(["--otlp-endpoint", "127.0.0.1:4318"])).rejects.toThrow(/--otlp-endpoint .* must be an http:\/\/ or https:\/\/ URL/);
  });
});

describe.each<ConsumerThreadMode>(["worker", "in-thread"])("main job with OTEL_EXPORTER_OTLP_ENDPOINT, consumer %s", (consumerThread) => {
  it("exports every stitched trace as spans with its hops' structure, counted in the consumer's metrics", async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
    const opts = mainJobOptions(await parseRun([]), silentLogger);
    job = await startMainJob({ ...opts, otlp: { ...opts.otlp!, flushMs: 1 }, agentEnabled: false, consumerThread });
    await publishScenarios(["ok", "no-listener"]);
    const traces = await tracesFromApi(2);

    for (const t of traces) {
      const sockets = t.hops.flatMap((h) => [h.client, h.server]).filter((ep) => ep.socket_id);
      const mine = () => receiver.spans.filter((s) => s.traceId === otlpTraceId(t.trace_id));
      await waitFor(() => mine().length === sockets.length, { what: `the ${sockets.length} spans of the ${t.outcome} trace` });
      const spans = mine();
      const bySocket = new Map(spans.map((s) => [s.attributes["tcptrail.socket_id"], s]));
      // Hop by hop: the server socket under its client, the next hop's client under the proxy's accepted socket.
      t.hops.forEach((h, i) => {
        const client = bySocket.get(h.client.socket_id)!;
        expect(client.kind).toBe(OTLP_KIND.CLIENT);
        expect(client.startUs).toBe(Date.parse(h.start!) * 1000 + Number(h.start!.match(/\.\d{3}(\d{3})/)?.[1] ?? 0));
        if (i === 0) expect(client.parentSpanId).toBe("");
        else expect(client.parentSpanId).toBe(bySocket.get(t.hops[i - 1]!.server.socket_id)!.spanId);
        if (h.server.socket_id) expect(bySocket.get(h.server.socket_id)!.parentSpanId).toBe(client.spanId);
      });
      expect(spans.every((s) => s.attributes["tcptrail.trace.outcome"] === t.outcome)).toBe(true);
    }
    const total = traces.reduce((n, t) => n + t.hops.flatMap((h) => [h.client, h.server]).filter((ep) => ep.socket_id).length, 0);
    expect(receiver.spans).toHaveLength(total);

    if (consumerThread === "worker") {
      // The consumer's registry, as the main /metrics appends it.
      await waitFor(async () => (await job!.consumerWorker!.metricsText())?.includes(`tcptrail_otlp_spans_exported_total ${total}`), {
        what: "the exported spans in the consumer's metrics",
      });
    }
  });
});
