// Root-only: the real lab (netns, bridge, iptables, HAProxy, tcpdump) with a
// random prefix and subnet, every scenario under capture, then down.
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  formatWirePacket,
  hasFlag,
  isAlive,
  isLabStateError,
  labDown,
  labStatus,
  labUp,
  meshNatRules,
  runScenario,
  scenarioByName,
  scenarios,
  type LabState,
  type ScenarioRun,
  withSidecar,
} from "../../src/lab/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { describeRoot, makeTempDir, type TempDir } from "../helpers/mod.js";

const prefix = `t${randomBytes(2).toString("hex")}-`;
const subnet = `10.88.${10 + (randomBytes(1)[0] ?? 0) % 240}.0/24`;
let tmp: TempDir | undefined;
let stateDir = "";
let state: LabState | undefined;
const runs = new Map<string, ScenarioRun>();

async function leftovers(s: LabState): Promise<string[]> {
  const found: string[] = [];
  const ns = (await execa("ip", ["netns", "list"])).stdout;
  for (const p of s.pods) if (ns.split("\n").some((l) => l.split(" ")[0] === p.netns)) found.push(`netns ${p.netns}`);
  const links = (await execa("ip", ["-o", "link", "show"])).stdout;
  if (links.includes(` ${prefix}`)) found.push(`link ${prefix}*`);
  for (const p of s.processes) if (await isAlive(p)) found.push(`pid ${p.pid}`);
  return found;
}

