// Issue 3's acceptance, end to end: the real lab (namespaces, istio-iptables,
// HAProxy sidecars), the real agent (bpftrace) publishing to a real
// nats-server, every scenario under tcpdump. Every FIN and RST on the wire
// must be explained by the events read back from JetStream. Root only.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  compareWithEvents,
  formatWirePacket,
  labDown,
  labUp,
  runScenario,
  scenarios,
  type ComparisonReport,
  type LabState,
  type ScenarioResult,
  type TracedEvent,
  type WirePacket,
} from "../../src/lab/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { v1 } from "../../src/model/mod.js";
import { startAgentService, type AgentService } from "../../src/runtime/mod.js";
import { connectNats, subscribeEvents, type EventSubscription, type NatsConnection } from "../../src/transport/mod.js";
import { describeRoot, makeTempDir, startNatsServer, type TempDir, type TestNatsServer } from "../helpers/mod.js";

const prefix = `e${randomBytes(2).toString("hex")}-`;
const subnet = `10.88.${10 + ((randomBytes(1)[0] ?? 0) % 240)}.0/24`;
const node = `e2e-${process.pid}`;
const events: TracedEvent[] = [];
let tmp: TempDir | undefined;
let dir = "";
let state: LabState | undefined;
let nats: TestNatsServer | undefined;
let agent: AgentService | undefined;
let nc: NatsConnection | undefined;
let sub: EventSubscription | undefined;

function describeReport(r: ComparisonReport): string {
  const lines: string[] = [];
  for (const s of r.segments) {
    const who = s.sender ? `${s.sender.pod} ${s.sender.role} ${s.sender.comm ?? "-"}(${s.sender.pid ?? "-"}) ${s.sender.evidence} ${s.sender.resetReason ?? ""}` : s.untraced ? "UNTRACED" : "no sender";
    lines.push(`${s.flag} ${formatWirePacket(s.packet)} ← ${who}${s.problems.length ? `  !! ${s.problems.join("; ")}` : ""}`);
  }
  for (const m of r.missing) lines.push(`missing: ${m.words}`);
  for (const x of r.redirects) lines.push(`redirect ${x.direction} ${x.pod} ${x.client.ip}:${x.client.port} → ${x.originalDst.ip}:${x.originalDst.port} reported ${x.reported ? `${x.reported.ip}:${x.reported.port}` : "none"} ${x.ok ? "ok" : "WRONG"}`);
  return lines.join("\n");
}

async function settle(sinceUs: number): Promise<TracedEvent[]> {
  // The reorder window (50 ms) and the batch delay (50 ms) hold events back briefly.
  // There is no count to wait for, so this polls for a quiet 150 ms, and gives
  // up without failing after 6 s: the host's other traffic may never go quiet.
  let last = -1;
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 150));
    if (events.length === last) break;
    last = events.length;
  }
  return events.filter((e) => (e.event.timeUs ?? 0) >= sinceUs);
}

