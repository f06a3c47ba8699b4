// The test nats-server helpers against the real binary: what every test file
// relying on them assumes (JetStream, private store, nothing left behind).
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EVENTS_STREAM, connectNats, jetstream, jetstreamManager } from "../../src/transport/mod.js";
import { setupNats } from "./nats-setup.js";
import { startNatsServer } from "./nats-server.js";
import { isProcessAlive } from "./process-alive.js";

describe("startNatsServer", () => {
  it("runs a JetStream server in its own dir; close() kills it by pid and removes the dir", async () => {
    const a = await startNatsServer();
    const b = await startNatsServer();
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.dir).not.toBe(b.dir);
      const nc = await connectNats(a.url);
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: "PROBE", subjects: ["probe.>"] });
        expect((await jetstream(nc).publish("probe.x", new Uint8Array([1]))).seq).toBe(1);
      } finally {
        await nc.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
    expect(isProcessAlive(a.pid)).toBe(false);
    expect(existsSync(a.dir)).toBe(false);
    await a.close(); // idempotent
  });

  it("restart() comes back on the same port with the same store", async () => {
    const s = await startNatsServer();
    try {
      const first = s.pid;
      let nc = await connectNats(s.url);
      await (await jetstreamManager(nc)).streams.add({ name: "KEEP", subjects: ["keep.>"] });
      await jetstream(nc).publish("keep.a", new Uint8Array([7]));
      await nc.close();
      await s.stop();
      expect(isProcessAlive(first)).toBe(false);
      await s.restart();
      expect(s.pid).not.toBe(first);
      nc = await connectNats(s.url);
      expect((await (await jetstreamManager(nc)).streams.info("KEEP")).state.messages).toBe(1);
      await nc.close();
    } finally {
      await s.close();
    }
  });

  it("removes its dir when the server cannot start", async () => {
    const label = `nats-fail-${randomBytes(4).toString("hex")}`;
    await expect(startNatsServer({ label, binary: "/nonexistent/nats-server" })).rejects.toThrow(/nats-server/);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`tcptrail-${label}-`))).toEqual([]);
  });
});

describe("setupNats", () => {
  it("connects a client and creates the tcptrail streams; close() undoes all of it", async () => {
    const n = await setupNats();
    try {
      expect((await n.jsm.streams.info(EVENTS_STREAM)).config.subjects).toEqual(["tcptrail.v1.events.>"]);
    } finally {
      await n.close();
    }
    expect(n.nc.isClosed()).toBe(true);
    expect(isProcessAlive(n.server.pid)).toBe(false);
    expect(existsSync(n.server.dir)).toBe(false);
  });

  it("leaves the streams out when asked, for tests of a missing stream", async () => {
    const n = await setupNats({ streams: false });
    try {
      await expect(n.jsm.streams.info(EVENTS_STREAM)).rejects.toThrow(/stream not found/);
    } finally {
      await n.close();
    }
  });
});
