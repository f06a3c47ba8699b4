// tcptrail does not trace itself: the real agent (bpftrace, both versions'
// probe) skips sockets its own process connects and loopback sockets on the
// ports it is told are ours, and still traces everyone else's, the peers of
// our connections included. Root only.
import { statSync } from "node:fs";
import { connect } from "node:net";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ConnEvent } from "../../src/model/mod.js";
import { selfExclusionArgs, MAX_SELF_PORTS } from "../../src/probes/mod.js";
import { ownSockets, startAgentService, type AgentService } from "../../src/runtime/mod.js";
import { subscribeEvents, type EventSubscription } from "../../src/transport/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { describeRoot, setupNats, waitFor, type NatsSetup } from "../helpers/mod.js";

// A loopback server that accepts, answers nothing and closes: prints its port.
const SERVER = [
  "import socket, sys",
  "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', 0)); s.listen(64)",
  "print(s.getsockname()[1], flush=True)",
  "while True:",
  "    a, _ = s.accept(); a.close()",
].join("\n");
// One connection to argv[1], then exit; prints its local port.
const CLIENT = "import socket, sys\nc = socket.create_connection(('127.0.0.1', int(sys.argv[1]))); print(c.getsockname()[1], flush=True); c.recv(1); c.close()";

describe("the probe's self-exclusion parameters", () => {
  test("are our pid then exactly MAX_SELF_PORTS ports, zero-padded, duplicates and zeros dropped", () => {
    expect(selfExclusionArgs(undefined)).toEqual([]);
    expect(selfExclusionArgs({ pid: 42, ports: [7070, 0, 7070, 4222] })).toEqual(["42", "7070", "4222", "0", "0", "0"]);
    expect(selfExclusionArgs({ pid: 42, ports: [], netns: 4026531840 }).at(-1)).toBe("4026531840");
    expect(selfExclusionArgs({ pid: 1, ports: [1, 2, 3, 4, 5, 6] })).toHaveLength(2 + MAX_SELF_PORTS);
    expect(() => selfExclusionArgs({ pid: 1, ports: [70000] })).toThrow(/port/);
  });

  test("take the NATS port only when NATS is on loopback; --trace-self turns it all off", () => {
    const netns = statSync("/proc/self/ns/net").ino;
    expect(ownSockets(undefined, "nats://127.0.0.1:4333")).toEqual({ pid: process.pid, ports: [4333], netns });
    expect(ownSockets({ pid: 7, ports: [7070] }, "nats://localhost")).toEqual({ pid: 7, ports: [4222, 7070], netns });
    expect(ownSockets(undefined, "nats://10.0.0.5:4222,nats://[::1]:4223")).toEqual({ pid: process.pid, ports: [4223], netns });
    expect(ownSockets(false, "nats://127.0.0.1:4222")).toBe(false);
  });
});

describeRoot("tcptrail's own sockets (real agent, bpftrace, nats-server)", () => {
  const node = `itest-self-${process.pid}`;
  const events: ConnEvent[] = [];
  const children: ResultPromise[] = [];
  let nats: NatsSetup;
  let service: AgentService;
  let sub: EventSubscription;
  let ours: number;
  let theirs: number;

  async function server(): Promise<number> {
    const child = execa("python3", ["-S", "-c", SERVER], { reject: false, buffer: false });
    children.push(child);
    return new Promise<number>((resolve, reject) => {
      child.stdout!.once("data", (c: Buffer) => resolve(Number(c.toString().trim())));
      void child.then((r) => reject(new Error(`server exited: ${r.exitCode}`)));
    });
  }
  const client = async (port: number): Promise<number> => Number((await execa("python3", ["-S", "-c", CLIENT, String(port)])).stdout.trim());
  const touching = (port: number) => events.filter((e) => e.local?.port === port || e.remote?.port === port);

  beforeAll(async () => {
    nats = await setupNats({ label: "self-exclusion" });
    ours = await server();
    theirs = await server();
    service = await startAgentService({
      natsUrl: nats.server.url,
      node,
      logger: silentLogger,
      agent: { exclude: { pid: process.pid, ports: [ours] } },
    });
    sub = await subscribeEvents(nats.nc, { node, follow: true, since: new Date(Date.now() - 60_000) });
    void (async () => {
      for await (const { batch } of sub) events.push(...batch.events);
    })();
  });

  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    await sub?.close().catch(() => undefined);
    await service?.stop().catch(() => undefined);
    await nats?.close();
  });

  test("skips our process's connections and loopback sockets on our ports, traces the rest", async () => {
    // Ours by port: two other processes talking on a port we listen on (the CLI asking the API).
    const byPort = await client(ours);
    // Ours by pid: this process dials someone else's server.
    const byPid = await new Promise<number>((resolve, reject) => {
      const s = connect(theirs, "127.0.0.1", () => {
        const port = s.localPort!;
        s.on("close", () => resolve(port)).on("data", () => undefined);
      });
      s.on("error", reject);
    });
    // Not ours: the control, made last so that once it is in, the others would be too.
    const control = await client(theirs);
    await waitFor(() => events.some((e) => e.local?.port === control && e.remote?.port === theirs), {
      what: "the control connection's client events",
    });
    // The server half of the control is traced as well, and its close came in.
    await waitFor(() => events.some((e) => e.local?.port === theirs && e.remote?.port === control), { what: "the control's server side" });

    expect(touching(ours)).toEqual([]);
    expect(events.filter((e) => e.local?.port === byPid && e.remote?.port === theirs)).toEqual([]);
    // Our peer is not us: the server's half of our connection is still traced.
    expect(events.some((e) => e.local?.port === theirs && e.remote?.port === byPid)).toBe(true);
    // And the agent's own NATS connection never shows up.
    expect(touching(nats.server.port)).toEqual([]);
    expect(byPort).toBeGreaterThan(0);
  });
});
