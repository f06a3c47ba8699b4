// The embedded nats-server is supervised: a server that dies is restarted on
// the same port and clients carry on; it dies with the tcptrail process that
// started it, even by kill -9; and a server a crashed run left behind on the
// same state directory is replaced at start instead of failing the next run.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { connectNats, ensureStreams, eventsSubject, freePort, jetstream, jetstreamManager, startEmbeddedNats } from "../../src/transport/mod.js";
import { isProcessAlive, makeTempDir, waitFor } from "../helpers/mod.js";

const TRANSPORT = fileURLToPath(new URL("../../dist/src/transport/mod.js", import.meta.url));
const NATS = "/usr/sbin/nats-server";

/** SIGKILL pids still alive: a failed test leaves nothing running. */
function killAll(pids: number[]): void {
  for (const pid of pids) if (isProcessAlive(pid)) process.kill(pid, "SIGKILL");
}

describe("embedded nats-server supervision", () => {
  it("restarts a killed server on the same port; a connected client publishes again", async () => {
    const dir = await makeTempDir("nats-restart");
    const srv = await startEmbeddedNats({ stateDir: dir.path, restartMinMs: 20 });
    const pids = [srv.pid];
    try {
      const nc = await connectNats(srv.url, { reconnectTimeWaitMs: 50 });
      try {
        await ensureStreams(await jetstreamManager(nc));
        const js = jetstream(nc);
        await js.publish(eventsSubject("n1"), new Uint8Array([1]));
        const first = srv.pid;
        process.kill(first, "SIGKILL");
        await waitFor(() => srv.restarts === 1, { what: "the supervisor to restart the server" });
        pids.push(srv.pid);
        expect(srv.pid).not.toBe(first);
        expect(isProcessAlive(first)).toBe(false);
        // Same URL: the client reconnects by itself and the stream kept what it had.
        const ack = await waitFor(() => js.publish(eventsSubject("n1"), new Uint8Array([2])).catch(() => null), {
          what: "a publish acked by the restarted server",
        });
        expect(ack.seq).toBe(2);
      } finally {
        await nc.close();
      }
      await srv.stop();
      expect(isProcessAlive(srv.pid)).toBe(false);
      expect(srv.restarts).toBe(1);
    } finally {
      killAll(pids);
      await dir.remove();
    }
  });

  it("dies with the process that started it, even when that process is killed with SIGKILL", async () => {
    const dir = await makeTempDir("nats-pdeath");
    // A separate Node process plays tcptrail: it starts the server and prints its pid.
    const script = `import { startEmbeddedNats } from ${JSON.stringify(TRANSPORT)};
      const s = await startEmbeddedNats({ stateDir: ${JSON.stringify(dir.path)} });
      console.log(JSON.stringify({ pid: s.pid })); setInterval(() => {}, 1000);`;
    const parent = execa("node", ["--input-type=module", "-e", script], { reject: false, buffer: false });
    let natsPid = 0;
    try {
      natsPid = await new Promise<number>((resolve, reject) => {
        let out = "";
        parent.stdout!.on("data", (c: Buffer) => {
          out += c.toString();
          const line = out.split("\n").find((l) => l.startsWith("{"));
          if (line) resolve((JSON.parse(line) as { pid: number }).pid);
        });
        void parent.then((r) => reject(new Error(`parent exited first: ${r.exitCode ?? r.signal}`)));
      });
      expect(isProcessAlive(natsPid)).toBe(true);
      parent.kill("SIGKILL");
      await waitFor(() => !isProcessAlive(natsPid), { what: "the orphaned nats-server to exit" });
    } finally {
      parent.kill("SIGKILL");
      if (natsPid) killAll([natsPid]);
      await dir.remove();
    }
  });

  it("replaces a server left on the same state directory by a crashed run, and says so", async () => {
    const dir = await makeTempDir("nats-stale");
    const port = await freePort();
    // What a run before the death signal left: a server of ours, detached, with its pid file.
    const stale = execa(NATS, ["-js", "-sd", join(dir.path, "jetstream"), "-p", String(port), "-P", join(dir.path, "nats-server.pid")], {
      detached: true,
      reject: false,
      stdio: "ignore",
    });
    const pids = [stale.pid!];
    const warnings: string[] = [];
    const log = { warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as import("../../src/log/logger.js").Logger;
    try {
      const pidFile = join(dir.path, "nats-server.pid");
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() === String(stale.pid), {
        what: "the stale server's pid file",
      });
      const srv = await startEmbeddedNats({ stateDir: dir.path, port, log });
      pids.push(srv.pid);
      expect(srv.replacedStalePid).toBe(stale.pid);
      expect(isProcessAlive(stale.pid!)).toBe(false);
      expect(warnings.join("\n")).toContain(`stopped nats-server pid ${stale.pid}`);
      await srv.stop();
    } finally {
      killAll(pids);
      await dir.remove();
    }
  });

  it("never kills what a stale pid file names when it is not our server", async () => {
    const dir = await makeTempDir("nats-pidfile");
    const other = execa("sleep", ["30"], { reject: false });
    try {
      writeFileSync(join(dir.path, "nats-server.pid"), String(other.pid));
      const srv = await startEmbeddedNats({ stateDir: dir.path });
      expect(srv.replacedStalePid).toBeUndefined();
      expect(isProcessAlive(other.pid!)).toBe(true);
      await srv.stop();
    } finally {
      other.kill("SIGKILL");
      await dir.remove();
    }
  });
});
