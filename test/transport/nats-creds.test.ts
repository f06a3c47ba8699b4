// `.creds` (JWT) login against a real nats-server 2.9 in operator mode
// (nats-operator.ts: operator, account and user JWTs made by @nats-io/jwt, a
// MEMORY resolver), with users holding role-permissions.ts's permissions:
// the transport's connect path the commands use, then the built CLI itself
// (`observe` as a reader; as root, `agent` and `consumer` with bpftrace and
// a curl). "Refused" is checked by what reached the streams, not only by an
// error, and a user JWT from the scoped agent key is held to its own node.
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { nkeys } from "@nats-io/nats-core";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_DURABLE_NAME,
  EVENTS_STREAM,
  EVENTS_WILDCARD,
  HEARTBEATS_WILDCARD,
  EventPublisher,
  ROLE_INBOX_PREFIX,
  TRACES_STREAM,
  connectNats,
  ensureStreams,
  freePort,
  isNatsAuthError,
  isNatsUnreachableError,
  jetstream,
  jetstreamManager,
  rolePermissions,
  type NatsAuthOptions,
  type NatsConnection,
  type SubjectPermissions,
} from "../../src/transport/mod.js";
import { describeRoot, makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";
import { makeEvents } from "./helpers.js";
import { startOperatorNats, type OperatorNats } from "./nats-operator.js";

const BIN = new URL("../../bin/tcptrail", import.meta.url).pathname;
const NODE = "creds-node";
let dir: TempDir;
let server: OperatorNats;
const clients: NatsConnection[] = [];
const creds = {} as Record<"agent" | "consumer" | "reader" | "noTraces", string>;

/** The agent row with its events and heartbeats subjects templated by the user's name: the per-node pattern of docs/SECURITY.md. */
function agentTemplate(): SubjectPermissions {
  const agent = rolePermissions().agent;
  const templated = (s: string) => (s === EVENTS_WILDCARD ? "tcptrail.v1.events.{{name()}}" : s === HEARTBEATS_WILDCARD ? "tcptrail.v1.heartbeats.{{name()}}" : s);
  return { ...agent, publish: { allow: agent.publish.allow.map(templated) } };
}

async function connectWith(auth: NatsAuthOptions): Promise<NatsConnection> {
  const nc = await connectNats(server.url, { auth, maxReconnectAttempts: 0, timeoutMs: 3000 });
  clients.push(nc);
  return nc;
}

/** Messages in a stream (or on one subject of it), asked as the reader. */
async function count(stream: string, subject?: string): Promise<number> {
  const jsm = await jetstreamManager(await connectWith({ credsFile: creds.reader }));
  const info = await jsm.streams.info(stream, subject ? { subjects_filter: subject } : undefined);
  return subject ? (info.state.subjects?.[subject] ?? 0) : info.state.messages;
}

/** Publish n events as `node` through the agent's publisher; returns what it published. */
async function publishEvents(nc: NatsConnection, node: string, n: number): Promise<number> {
  const publisher = new EventPublisher({ js: jetstream(nc), node, bootId: `b-${node}-${Date.now()}`, agentStartUs: Date.now() * 1000, publishTimeoutMs: 2000, retryMaxMs: 200 });
  publisher.push(makeEvents(n, 1, node));
  return (await publisher.close(3000)).published;
}

beforeAll(async () => {
  dir = await makeTempDir("nats-creds");
  server = await startOperatorNats(dir.path, agentTemplate());
  const roles = rolePermissions({ node: NODE });
  creds.agent = await server.creds("agent", roles.agent);
  creds.consumer = await server.creds("consumer", roles.consumer);
  creds.reader = await server.creds("reader", roles.reader);
  creds.noTraces = await server.creds("no-traces", {
    publish: { allow: ["tcptrail.v1.>", "$JS.API.>"], deny: ["tcptrail.v1.traces.>"] },
    subscribe: { allow: ["_INBOX.>"] },
  });
  // The consumer side creates the streams at start, as `tcptrail consumer` does (with its role's inbox).
  await ensureStreams(await jetstreamManager(await connectWith({ credsFile: creds.consumer, inboxPrefix: ROLE_INBOX_PREFIX.consumer })));
}, 30_000);

afterAll(async () => {
  try {
    for (const nc of clients) await nc.close().catch(() => undefined);
    await server?.stop();
  } finally {
    await dir?.remove();
  }
});

describe(".creds login on nats-server in operator mode", () => {
  it("lets the agent's .creds publish its node's events, acked by JetStream", async () => {
    const before = await count(EVENTS_STREAM);
    const nc = await connectWith({ credsFile: creds.agent, inboxPrefix: ROLE_INBOX_PREFIX.agent });
    await ensureStreams(await jetstreamManager(nc), {}, ["events"]);
    expect(await publishEvents(nc, NODE, 3)).toBe(3);
    expect(await count(EVENTS_STREAM)).toBe(before + 1);
  });

  it("refuses traces to a user whose JWT denies tcptrail.v1.traces.>, and lands nothing there", async () => {
    const traces = await count(TRACES_STREAM);
    for (const auth of [{ credsFile: creds.noTraces }, { credsFile: creds.agent, inboxPrefix: ROLE_INBOX_PREFIX.agent }]) {
      const nc = await connectWith(auth);
      await expect(jetstream(nc).publish("tcptrail.v1.traces.completed", new Uint8Array([1]), { timeout: 2000 })).rejects.toThrow(
        /Permissions Violation for Publish to "tcptrail.v1.traces.completed"/,
      );
      nc.publish("tcptrail.v1.traces.reset_by_server", new Uint8Array([2]));
      await nc.flush();
    }
    expect(await count(TRACES_STREAM)).toBe(traces);
    // The deny is on traces only: the same user's events land.
    expect(await publishEvents(await connectWith({ credsFile: creds.noTraces }), "no-traces-node", 1)).toBe(1);
  });

  it("refuses the agent's .creds as another node, and holds a scoped-key user to the node it is named after", async () => {
    const agent = await connectWith({ credsFile: creds.agent, inboxPrefix: ROLE_INBOX_PREFIX.agent });
    expect(await publishEvents(agent, "other-node", 1)).toBe(0);

    // The user JWT has no permissions: the server takes the signing key's template, {{name()}} = "node-a".
    const scoped = await connectWith({ credsFile: await server.scopedCreds("node-a"), inboxPrefix: ROLE_INBOX_PREFIX.agent });
    expect(await publishEvents(scoped, "node-a", 2)).toBe(2);
    await expect(jetstream(scoped).publish("tcptrail.v1.events.node-b", new Uint8Array([1]), { timeout: 2000 })).rejects.toThrow(
      /Permissions Violation for Publish to "tcptrail.v1.events.node-b"/,
    );
    expect(await publishEvents(scoped, "node-b", 1)).toBe(0);
    expect(await count(EVENTS_STREAM, "tcptrail.v1.events.node-a")).toBe(1);
    expect(await count(EVENTS_STREAM, "tcptrail.v1.events.node-b")).toBe(0);
    expect(await count(EVENTS_STREAM, "tcptrail.v1.events.other-node")).toBe(0);
  });

  it("refuses a user of an unknown account, and a JWT with another key's seed, naming the flag to fix", async () => {
    const stranger = await connectWith({ credsFile: await server.strangerCreds("stranger") }).catch((e: unknown) => e);
    expect(isNatsUnreachableError(stranger)).toBe(true);
    expect((stranger as Error).message).toMatch(/refused the credentials.*--nats-creds/);

    // A JWT whose seed is not its subject's: the server's nonce signature check fails.
    const [jwtPart] = readFileSync(creds.reader, "utf8").split("-----BEGIN USER NKEY SEED-----");
    const otherSeed = new TextDecoder().decode(nkeys.createUser().getSeed());
    const swapped = join(dir.path, "swapped.creds");
    await writeFile(swapped, `${jwtPart}-----BEGIN USER NKEY SEED-----\n${otherSeed}\n------END USER NKEY SEED------\n`, { mode: 0o600 });
    const mismatch = await connectWith({ credsFile: swapped }).catch((e: unknown) => e);
    expect(isNatsUnreachableError(mismatch)).toBe(true);
    expect((mismatch as Error).message).toMatch(/refused the credentials/);
  });

  it("rejects a file that is not a .creds before connecting (a NatsAuthError naming --nats-creds)", async () => {
    const seedOnly = join(dir.path, "seed-only.nk");
    await writeFile(seedOnly, `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`, { mode: 0o600 });
    const err = await connectWith({ credsFile: seedOnly }).catch((e: unknown) => e);
    expect(isNatsAuthError(err)).toBe(true);
    expect((err as { property: string }).property).toBe("--nats-creds");
    expect((err as Error).message).toMatch(/is not a \.creds file/);
  });
});

describe("the CLI with --nats-creds", () => {
  it("tcptrail observe reads the agent's events with the reader's .creds", async () => {
    const node = "observe-creds-node";
    const agent = rolePermissions({ node }).agent;
    // This test's own agent: a user for its node (the shared one is limited to NODE).
    const own = await connectWith({ credsFile: await server.creds("observe-agent", agent), inboxPrefix: ROLE_INBOX_PREFIX.agent });
    expect(await publishEvents(own, node, 4)).toBe(4);
    const r = await execa(BIN, ["observe", "--nats", server.url, "--nats-creds", creds.reader, "--since", "1h", "-o", "json", "--node", node], { reject: false });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { node: string });
    expect(lines.length).toBe(4);
    expect(lines.every((e) => e.node === node)).toBe(true);
  });

  it("fails with one sentence: exit 1 for refused credentials, exit 2 for a file that is not a .creds", async () => {
    const refused = await execa(BIN, ["observe", "--nats", server.url, "--nats-creds", await server.strangerCreds("cli-stranger"), "--since", "1h"], { reject: false });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^tcptrail: NATS at nats:\/\/127\.0\.0\.1:\d+ refused the credentials .*--nats-creds/m);
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    const seedOnly = join(dir.path, "cli-seed-only.nk");
    await writeFile(seedOnly, `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`, { mode: 0o600 });
    const bad = await execa(BIN, ["observe", "--nats", server.url, "--nats-creds", seedOnly, "--since", "1h"], { reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(`--nats-creds ${seedOnly} is not a .creds file`);
  });
});

describeRoot("tcptrail agent and consumer with --nats-creds (root: bpftrace)", () => {
  const CLI_NODE = "cli-creds-node";
  const procs: ResultPromise[] = [];
  let http: Server | undefined;
  let state: TempDir | undefined;
  let agentLog = "";
  let consumerLog = "";

  afterAll(async () => {
    for (const p of procs) p.kill("SIGINT");
    await Promise.allSettled(procs);
    http?.close();
    await state?.remove();
  }, 30_000);

  it("the agent publishes a curl's events and the consumer acks them and publishes its trace", async () => {
    state = await makeTempDir("nats-creds-consumer");
    const agentCreds = await server.creds("cli-agent", rolePermissions({ node: CLI_NODE }).agent);
    const consumer = execa(BIN, ["consumer", "--nats", server.url, "--nats-creds", creds.consumer, "--state-dir", state.path, "--api-port", String(await freePort()), "--no-metrics"], { reject: false, all: true });
    procs.push(consumer);
    consumer.all?.on("data", (d: Buffer) => (consumerLog += d.toString()));
    const agent = execa(BIN, ["agent", "--nats", server.url, "--nats-creds", agentCreds, "--node", CLI_NODE, "--no-metrics", "--events-horizon", "1h", "--events-rate", "100"], { reject: false, all: true });
    procs.push(agent);
    agent.all?.on("data", (d: Buffer) => (agentLog += d.toString()));
    await waitFor(() => consumerLog.includes("tcptrail running"), { what: `tcptrail consumer to start (log: ${consumerLog.slice(-500)})`, timeoutMs: 60_000 });
    await waitFor(() => agentLog.includes("agent running"), { what: `tcptrail agent to start (log: ${agentLog.slice(-500)})`, timeoutMs: 60_000 });

    http = createServer((_req, res) => res.end("hello\n"));
    await new Promise<void>((r) => http!.listen(0, "127.0.0.1", () => r()));
    const tracesBefore = await count(TRACES_STREAM);
    const curl = await execa("curl", ["-s", `http://127.0.0.1:${(http.address() as { port: number }).port}/`]);
    expect(curl.stdout).toBe("hello");

    const subject = `tcptrail.v1.events.${CLI_NODE}`;
    await waitFor(async () => (await count(EVENTS_STREAM, subject)) > 0, { what: `events on ${subject}`, timeoutMs: 20_000, intervalMs: 200 });
    // The consumer's durable (asked as the consumer: the reader may not look at it) acks past them.
    const jsm = await jetstreamManager(await connectWith({ credsFile: creds.consumer, inboxPrefix: ROLE_INBOX_PREFIX.consumer }));
    const last = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
    await waitFor(async () => (await jsm.consumers.info(EVENTS_STREAM, DEFAULT_DURABLE_NAME)).ack_floor.stream_seq >= last, {
      what: `the consumer to ack events up to seq ${last}`,
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    await waitFor(async () => (await count(TRACES_STREAM)) > tracesBefore, { what: "a trace published by the consumer", timeoutMs: 30_000, intervalMs: 500 });
    expect(`${agentLog}${consumerLog}`).not.toMatch(/Permissions Violation|Authorization Violation/);
  }, 120_000);

  it("the agent with a .creds of an unknown account exits 1 with one sentence naming --nats-creds", async () => {
    const r = await execa(BIN, ["agent", "--nats", server.url, "--nats-creds", await server.strangerCreds("cli-agent-stranger"), "--node", "x", "--no-metrics"], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/refused the credentials .*--nats-creds/);
  }, 60_000);
});
