import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_STREAM_LIMITS,
  EVENTS_STREAM,
  alertsSubject,
  connectNats,
  ensureStreams,
  eventsSubject,
  freePort,
  isNatsServerMissingError,
  isNatsUnreachableError,
  jetstreamManager,
  startEmbeddedNats,
  tracesSubject,
} from "../../src/transport/mod.js";
import { isProcessAlive, tempDirForAll } from "../helpers/mod.js";

const tmp = tempDirForAll("lifecycle");
describe("subjects", () => {
  it("names subjects with one sanitized token", () => {
    expect(eventsSubject("node-1")).toBe("tcptrail.v1.events.node-1");
    expect(eventsSubject("Node 1.lab>*")).toBe("tcptrail.v1.events.node_1_lab__");
    expect(tracesSubject("RESET_BY_SERVER")).toBe("tcptrail.v1.traces.reset_by_server");
    expect(alertsSubject("CRITICAL")).toBe("tcptrail.v1.alerts.critical");
  });
});

describe("startEmbeddedNats / connectNats / ensureStreams", () => {
  it("starts a JetStream server, creates then updates the streams, and stops it for good", async () => {
    const srv = await startEmbeddedNats({ stateDir: tmp.path });
    try {
      expect(isProcessAlive(srv.pid)).toBe(true);
      const nc = await connectNats(srv.url);
      try {
        const jsm = await jetstreamManager(nc);
        const created = await ensureStreams(jsm);
        expect(created.events.config.subjects).toEqual(["tcptrail.v1.events.>"]);
        expect(created.events.config.max_bytes).toBe(DEFAULT_STREAM_LIMITS.events.maxBytes);
        expect(created.events.config.duplicate_window).toBe(120_000_000_000);
        const updated = await ensureStreams(jsm, { events: { maxAgeMs: 3_600_000, maxBytes: 1 << 20 } });
        expect(updated.events.config.max_age).toBe(3_600_000_000_000);
        expect((await jsm.streams.info(EVENTS_STREAM)).config.max_bytes).toBe(1 << 20);
        expect(updated.traces.config.subjects).toEqual(["tcptrail.v1.traces.>"]);
        expect(updated.alerts.config.subjects).toEqual(["tcptrail.v1.alerts.>"]);
      } finally {
        await nc.close();
      }
    } finally {
      await srv.stop();
    }
    expect(isProcessAlive(srv.pid)).toBe(false);
  });

  it("says how to install nats-server when the binary is missing", async () => {
    const err = await startEmbeddedNats({ stateDir: tmp.path, binary: join(tmp.path, "no-such-nats-server") }).catch((e) => e);
    expect(isNatsServerMissingError(err)).toBe(true);
    expect(String(err.message)).toContain("apt-get install nats-server");
  });

  it("reports an unreachable server clearly", async () => {
    const port = await freePort();
    const err = await connectNats(`nats://127.0.0.1:${port}`, { timeoutMs: 1000 }).catch((e) => e);
    expect(isNatsUnreachableError(err)).toBe(true);
    expect(String(err.message)).toContain(`127.0.0.1:${port}`);
  });
});
