// Shared fixtures for transport tests: a private nats-server per test file
// and synthetic events that look like what the agent produces.
import { afterAll, beforeAll } from "vitest";
import { EventKind, Role, SidecarLeg, TcpState, type ConnEventInit } from "../../src/model/mod.js";
import {
  EventPublisher,
  subscribeEvents,
  type EventPublisherOptions,
  type NatsConnection,
  type SubscribeEventsOptions,
} from "../../src/transport/mod.js";
import { setupNats, type NatsSetup } from "../helpers/mod.js";

export type NatsFixture = NatsSetup;

/**
 * The shared NATS setup with the tcptrail streams, and a client that
 * reconnects within 100 ms instead of the production 1 s: these tests stop
 * and restart the server (fx.server.stop(), fx.server.restart()).
 */
export function startNatsFixture(): Promise<NatsFixture> {
  return setupNats({ label: "transport", connect: { name: "transport-test", reconnectTimeWaitMs: 100 } });
}

/**
 * One fixture for the calling test file: started before its first test,
 * closed after its last. The returned object reads through to the fixture,
 * so tests keep writing `fx.js`, `fx.server.stop()` without a `let` each
 * file has to declare and guard.
 */
export function natsFixtureForFile(): NatsFixture {
  let current: NatsFixture | undefined;
  beforeAll(async () => {
    current = await startNatsFixture();
  });
  afterAll(async () => {
    await current?.close();
  });
  const started = (): NatsFixture => {
    if (current === undefined) throw new Error("the NATS fixture is used before beforeAll started it");
    return current;
  };
  return {
    get server() {
      return started().server;
    },
    get nc() {
      return started().nc;
    },
    get js() {
      return started().js;
    },
    get jsm() {
      return started().jsm;
    },
    close: () => started().close(),
  };
}

/** Retries short enough that a test sees several of them within a second. */
export const FAST_RETRY = { publishTimeoutMs: 500, retryInitialMs: 50, retryMaxMs: 300 } as const;

/** A queue that overflows within a few thousand events while NATS is away. */
export const TINY_QUEUE = { maxBatchEvents: 100, maxInFlight: 2, maxQueuedEvents: 500, ...FAST_RETRY } as const;

/**
 * A publisher on the fixture for one node (each test its own node, so reads
 * filtered by node see only that test's events); boot "b" unless overridden.
 */
export function testPublisher(
  fx: NatsFixture,
  node: string,
  opts: Partial<Omit<EventPublisherOptions, "js" | "node">> = {},
): EventPublisher {
  return new EventPublisher({ js: fx.js, node, bootId: "b", agentStartUs: 1, ...opts });
}

export interface DropReport {
  count: number;
  firstTsNs: bigint;
  lastTsNs: bigint;
}

/** An onDrop that keeps every report, for tests that check what was shed. */
export function recordDrops(): { drops: DropReport[]; onDrop: NonNullable<EventPublisherOptions["onDrop"]> } {
  const drops: DropReport[] = [];
  return { drops, onDrop: (count, firstTsNs, lastTsNs) => drops.push({ count, firstTsNs, lastTsNs }) };
}

/** `n` events with seq from..from+n-1, alternating kinds like a real connection. */
export function makeEvents(n: number, from = 1, node = "node-a"): ConnEventInit[] {
  const out: ConnEventInit[] = [];
  for (let i = 0; i < n; i++) {
    const seq = from + i;
    out.push({
      seq,
      kind: i % 3 === 2 ? EventKind.EVENT_KIND_RESET_SENT : EventKind.EVENT_KIND_STATE_CHANGE,
      tsNs: 1_000_000_000n + BigInt(seq) * 1000n,
      timeUs: 1_763_700_000_000_000 + seq,
      sock: (0xffff888000000000n + BigInt(seq) * 64n).toString(16),
      netns: 4026531840,
      pod: `${node}-pod`,
      family: 4,
      local: { ip: "10.88.0.3", port: 8080 },
      remote: { ip: "10.88.0.2", port: 40000 + (seq % 20000) },
      oldState: TcpState.TCP_STATE_ESTABLISHED,
      newState: TcpState.TCP_STATE_FIN_WAIT1,
      uid: 1337,
      owner: { pid: 1234, tid: 1234, comm: "haproxy" },
      role: Role.ROLE_SIDECAR,
      leg: SidecarLeg.SIDECAR_LEG_UPSTREAM,
    });
  }
  return out;
}

/** Read back every event in the stream (no follow), with subscriber stats. */
export async function readAll(
  nc: NatsConnection,
  opts: SubscribeEventsOptions = {},
): Promise<{ seqs: number[]; batches: number; malformed: number }> {
  const sub = await subscribeEvents(nc, opts);
  const seqs: number[] = [];
  let batches = 0;
  for await (const { batch } of sub) {
    batches++;
    for (const ev of batch.events) seqs.push(ev.seq);
  }
  return { seqs, batches, malformed: sub.stats().malformed };
}

export const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
