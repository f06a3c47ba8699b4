// `run`'s embedded nats-server with a user per role (issue 12 part 4): against
// the real server, anonymous clients are refused, and each role can do its
// work and nothing more. "Refused" is checked by what reached the streams,
// not only by an error: a forged message that lands would fail these tests
// even if the client reported nothing.
import { statSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALERTS_STREAM,
  EVENTS_STREAM,
  EventPublisher,
  NATS_ROLES,
  TRACES_STREAM,
  connectNats,
  createDurableEventConsumer,
  ensureStreams,
  isNatsUnreachableError,
  jetstream,
  jetstreamManager,
  rolePermissions,
  startEmbeddedNats,
  subscribeEvents,
  type EmbeddedNats,
  type NatsConnection,
} from "../../src/transport/mod.js";
import { createEmbeddedAuth } from "../../src/transport/embedded/auth-config.js";
import { makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";
import { makeEvents } from "./helpers.js";

const DURABLE = "auth-test-stitcher";
const NODE = "auth-node";
let dir: TempDir;
let server: EmbeddedNats;
const clients: NatsConnection[] = [];

async function as(role: "agent" | "consumer" | "reader"): Promise<NatsConnection> {
  const nc = await connectNats(server.url, { name: `auth-test-${role}`, auth: server.auth!.roles[role], reconnectTimeWaitMs: 100 });
  clients.push(nc);
  return nc;
}

/** Messages in a stream, asked as the reader (who may look). */
async function count(stream: string): Promise<number> {
  const jsm = await jetstreamManager(await as("reader"));
  return (await jsm.streams.info(stream)).state.messages;
}

beforeAll(async () => {
  dir = await makeTempDir("embedded-auth");
  // As `run` does: the agent's user may publish its own node's events only.
  server = await startEmbeddedNats({ stateDir: dir.path, auth: { durableName: DURABLE, node: NODE } });
  // The consumer side creates the streams at start, as in `run`.
  await ensureStreams(await jetstreamManager(await as("consumer")));
}, 30_000);

afterAll(async () => {
  try {
    for (const nc of clients) await nc.close().catch(() => undefined);
    await server?.stop();
  } finally {
    await dir?.remove();
  }
});

describe("embedded nats-server with per-role users", () => {
  it("refuses anonymous clients: no connection, so nothing can be published to tcptrail.v1.>", async () => {
    const err = await connectNats(server.url, { name: "anonymous", maxReconnectAttempts: 0, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(isNatsUnreachableError(err)).toBe(true);
    expect((err as Error).message).toMatch(/refused the credentials/);
  });

  it("refuses a key it does not know (a user of another start)", async () => {
    const other = await makeTempDir("embedded-auth-other");
    try {
      // Keys are fresh per start: another start's reader is a stranger here.
      const stranger = await createEmbeddedAuth(other.path);
      const err = await connectNats(server.url, { auth: stranger.roles.reader, maxReconnectAttempts: 0, timeoutMs: 2000 }).catch((e: unknown) => e);
      expect(isNatsUnreachableError(err)).toBe(true);
    } finally {
      await other.remove();
    }
  });

  it("writes the config and the reader's seed readable by their owner only, and no seed into the config", () => {
    const { configFile, readerSeedFile, roles } = server.auth!;
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(statSync(readerSeedFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(readerSeedFile, "utf8").trim()).toBe(roles.reader.nkeySeed);
    const config = readFileSync(configFile, "utf8");
    for (const role of ["agent", "consumer", "reader"] as const) expect(config).not.toContain(roles[role].nkeySeed!);
  });

  it("lets the agent publish events, acked by JetStream", async () => {
    const before = await count(EVENTS_STREAM);
    const nc = await as("agent");
    // What the agent does at start: its stream only.
    await ensureStreams(await jetstreamManager(nc), {}, ["events"]);
    const publisher = new EventPublisher({ js: jetstream(nc), node: "auth-node", bootId: "b-agent", agentStartUs: Date.now() * 1000 });
    publisher.push(makeEvents(2, 1, "auth-node"));
    await publisher.close();
    expect(publisher.stats().published).toBe(2);
    expect(await count(EVENTS_STREAM)).toBe(before + 1);
  });

  it("refuses the agent's traces, alerts and stream changes beyond its own", async () => {
    const [traces, alerts] = [await count(TRACES_STREAM), await count(ALERTS_STREAM)];
    const nc = await as("agent");
    const js = jetstream(nc);
    await expect(js.publish("tcptrail.v1.traces.completed", new Uint8Array([1]), { timeout: 2000 })).rejects.toThrow();
    await expect(js.publish("tcptrail.v1.alerts.critical", new Uint8Array([1]), { timeout: 2000 })).rejects.toThrow();
    nc.publish("tcptrail.v1.traces.completed", new Uint8Array([2]));
    await nc.flush();
    await expect(ensureStreams(await jetstreamManager(nc), {}, ["traces"])).rejects.toThrow();
    expect(await count(TRACES_STREAM)).toBe(traces);
    expect(await count(ALERTS_STREAM)).toBe(alerts);
  });

  it("refuses the agent's events in another node's name, from the publisher as from a raw publish", async () => {
    const before = await count(EVENTS_STREAM);
    const nc = await as("agent");
    const js = jetstream(nc);
    await expect(js.publish("tcptrail.v1.events.other-node", new Uint8Array([1]), { timeout: 2000 })).rejects.toThrow(/Permissions Violation for Publish to "tcptrail.v1.events.other-node"/);
    nc.publish("tcptrail.v1.events.other-node", new Uint8Array([2]));
    await nc.flush();
    // The publisher as another node: refused at each retry, given up at close, nothing published.
    const forger = new EventPublisher({ js, node: "other-node", bootId: "b-forger", agentStartUs: Date.now() * 1000, publishTimeoutMs: 1000, retryMaxMs: 200 });
    forger.push(makeEvents(2, 1, "other-node"));
    await waitFor(() => forger.stats().publishErrors > 0, { what: "the forged batch's publish to be refused", timeoutMs: 10_000 });
    const stats = await forger.close(500);
    expect(stats.published).toBe(0);
    expect(stats.dropped).toBe(2);
    expect(await count(EVENTS_STREAM)).toBe(before);
    // Its own node's subject still takes a batch (the same connection: refusals do not close it).
    const own = new EventPublisher({ js, node: NODE, bootId: "b-own", agentStartUs: Date.now() * 1000 });
    own.push(makeEvents(1, 1, NODE));
    expect((await own.close()).published).toBe(1);
    expect(await count(EVENTS_STREAM)).toBe(before + 1);
  });

  it("does not let the agent read events: no consumer, no subscription, no one else's replies", async () => {
    const nc = await as("agent");
    await expect(jetstream(nc).consumers.get(EVENTS_STREAM)).rejects.toThrow();
    // A core subscription the server refuses delivers nothing, however much is published.
    let heard = 0;
    const refused: string[] = [];
    const listen = (err: Error | null, msg: unknown): void => {
      if (err) refused.push(err.message);
      else if (msg) heard++;
    };
    const sub = nc.subscribe("tcptrail.v1.events.>", { callback: listen });
    const inboxes = nc.subscribe("_INBOX.>", { callback: listen });
    await nc.flush().catch(() => undefined);
    const agent2 = await as("agent");
    const publisher = new EventPublisher({ js: jetstream(agent2), node: "auth-node", bootId: "b-agent-2", agentStartUs: Date.now() * 1000 });
    publisher.push(makeEvents(1, 1, "auth-node"));
    await publisher.close();
    // The reader's own request/reply traffic goes over _INBOX.
    await count(EVENTS_STREAM);
    await (await as("reader")).flush();
    expect(heard).toBe(0);
    expect(refused.sort()).toEqual(['Permissions Violation for Subscription to "_INBOX.>"', 'Permissions Violation for Subscription to "tcptrail.v1.events.>"']);
    sub.unsubscribe();
    inboxes.unsubscribe();
  });

  it("lets the consumer read events through its durable consumer, ack them, and publish traces and alerts, but not events", async () => {
    const agent = await as("agent");
    const publisher = new EventPublisher({ js: jetstream(agent), node: "auth-node", bootId: "b-consumer", agentStartUs: Date.now() * 1000 });
    publisher.push(makeEvents(1, 1, "auth-node"));
    await publisher.close();

    const nc = await as("consumer");
    const js = jetstream(nc);
    const events = await count(EVENTS_STREAM);
    const consumer = await createDurableEventConsumer(js, await jetstreamManager(nc), DURABLE);
    let acked = 0;
    // Every batch in the stream, each acked: the durable starts at the first.
    for await (const batch of consumer) {
      await batch.ack();
      if (++acked === events) break;
    }
    await consumer.close();
    expect(acked).toBe(events);
    const info = await (await jetstreamManager(nc)).consumers.info(EVENTS_STREAM, DURABLE);
    expect(info.num_ack_pending).toBe(0);

    const [traces, alerts] = [await count(TRACES_STREAM), await count(ALERTS_STREAM)];
    await js.publish("tcptrail.v1.traces.completed", new Uint8Array([1]), { msgID: "t-1" });
    await js.publish("tcptrail.v1.alerts.warning", new Uint8Array([1]));
    await expect(js.publish("tcptrail.v1.events.forged", new Uint8Array([1]), { timeout: 2000 })).rejects.toThrow();
    expect(await count(TRACES_STREAM)).toBe(traces + 1);
    expect(await count(ALERTS_STREAM)).toBe(alerts + 1);
    expect(await count(EVENTS_STREAM)).toBe(events);
  });

  it("lets a reader replay events but not publish, nor pull from the consumer's durable", async () => {
    const nc = await as("reader");
    const sub = await subscribeEvents(nc, { since: new Date(0), follow: false });
    let batches = 0;
    for await (const _ of sub) batches++;
    expect(batches).toBe(await count(EVENTS_STREAM));
    expect(batches).toBeGreaterThan(0);

    const before = await count(EVENTS_STREAM);
    await expect(jetstream(nc).publish("tcptrail.v1.events.forged", new Uint8Array([1]), { timeout: 2000 })).rejects.toThrow();
    nc.publish("tcptrail.v1.alerts.critical", new Uint8Array([1]));
    await nc.flush();
    expect(await count(EVENTS_STREAM)).toBe(before);
    await expect(jetstream(nc).consumers.get(EVENTS_STREAM, DURABLE)).rejects.toThrow();
  });

  it("docs/SECURITY.md lists every role's subjects as the server is given them", () => {
    const doc = readFileSync(new URL("../../docs/SECURITY.md", import.meta.url), "utf8");
    const row = (role: string) => doc.split("\n").find((l) => l.startsWith(`| ${role} |`)) ?? "";
    // The doc names run's per-node subject with a placeholder, and the shared agent user's wildcard beside it.
    const permissions = rolePermissions({ node: "doc-node" });
    const shared = rolePermissions();
    const asDoc = (subject: string) => subject.replace("tcptrail.v1.events.doc-node", "tcptrail.v1.events.<node>").replace("tcptrail.v1.heartbeats.doc-node", "tcptrail.v1.heartbeats.<node>");
    for (const role of NATS_ROLES) {
      for (const p of [permissions[role], shared[role]]) {
        for (const subject of [...p.publish.allow, ...(p.publish.deny ?? []), ...p.subscribe.allow]) expect(row(role)).toContain(`\`${asDoc(subject)}\``);
      }
    }
    expect(permissions.agent.publish.allow).toContain("tcptrail.v1.events.doc-node");
  });

  it("keeps the users across a restart of the server by its supervisor", async () => {
    const pid = server.pid;
    process.kill(pid, "SIGKILL");
    await waitFor(() => server.restarts === 1, { what: "the supervisor to restart nats-server", timeoutMs: 15_000 });
    expect(server.pid).not.toBe(pid);
    expect(await count(EVENTS_STREAM)).toBeGreaterThan(0);
    const err = await connectNats(server.url, { maxReconnectAttempts: 0, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(isNatsUnreachableError(err)).toBe(true);
  });
});