describeRoot("lab scenarios against tcpdump ground truth (root)", () => {
  beforeAll(async () => {
    tmp = await makeTempDir("e2e");
    dir = tmp.path;
    nats = await startNatsServer({ label: "e2e-nats" });
    agent = await startAgentService({ natsUrl: nats.url, node, logger: silentLogger, agent: { reorderWindowMs: 50 } });
    nc = await connectNats(nats.url);
    sub = await subscribeEvents(nc, { node, follow: true, since: new Date(Date.now() - 60_000) });
    void (async () => {
      for await (const { batch } of sub!) for (const event of batch.events) events.push({ node: batch.node, event });
    })();
    state = await labUp({ stateDir: join(dir, "lab"), prefix, subnet });
  }, 120_000);

  afterAll(async () => {
    await labDown({ stateDir: join(dir, "lab") }).catch(() => undefined);
    await sub?.close().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await agent?.stop().catch(() => undefined);
    await nats?.close();
    await tmp?.remove();
  }, 60_000);

  for (const scenario of scenarios) {
    it(`${scenario.name}: every wire FIN/RST attributed to the right pod, role and process`, async () => {
      const s = state!;
      const startUs = Date.now() * 1000 - 50_000;
      const run = await runScenario(s, scenario, { capture: true });
      const wireText = run.capture!.packets.map(formatWirePacket).join("\n");
      expect(run.check!.missing.map((m) => m.words), `expected on the wire but absent:\n${wireText}`).toEqual([]);
      expect(run.check!.unexplained.map(formatWirePacket), "on the wire, unexplained by the scenario").toEqual([]);
      const seen = await settle(startUs);
      const report = compareWithEvents(run.capture!.packets, seen, {
        expectations: run.result.expectations,
        pods: s.pods.map((p) => ({ netns: p.netns, ip: p.ip, meshed: p.meshed })),
      });
      const text = describeReport(report);
      // TCPTRAIL_RECORD_FIXTURES=<dir>: keep this scenario's events as a stitcher fixture (test/trace/fixtures/lab/).
      const recordDir = process.env.TCPTRAIL_RECORD_FIXTURES;
      if (recordDir) {
        const mine = seen.filter((e) => (e.event.pod ?? "").startsWith(prefix));
        // Kernel times are not message fields (the wire carries offsets): write them as decimal
        // strings, exact at any uptime, which load-fixture.ts reads back as bigints.
        const json = mine.map((e) => ({
          node: "lab",
          event: {
            ...v1.ConnEvent.toObject(v1.ConnEvent.create(e.event as never), { enums: String }),
            tsNs: e.event.tsNs.toString(),
            ...(e.event.gapStartNs ? { gapStartNs: e.event.gapStartNs.toString() } : {}),
          },
        }));
        await writeFile(join(recordDir, `${scenario.name}.json`), JSON.stringify(json, null, 1).replaceAll(prefix, "tt-") + "\n");
      }
      if (process.env.TCPTRAIL_E2E_VERBOSE) console.log(`--- ${scenario.name}\n${text}`);
      expect(report.ok, text).toBe(true);
      // 100% of wire RSTs and FINs attributed (or, for a REJECT, reported as sent by no socket)
      const fins = report.segments.filter((x) => x.flag === "FIN");
      const rsts = report.segments.filter((x) => x.flag === "RST");
      expect(fins.length + rsts.length, text).toBeGreaterThan(0);
      for (const seg of report.segments) {
        if (seg.untraced) {
          expect(scenario.name, `an untraced reset outside the reject scenario:\n${text}`).toBe("reject");
          continue;
        }
        expect(seg.sender, text).toBeDefined();
        expect(seg.sender!.pod, text).toBe(seg.packet.netns);
        expect(seg.problems, text).toEqual([]);
        // the kernel's reset reason is present wherever the kernel sent the reset
        if (seg.flag === "RST") expect(seg.sender!.resetReason, text).toBeTruthy();
        // a process where one exists: sockets closed by a live process name it
        if (seg.sender!.sock && seg.sender!.role !== "none") expect(seg.sender!.pid, text).toBeGreaterThan(0);
      }
      if (scenario.name === "reject") expect(report.untracedResets.length, text).toBeGreaterThan(0);
      if (scenario.name === "pooled" || scenario.name === "keepalive-race") checkPooled(s, run.result, run.capture!.packets, wireText);
      // every redirected connection carries its original destination
      expect(report.redirects.length, text).toBeGreaterThan(0);
      for (const r of report.redirects) expect(r.ok, text).toBe(true);
      expect(agent!.stats().agent.kernelLost).toBe(0);
    }, scenario.name === "keepalive-race" ? 90_000 : 60_000);
  }
});

/**
 * Issue 10's pooled world, by the SYN/FIN/RST capture alone: fewer upstream
 * connections than client connections, every client connection mapped to the
 * upstream that carried it, and races only where the scenario makes them.
 */
function checkPooled(s: LabState, result: ScenarioResult, wire: readonly WirePacket[], wireText: string): void {
  const [a, b] = [s.pods.find((p) => p.name === "a")!, s.pods.find((p) => p.name === "b")!];
  const syn = (p: WirePacket): boolean => p.flags.includes("SYN") && !p.flags.includes("ACK") && p.netns === a.netns;
  const clientSyns = wire.filter((p) => syn(p) && p.iface === "lo" && p.dst.port === s.mesh.outboundPort);
  const upstreamSyns = wire.filter((p) => syn(p) && p.iface === "eth0" && p.dst.ip === b.ip && p.dst.port === s.appPort);
  expect(clientSyns.length, wireText).toBe(result.connections.length);
  expect(upstreamSyns.length, `reuse: fewer upstream SYNs than client connections\n${wireText}`).toBeLessThan(clientSyns.length);
  const pooled = result.pooled ?? [];
  for (const c of result.connections) {
    const local = c.result.local!;
    const uses = pooled.filter((u) => u.client.src.ip === local.ip && u.client.src.port === local.port);
    expect(uses.length, `client ${local.ip}:${local.port} has no upstream in ${JSON.stringify(pooled)}`).toBeGreaterThan(0);
    // The mapped upstream is one that sidecar a opened during the scenario.
    for (const u of uses) expect(upstreamSyns.some((p) => p.src.port === u.upstream.src.port), JSON.stringify(u)).toBe(true);
  }
  const races = result.races ?? [];
  if (result.name === "pooled") {
    expect(races, "no false race on pooled").toEqual([]);
    return;
  }
  expect(races.length, wireText).toBeGreaterThan(0);
  for (const r of races) {
    expect(r.clientGot, JSON.stringify(r)).not.toBe("200");
    // App b's kernel reset the request on the passthrough that upstream fed (SYN/FIN/RST capture, independent of the HTTP one).
    const rst = wire.find((p) => p.netns === b.netns && p.iface === "lo" && p.flags.includes("RST") && p.src.port === s.appPort && p.dst.port === r.passthrough?.src.port);
    expect(rst, `${JSON.stringify(r)}\n${wireText}`).toBeDefined();
  }
}
