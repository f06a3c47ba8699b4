// The events stream sized by time: max_age is the horizon, max_bytes what
// that horizon takes at the node's rate, from bytes per event measured here on
// a real nats-server (this file is the command that measures them:
// `npx vitest run test/transport/events-stream-size.test.ts` prints them).
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import type { ConnEventInit } from "../../src/model/mod.js";
import {
  DEFAULT_EVENTS_HORIZON_MS,
  DEFAULT_EVENTS_RATE,
  DEFAULT_STREAM_LIMITS,
  EVENTS_STREAM,
  EVENTS_STREAM_MARGIN,
  EVENT_STREAM_BYTES,
  MESSAGE_STREAM_BYTES,
  MIN_EVENTS_STREAM_BYTES,
  ensureStreams,
  eventsStreamLimits,
  isStreamStorageError,
  streamBytesPerEvent,
  type StreamStorageError,
} from "../../src/transport/mod.js";
import { setupNats } from "../helpers/mod.js";
import { parseFixture } from "../trace/helpers/load-fixture.js";
import { churnEvents, measureWireBytes, repeated } from "./wire-bytes.js";

const MIB = 2 ** 20;
const HOUR = 3_600_000;

describe("eventsStreamLimits", () => {
  it("gives the horizon as max age and horizon × rate × bytes per event × margin as max bytes", () => {
    // 5000 events/s cut every 50 ms: 250 events per message, each carrying 1/250 of its message's bytes.
    expect(streamBytesPerEvent(5000)).toBeCloseTo(EVENT_STREAM_BYTES + MESSAGE_STREAM_BYTES / 250, 9);
    const l = eventsStreamLimits({ horizonMs: 2 * HOUR, eventsPerSec: 5000 });
    expect(l.maxAgeMs).toBe(2 * HOUR);
    expect(l.maxBytes).toBe(Math.ceil(7200 * 5000 * streamBytesPerEvent(5000) * EVENTS_STREAM_MARGIN));
    // Twice the horizon, twice the bytes; the stated margin is there.
    expect(eventsStreamLimits({ horizonMs: 4 * HOUR, eventsPerSec: 5000 }).maxBytes / l.maxBytes).toBeCloseTo(2, 6);
    expect(EVENTS_STREAM_MARGIN).toBeGreaterThan(1);
  });

  it("charges a slow node's events a whole message each, a fast node's a thousandth of one", () => {
    // 10 events/s: every batch closes by its 50 ms timer with about one event.
    expect(streamBytesPerEvent(10)).toBe(EVENT_STREAM_BYTES + MESSAGE_STREAM_BYTES);
    // 100k events/s: batches fill to the publisher's 1000 events first.
    expect(streamBytesPerEvent(100_000)).toBeCloseTo(EVENT_STREAM_BYTES + MESSAGE_STREAM_BYTES / 1000, 9);
    expect(streamBytesPerEvent(100_000)).toBe(streamBytesPerEvent(1_000_000));
  });

  it("never goes below the floor, however short the horizon or slow the node", () => {
    expect(eventsStreamLimits({ horizonMs: 60_000, eventsPerSec: 1 }).maxBytes).toBe(MIN_EVENTS_STREAM_BYTES);
    expect(MIN_EVENTS_STREAM_BYTES).toBe(64 * MIB);
  });

  it("fills in the default horizon (1 h) and rate (5000/s), which are the stream's defaults", () => {
    expect(DEFAULT_EVENTS_HORIZON_MS).toBe(HOUR);
    expect(DEFAULT_EVENTS_RATE).toBe(5000);
    expect(eventsStreamLimits()).toEqual(eventsStreamLimits({ horizonMs: HOUR, eventsPerSec: 5000 }));
    expect(eventsStreamLimits({ eventsPerSec: 100 }).maxAgeMs).toBe(HOUR);
    expect(DEFAULT_STREAM_LIMITS.events).toMatchObject(eventsStreamLimits());
  });

  it.each([
    [{ horizonMs: 0 }, /events horizon must be a whole number of ms > 0, got 0/],
    [{ horizonMs: 1.5 }, /events horizon must be a whole number/],
    [{ eventsPerSec: 0 }, /events rate must be > 0 events\/s, got 0/],
    [{ eventsPerSec: Number.NaN }, /events rate must be > 0/],
    [{ horizonMs: 365 * 24 * HOUR * 1000, eventsPerSec: 1e9 }, /more than a stream can be given/],
  ])("refuses %j as an invalid argument", (h, message) => {
    let err: unknown;
    try {
      eventsStreamLimits(h);
    } catch (e) {
      err = e;
    }
    expect(isInvalidArgumentError(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
  });
});

describe("ensureStreams with a horizon, on a real nats-server", () => {
  it("creates the events stream with the horizon's max_age and max_bytes; explicit limits still win", async () => {
    const nats = await setupNats({ label: "horizon", streams: false });
    try {
      const created = await ensureStreams(nats.jsm);
      expect(created.events.config.max_age).toBe(HOUR * 1_000_000);
      expect(created.events.config.max_bytes).toBe(eventsStreamLimits().maxBytes);

      const horizon = { horizonMs: 6 * HOUR, eventsPerSec: 500 };
      await ensureStreams(nats.jsm, { eventsHorizon: horizon });
      const info = await nats.jsm.streams.info(EVENTS_STREAM);
      expect(info.config.max_age).toBe(6 * HOUR * 1_000_000);
      expect(info.config.max_bytes).toBe(eventsStreamLimits(horizon).maxBytes);
      // The arithmetic, not a cap or the floor, sets it.
      expect(info.config.max_bytes).toBeGreaterThan(6 * 3600 * 500 * EVENT_STREAM_BYTES);

      const both = await ensureStreams(nats.jsm, { eventsHorizon: horizon, events: { maxBytes: 256 * MIB } });
      expect(both.events.config.max_age).toBe(6 * HOUR * 1_000_000);
      expect(both.events.config.max_bytes).toBe(256 * MIB);
      // The other streams are not sized by the events horizon.
      expect(both.traces.config.max_bytes).toBe(DEFAULT_STREAM_LIMITS.traces.maxBytes);
    } finally {
      await nats.close();
    }
  });
});

describe("a horizon the server has no room for", () => {
  it("is refused with what to change, as an invalid argument (a usage error on the command line)", async () => {
    const nats = await setupNats({ label: "horizon-room", streams: false });
    try {
      // A year at a million events/s: petabytes, more than any test machine's disk.
      const err = await ensureStreams(nats.jsm, { eventsHorizon: { horizonMs: 365 * 24 * HOUR, eventsPerSec: 1e6 } }).catch((e: unknown) => e);
      expect(isStreamStorageError(err)).toBe(true);
      expect(isInvalidArgumentError(err)).toBe(true);
      expect((err as Error).message).toMatch(/stream TCPTRAIL_EVENTS needs \d+\.\d GB .*more than the nats-server's JetStream storage can reserve: shorten the events horizon \(--events-horizon\)/);
      expect((err as StreamStorageError).maxBytes).toBe(eventsStreamLimits({ horizonMs: 365 * 24 * HOUR, eventsPerSec: 1e6 }).maxBytes);
    } finally {
      await nats.close();
    }
  });
});

/** Recorded mesh-lab traffic (app → sidecar → sidecar → app, real bpftrace events), every scenario, end to end. */
function labEvents(): ConnEventInit[] {
  const dir = new URL("../trace/fixtures/lab/", import.meta.url);
  const out: ConnEventInit[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const records = parseFixture(readFileSync(new URL(file, dir), "utf8"));
    // Each recording on after the last one, so a batch never spans two runs of the lab.
    const base = records[0]!.event.tsNs;
    const after = out.length > 0 ? out[out.length - 1]!.tsNs + 1_000_000n : base;
    for (const { event } of records) out.push({ ...event, tsNs: event.tsNs - base + after });
  }
  return out;
}

describe("bytes per event in the stream, measured", () => {
  it("EVENT_STREAM_BYTES and MESSAGE_STREAM_BYTES match what a real nats-server stores for churn and mesh traffic", async () => {
    const recorded = readFileSync(new URL("../probes/fixtures/loopback-basics.txt", import.meta.url), "utf8").split("\n");
    const results = await measureWireBytes([
      { name: "churn (recorded loopback churn through the agent)", events: await churnEvents(recorded, 20_000) },
      { name: "mesh (recorded mesh-lab scenarios)", events: repeated(labEvents(), 20_000) },
    ]);
    for (const r of results) {
      console.log(
        `${r.name}: ${r.perEventBytes.toFixed(1)} B/event + ${r.perMessageBytes.toFixed(0)} B/message in the stream; ` +
          `payload ${r.payloadPerEventBytes.toFixed(1)} B/event; lz4 -1 of the message blocks: ${r.lz4Ratio === undefined ? "(no lz4)" : `${(r.lz4Ratio * 100).toFixed(0)} %`}`,
      );
    }
    const perEvent = Math.max(...results.map((r) => r.perEventBytes));
    const perMessage = Math.max(...results.map((r) => r.perMessageBytes));
    // The constant covers the heavier kind, and is not so far above it that the stream is oversized.
    expect(EVENT_STREAM_BYTES).toBeGreaterThanOrEqual(perEvent);
    expect(EVENT_STREAM_BYTES).toBeLessThanOrEqual(perEvent * 1.15);
    expect(MESSAGE_STREAM_BYTES).toBeGreaterThanOrEqual(perMessage * 0.9);
    expect(MESSAGE_STREAM_BYTES).toBeLessThanOrEqual(perMessage * 1.15);
  });
});
