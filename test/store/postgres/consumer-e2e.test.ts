// `tcptrail consumer --store postgres://…` end to end: its command line
// parsed by the real CLI, the main job started from it (the code path of the
// command, in this process), a real nats-server, events published as an
// agent does, and the traces read back through the query API, stored in the
// private PostgreSQL (checked there too, with a second store on the same
// database, as a second consumer's API would). A bad --store is a usage error.
import { randomBytes } from "node:crypto";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { consumerJobOptions, type ConsumerSideCliOptions } from "../../../src/cli/commands/consumer.js";
import { registerCommands } from "../../../src/cli/commands/mod.js";
import { EXIT_USAGE, exitCodeOf } from "../../../src/cli/exit.js";
import { silentLogger } from "../../../src/log/logger.js";
import { outcomeName } from "../../../src/model/mod.js";
import type { TraceJson } from "../../../src/query/mod.js";
import { startMainJob, type MainJob } from "../../../src/runtime/mod.js";
import { PostgresTraceStore } from "../../../src/store/mod.js";
import { EventPublisher } from "../../../src/transport/mod.js";
import { makeTempDir, setupNats, waitFor, type NatsSetup, type TempDir } from "../../helpers/mod.js";
import { stitch } from "../../trace/helpers/stitch.js";
import { NODE, sequentialScenarios } from "../../consumer/helpers/workload.js";
import { postgresForFile } from "./harness.js";

async function parsed<T>(command: string, args: string[]): Promise<T> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
  registerCommands(program);
  let given: T | undefined;
  program.commands.find((c) => c.name() === command)!.action((o: T) => void (given = o));
  await program.parseAsync([command, ...args], { from: "user" });
  return given!;
}

const pg = postgresForFile("pg-consumer-e2e");
let job: MainJob | undefined;
let nats: NatsSetup | undefined;
let tmp: TempDir | undefined;
let publisher: EventPublisher | undefined;
let reader: PostgresTraceStore | undefined;
afterEach(async () => {
  try {
    await publisher?.close(1000);
    await job?.stop();
    await reader?.close();
  } finally {
    publisher = job = reader = undefined;
    await nats?.close();
    nats = undefined;
    await tmp?.remove();
    tmp = undefined;
  }
});

describe("tcptrail consumer --store postgres://…", () => {
  it("stores the traces of published events in PostgreSQL and serves them on the query API", async () => {
    nats = await setupNats({ label: "pg-e2e-nats" });
    tmp = await makeTempDir("pg-e2e");
    const url = await pg.server.createDatabase("e2e");
    const opts = await parsed<ConsumerSideCliOptions>("consumer", [
      "--nats", nats.server.url, "--store", url, "--state-dir", tmp.path, "--listen", "127.0.0.1:0", "--no-metrics",
      // The recorded scenarios carry their recording's times: keep them from the store's age retention,
      // which runs at start and every 10 s (a run between the writes and the checks below deleted 64 events).
      "--traces-max-age", "3650d", "--events-max-age", "3650d",
    ]);
    job = await startMainJob({ ...consumerJobOptions(opts, silentLogger), consumerThread: "in-thread" });
    // The store is the server's database, named without a password; no SQLite file was made.
    expect(job.endpoints.store).toContain("/e2e");

    const events = sequentialScenarios(["ok", "app-abort-fin", "no-listener", "reject"]);
    const expected = new Map(stitch(events.map((event) => ({ node: NODE, event }))).traces.map((t) => [t.traceId, outcomeName(t.outcome)]));
    expect(expected.size).toBe(4);
    publisher = new EventPublisher({ js: nats.js, node: NODE, bootId: `boot-${randomBytes(4).toString("hex")}`, agentStartUs: Date.now() * 1000, maxBatchEvents: 64 });
    publisher.push(events);
    expect(await publisher.flush(10_000)).toBe(true);

    const fromApi = await waitFor(
      async () => {
        const res = await fetch(new URL("/api/v1/traces", job!.endpoints.api));
        const body = (await res.json()) as { traces: TraceJson[] };
        return body.traces.length >= expected.size ? new Map(body.traces.map((t) => [t.trace_id, t.outcome])) : null;
      },
      { what: "4 traces on the query API" },
    );
    expect(fromApi).toEqual(expected);

    // In PostgreSQL, once each, with their raw events: what another consumer's API on this database reads.
    reader = await PostgresTraceStore.open({ url });
    const stats = await reader.stats();
    expect(stats.traces).toBe(4);
    expect(stats.events).toBe(events.length);
    const listed = await reader.listTraces();
    expect(new Map(listed.traces.map((t) => [t.traceId, outcomeName(t.outcome)]))).toEqual(expected);
    const first = listed.traces[0]!;
    const tl = await reader.timeline({ traceId: first.traceId });
    expect(tl.traces.map((t) => t.traceId)).toEqual([first.traceId]);
    expect(tl.events.length).toBeGreaterThan(0);
  });

  it.each(["mysql://h/db", "postgres://h/", "sqlite:"])("refuses --store %j as a usage error", async (bad) => {
    const err = await parsed("consumer", ["--store", bad]).catch((e: unknown) => e);
    expect(exitCodeOf(err)).toBe(EXIT_USAGE);
  });
});
