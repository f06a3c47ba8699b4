// A pod's first connection, made a few ms after its network namespace is
// created, must already carry the pod's name: the real agent (bpftrace) and
// nats-server, a real `ip netns add`, events read back from JetStream. Root only.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { execa, type ResultPromise } from "execa";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { EventKind, TcpState, type ConnEvent } from "../../src/model/mod.js";
import { startAgentService, type AgentService } from "../../src/runtime/mod.js";
import { subscribeEvents, type EventSubscription } from "../../src/transport/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { describeRoot, setupNats, waitFor, type NatsSetup } from "../helpers/mod.js";

const NEW_POD = new URL("./fixtures/new-pod.py", import.meta.url).pathname;

// Other pods' traffic on the node, in the host namespace: a new socket every
// 20 ms keeps the agent resolving all the time, as on a busy node (and as in the
// lab, where several pods start at once), so a resolver that rescans on a
// global timer has always scanned just before the next namespace appears.
const BACKGROUND_TRAFFIC = [
  "import socket, time",
  "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(64)",
  "while True:",
  "    c = socket.create_connection(s.getsockname()); a, _ = s.accept(); c.close(); a.close(); time.sleep(0.02)",
].join("\n");

const node = `itest-netns-${process.pid}`;
const events: ConnEvent[] = [];
const created: string[] = [];
let seq = 0;
let nats: NatsSetup;
let service: AgentService;
let sub: EventSubscription;
let background: ResultPromise | undefined;

/** A new pod: its namespace created and its first connection made a few ms later (see fixtures/new-pod.py). */
async function newPodConnects(): Promise<{ name: string; ino: number; pid: number; port: number; addToConnectMs: number }> {
  const name = `ttpr-${process.pid}-${++seq}`;
  created.push(name);
  const r = await execa("python3", ["-S", NEW_POD, name]);
  const [pid, port, addToConnectMs] = r.stdout.trim().split(/\s+/).map(Number);
  return { name, ino: statSync(`/run/netns/${name}`).ino, pid: pid!, port: port!, addToConnectMs: addToConnectMs! };
}

describeRoot("a new pod's first connection (real agent, bpftrace, nats-server)", () => {
  beforeAll(async () => {
    nats = await setupNats({ label: "new-netns" });
    service = await startAgentService({ natsUrl: nats.server.url, node, logger: silentLogger });
    sub = await subscribeEvents(nats.nc, { node, follow: true, since: new Date(Date.now() - 60_000) });
    void (async () => {
      for await (const { batch } of sub) events.push(...batch.events);
    })();
  });

  afterEach(() => {
    for (const name of created.splice(0)) {
      try {
        execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
      } catch {
        // already gone
      }
    }
  });

  afterAll(async () => {
    background?.kill("SIGKILL");
    await sub?.close().catch(() => undefined);
    await service?.stop().catch(() => undefined);
    await nats?.close();
  });

  // Several pods one after the other: each namespace appears while the agent is
  // busy naming the previous one's sockets (the case a once-a-second rescan missed).
  test("every event of the pod's sockets, from the very first, names the pod", async () => {
    background = execa("python3", ["-S", "-c", BACKGROUND_TRAFFIC], { reject: false });
    await waitFor(() => service.stats().agent.eventsRead > 50, { what: "the background traffic reaching the agent" });
    for (let round = 0; round < 5; round++) {
      const pod = await newPodConnects();
      // Its SYN_SENT has no local port yet (the probe prints it on the next line): find the socket by a later event.
      const later = await waitFor(
        () => events.find((e) => e.kind === EventKind.EVENT_KIND_STATE_CHANGE && e.netns === pod.ino && e.local?.port === pod.port),
        { what: `a state change of ${pod.name}'s client (local port ${pod.port})` },
      );
      // the accepted side, which is born in softirq, must be there too before looking at all of them
      await waitFor(
        () => events.find((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_ACCEPT && e.netns === pod.ino && e.remote?.port === pod.port),
        { what: `the accept in ${pod.name}` },
      );
      const [first] = events.filter((e) => e.sock === later.sock && e.netns === pod.ino).sort((a, b) => a.seq - b.seq);
      expect(first?.newState).toBe(TcpState.TCP_STATE_SYN_SENT); // the socket's very first event
      expect(first?.pod, `${pod.name}'s first event (connect ${pod.addToConnectMs} ms after ip netns add)`).toBe(pod.name);
      expect(first?.owner?.pid).toBe(pod.pid);
      const inPod = events.filter((e) => e.netns === pod.ino);
      expect(inPod.length).toBeGreaterThan(3);
      expect(inPod.filter((e) => e.pod !== pod.name).map((e) => `${e.seq} kind ${e.kind} pod "${e.pod}"`)).toEqual([]);
    }
  });
});