describeRoot("mesh lab (root)", () => {
  beforeAll(async () => {
    tmp = await makeTempDir("lab");
    stateDir = tmp.path;
    state = await labUp({ stateDir, prefix, subnet });
  }, 60_000);

  afterAll(async () => {
    // Also after a failure: down works from the state file alone.
    await labDown({ stateDir }).catch(() => undefined);
    await tmp?.remove();
  }, 60_000);

  it("brings up meshed pods with the Istio nat rules, sidecars as 1337 and apps", async () => {
    const s = state!;
    expect(s.pods.map((p) => [p.netns, p.meshed])).toEqual([[`${prefix}a`, true], [`${prefix}b`, true], [`${prefix}c`, false]]);
    const saved = (await execa("ip", ["netns", "exec", `${prefix}b`, "iptables-save", "-t", "nat"])).stdout;
    const rules = meshNatRules().split("\n").filter((l) => l.startsWith("-A"));
    expect(saved.split("\n").filter((l) => l.startsWith("-A"))).toEqual(rules);
    expect((await execa("ip", ["netns", "exec", `${prefix}c`, "iptables-save", "-t", "nat"])).stdout).not.toContain("ISTIO");
    // No way out: only the connected subnet is routed.
    expect((await execa("ip", ["-n", `${prefix}a`, "route", "show"])).stdout.trim().split("\n")).toHaveLength(1);
    for (const p of s.processes.filter((x) => x.role === "sidecar")) {
      expect(await readFile(`/proc/${p.pid}/status`, "utf8")).toMatch(/^Uid:\s+1337\s/m);
    }
    const st = await labStatus({ stateDir });
    expect(st.pods.flatMap((p) => p.processes.map((x) => x.alive))).toEqual([true, true, true, true, true]);
    await expect(labUp({ stateDir, prefix, subnet })).rejects.toSatisfy(isLabStateError);
  });

  for (const sc of scenarios) {
    it(`scenario ${sc.name}: the wire holds exactly the expected FINs and RSTs`, async () => {
      const run = await runScenario(state!, sc);
      runs.set(sc.name, run);
      const dump = run.capture?.packets.map(formatWirePacket).join("\n");
      expect(run.capture?.dropped, dump).toEqual(Object.fromEntries(state!.pods.map((p) => [p.netns, 0])));
      expect(run.check?.missing, dump).toEqual([]);
      expect(run.check?.unexplained.map(formatWirePacket), dump).toEqual([]);
      expect(run.result.connections.every((c) => c.pid > 0)).toBe(true);
    }, sc.name === "keepalive-race" ? 90_000 : 30_000);
  }

  it("app-abort: a RST from pod b's app endpoint on lo", () => {
    const run = runs.get("app-abort")!;
    const b = state!.pods[1]!;
    const rsts = run.capture!.packets.filter((p) => hasFlag(p, "RST"));
    expect(rsts.map((p) => [p.netns, p.iface, `${p.src.ip}:${p.src.port}`, p.dst.ip])).toEqual([[b.netns, "lo", `${b.ip}:8080`, "127.0.0.6"]]);
    expect(run.result.connections[0]?.result.status).toBe(200);
  });

  it("no-listener: b's kernel refuses the passthrough SYN; the client sees FINs, no reset", () => {
    const run = runs.get("no-listener")!;
    const b = state!.pods[1]!;
    const rsts = run.capture!.packets.filter((p) => hasFlag(p, "RST"));
    expect(rsts.map((p) => [p.netns, p.iface, `${p.src.ip}:${p.src.port}`, p.dst.ip])).toEqual([[b.netns, "lo", `${b.ip}:9090`, "127.0.0.6"]]);
    expect(run.result.connections[0]?.result.end).toBe("peer-fin");
  });

  it("reject: a RST on b's wire that b's sidecar never sent, and the rule is gone afterwards", async () => {
    const run = runs.get("reject")!;
    const [a, b] = [state!.pods[0]!, state!.pods[1]!];
    const rsts = run.capture!.packets.filter((p) => hasFlag(p, "RST"));
    expect(rsts.map((p) => [p.netns, p.iface, `${p.src.ip}:${p.src.port}`, p.dst.ip])).toEqual([[b.netns, "eth0", `${b.ip}:9091`, a.ip]]);
    // b's sidecar never accepted it: no SYN-ACK left b for that connection.
    expect(run.capture!.packets.some((p) => p.netns === b.netns && hasFlag(p, "SYN") && hasFlag(p, "ACK"))).toBe(false);
    expect((await execa("ip", ["netns", "exec", b.netns, "iptables", "-S", "INPUT"])).stdout).not.toContain("REJECT");
  });

  it("sidecar-crash and idle-timeout leave b with a live sidecar on the default timeout", async () => {
    const b = state!.pods[1]!;
    const sidecar = state!.processes.find((p) => p.pod === b.netns && p.role === "sidecar")!;
    expect(await isAlive(sidecar)).toBe(true);
    expect(await readFile(sidecar.config!, "utf8")).toContain("timeout client 30000ms");
    const idle = runs.get("idle-timeout")!.result.connections[0]!.result;
    expect(idle.end).toBe("peer-fin");
    expect(idle.endMs - idle.startMs).toBeGreaterThanOrEqual(900);
    expect(idle.endMs - idle.startMs).toBeLessThan(5000);
  });

  it("pooled and keepalive-race leave a with a live sidecar in tcp mode, and map every client connection to an upstream", async () => {
    const a = state!.pods[0]!;
    const sidecar = state!.processes.find((p) => p.pod === a.netns && p.role === "sidecar")!;
    expect(await isAlive(sidecar)).toBe(true);
    const cfg = await readFile(sidecar.config!, "utf8");
    expect(cfg).toContain("mode tcp");
    expect(cfg).not.toContain("http-reuse");
    for (const name of ["pooled", "keepalive-race"]) {
      const r = runs.get(name)!.result;
      const mapped = new Set((r.pooled ?? []).map((u) => `${u.client.src.ip}:${u.client.src.port}`));
      expect(r.connections.map((c) => `${c.result.local?.ip}:${c.result.local?.port}`).filter((x) => !mapped.has(x))).toEqual([]);
    }
    expect(runs.get("pooled")!.result.races).toEqual([]);
    expect(runs.get("keepalive-race")!.result.races?.length).toBeGreaterThan(0);
  });

  it("withSidecar puts the default sidecar back when the scenario body fails", async () => {
    const a = state!.pods[0]!;
    const ctx = { state: state!, log: silentLogger };
    let during = "";
    await expect(
      withSidecar(ctx, a, { mode: "http", httpReuse: "always" }, async (p) => {
        during = await readFile(p.config!, "utf8");
        throw new Error("scenario failed");
      }),
    ).rejects.toThrow("scenario failed");
    expect(during).toContain("http-reuse always");
    const now = state!.processes.find((p) => p.pod === a.netns && p.role === "sidecar")!;
    expect(await isAlive(now)).toBe(true);
    expect(await readFile(now.config!, "utf8")).toContain("mode tcp");
  });

  it("down removes every namespace, link and process, and is idempotent", async () => {
    const s = state!;
    // The state file is the only memory down needs (as after a crash of `lab up`).
    const r = await labDown({ stateDir });
    expect(r.namespaces.sort()).toEqual(s.pods.map((p) => p.netns).sort());
    expect(r.links).toEqual([s.bridge]);
    expect(await leftovers(s)).toEqual([]);
    expect(await labDown({ stateDir })).toEqual({ stopped: [], namespaces: [], links: [] });
    expect((await labStatus({ stateDir })).up).toBe(false);
    expect(scenarioByName("ok")).toBeDefined();
  });
});
