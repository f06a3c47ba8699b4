// One private world per test: nats-server with JetStream and a SQLite store in
// a temp dir, core subscriptions recording what the consumer publishes, and an
// agent-like publisher. close() removes all of it, even after a failure.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeAlert } from "../../../src/alert/mod.js";
import { v1, type Alert, type ConnEvent, type Trace } from "../../../src/model/mod.js";
import { SqliteTraceStore } from "../../../src/store/mod.js";
import {
  ALERTS_WILDCARD,
  EventPublisher,
  TRACES_WILDCARD,
  connectNats,
  ensureStreams,
  jetstream,
  jetstreamManager,
  startEmbeddedNats,
  type EmbeddedNats,
  type JetStreamClient,
  type NatsConnection,
} from "../../../src/transport/mod.js";
import { NODE } from "./workload.js";

export interface Harness {
  dir: string;
  natsUrl: string;
  nc: NatsConnection;
  js: JetStreamClient;
  store: SqliteTraceStore;
  /** Every trace published on tcptrail.v1.traces.*, with its subject. */
  traces: { subject: string; trace: Trace }[];
  alerts: { subject: string; alert: Alert }[];
  /** A unique durable name, so tests never share a consumer. */
  durable: string;
  /** An agent run on node `lab`: publishes events in seq order, acked. */
  publisher(): EventPublisher;
  close(): Promise<void>;
}

export const suffix = (): string => randomBytes(4).toString("hex");

export async function startHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "tcptrail-consumer-"));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const server: EmbeddedNats = await startEmbeddedNats({ stateDir: join(dir, "nats") });
    cleanups.push(() => server.stop());
    const nc = await connectNats(server.url, { name: "consumer-test" });
    cleanups.push(() => nc.close());
    await ensureStreams(await jetstreamManager(nc));
    const store = new SqliteTraceStore({ path: join(dir, "tcptrail.db") });
    cleanups.push(() => store.close());
    const traces: Harness["traces"] = [];
    const alerts: Harness["alerts"] = [];
    const ts = nc.subscribe(TRACES_WILDCARD, {
      callback: (_e, m) => traces.push({ subject: m.subject, trace: v1.Trace.decode(m.data) }),
    });
    const as = nc.subscribe(ALERTS_WILDCARD, {
      callback: (_e, m) => alerts.push({ subject: m.subject, alert: decodeAlert(m.data) }),
    });
    cleanups.push(async () => {
      ts.unsubscribe();
      as.unsubscribe();
    });
    await nc.flush();
    const js = jetstream(nc);
    const publishers: EventPublisher[] = [];
    cleanups.push(() => Promise.all(publishers.map((p) => p.close(1000))));
    return {
      dir,
      natsUrl: server.url,
      nc,
      js,
      store,
      traces,
      alerts,
      durable: `test-${suffix()}`,
      publisher() {
        const p = new EventPublisher({ js, node: NODE, bootId: `boot-${suffix()}`, agentStartUs: Date.now() * 1000, maxBatchEvents: 64 });
        publishers.push(p);
        return p;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Push events and wait until JetStream acked all of them. */
export async function publishAll(p: EventPublisher, events: readonly ConnEvent[]): Promise<void> {
  p.push(events);
  if (!(await p.flush(10_000))) throw new Error("events not acked within 10 s");
}

/** Poll `check` until it returns true or `timeoutMs` passes (then throw with `what`). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
