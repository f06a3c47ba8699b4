// Two agents on one kernel, each playing a node (`--node`, `--pods`): two
// network namespaces made here (`ip netns add`), one connection inside each,
// and each agent publishes its own pod's sockets and nothing of the other's
// (nor of the host's), counting the rest as filtered. Real bpftrace, real
// nats-server, events read back from JetStream per node. Root only.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createMetrics, type TcptrailMetrics } from "../../src/metrics/mod.js";
import { EventKind, type ConnEvent } from "../../src/model/mod.js";
import { startAgentService, type AgentService } from "../../src/runtime/mod.js";
import { subscribeEvents, type EventSubscription } from "../../src/transport/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { describeRoot, setupNats, waitFor, type NatsSetup } from "../helpers/mod.js";

// One loopback connection inside the namespace it runs in: listen, connect, a byte each way, close.
const ONE_CONNECTION = [
  "import socket",
  "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)",
  "c = socket.create_connection(s.getsockname()); a, _ = s.accept()",
  "c.sendall(b'x'); a.recv(1); a.sendall(b'y'); c.recv(1)",
  "c.close(); a.close(); s.close()",
].join("\n");

interface Side {
  node: string;
  pod: string;
  ino: number;
  service: AgentService;
  metrics: TcptrailMetrics;
  events: ConnEvent[];
  sub: EventSubscription;
}

const created: string[] = [];
const sides: Side[] = [];
let nats: NatsSetup;

function netnsAdd(name: string): number {
  created.push(name);
  execFileSync("ip", ["netns", "add", name]);
  execFileSync("ip", ["-n", name, "link", "set", "lo", "up"]);
  return statSync(`/run/netns/${name}`).ino;
}

describeRoot("two agents sharing one kernel, each with its own --pods", () => {
  beforeAll(async () => {
    nats = await setupNats({ label: "pod-filter-two-agents" });
    for (const n of ["a", "b"]) {
      const pod = `ttpf-${process.pid}-${n}`;
      const ino = netnsAdd(pod);
      const node = `pf-node-${n}-${process.pid}`;
      const metrics = createMetrics({ defaultMetrics: false });
      const service = await startAgentService({
        natsUrl: nats.server.url,
        node,
        logger: silentLogger,
        metrics,
        // A glob, as a user would give it, matching this side's pod only.
        agent: { podResolver: { mode: "netns" }, podGlobs: [`ttpf-*-${n}`], reorderWindowMs: 20 },
      });
      const events: ConnEvent[] = [];
      const sub = await subscribeEvents(nats.nc, { node, follow: true, since: new Date(Date.now() - 60_000) });
      void (async () => {
        for await (const { batch } of sub) events.push(...batch.events);
      })();
      sides.push({ node, pod, ino, service, metrics, events, sub });
    }
  }, 60_000);

  afterAll(async () => {
    try {
      for (const s of sides) {
        await s.sub.close().catch(() => undefined);
        await s.service.stop().catch(() => undefined);
      }
      await nats?.close();
    } finally {
      for (const name of created.splice(0)) {
        try {
          execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
        } catch {
          // already gone
        }
      }
    }
  });

  test("each agent publishes its own pod's connection and nothing of the other pod or the host", async () => {
    for (const s of sides) execFileSync("ip", ["netns", "exec", s.pod, "python3", "-S", "-c", ONE_CONNECTION]);
    for (const s of sides) {
      // Both ends of the pod's connection: the client's connect and the server's accept.
      await waitFor(
        () =>
          s.events.some((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_ACCEPT && e.netns === s.ino) &&
          s.events.filter((e) => e.kind === EventKind.EVENT_KIND_STATE_CHANGE && e.netns === s.ino && e.newState === 7).length >= 2,
        { what: `${s.node} publishing ${s.pod}'s connection, both ends closed` },
      );
    }
    // The other agent saw the same kernel events: by now it has filtered them.
    for (const s of sides) {
      await waitFor(async () => ((await s.metrics.eventsFiltered.get()).values[0]?.value ?? 0) > 0, { what: `${s.node} counting filtered events` });
    }
    for (const s of sides) {
      const kernel = s.events.filter((e) => e.kind !== EventKind.EVENT_KIND_GAP);
      expect(kernel.length).toBeGreaterThan(5);
      expect(kernel.filter((e) => e.pod !== s.pod).map((e) => `${e.seq} kind ${e.kind} pod "${e.pod}" netns ${e.netns}`)).toEqual([]);
      // Gapless: nothing filtered took a seq.
      const seqs = s.events.map((e) => e.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      expect(s.service.stats().agent.eventsFiltered).toBeGreaterThan(0);
    }
    const [a, b] = sides;
    expect(a!.events.some((e) => e.netns === b!.ino)).toBe(false);
    expect(b!.events.some((e) => e.netns === a!.ino)).toBe(false);
  });
});
