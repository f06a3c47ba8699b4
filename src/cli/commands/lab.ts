// `tcptrail lab up|down|status|scenario <name>`: the mesh lab on this machine
// (pods as network namespaces, Istio's iptables rules, HAProxy sidecars). The
// lab itself is imported in the actions. Its state lives in <state-dir>/lab,
// next to what `tcptrail run` keeps under the same --state-dir.
import { join } from "node:path";
import type { Command } from "commander";
import type { LabStatus, ScenarioRun, WirePacket } from "../../lab/mod.js";
import { UsageError } from "../errors.js";
import { runCommand } from "../exit.js";
import { outputFlag, stateDirFlag } from "../flags.js";

interface CommonOptions {
  /** tcptrail's state directory; the lab uses <stateDir>/lab. */
  stateDir: string;
}

const labDir = (o: CommonOptions): string => join(o.stateDir, "lab");
const lab = () => import("../../lab/mod.js");

const list = (s: string): string[] => s.split(",").map((x) => x.trim()).filter(Boolean);

function renderStatus(s: LabStatus): string {
  if (!s.up) return `no lab is up (state dir ${s.stateDir})`;
  const lines = [`lab up: bridge ${s.bridge ?? "-"}, subnet ${s.subnet ?? "-"}, state ${s.stateDir}`];
  for (const p of s.pods) {
    const procs = p.processes.map((x) => `${x.role} ${x.pid} ${x.alive ? "alive" : "DEAD"}`).join(", ");
    lines.push(`  ${p.netns.padEnd(10)} ${p.ip.padEnd(15)} ${p.meshed ? "meshed" : "plain "} ${p.netnsExists ? "" : "NETNS MISSING "}${procs}`);
  }
  if (s.bridgeNetfilter === "1") lines.push("  note: br_netfilter is on: bridged pod traffic also crosses the root netns's iptables FORWARD chain");
  return lines.join("\n");
}

function renderRun(r: ScenarioRun, formatWirePacket: (p: WirePacket) => string): string {
  const lines = [`scenario ${r.result.name}`];
  for (const d of r.result.did) lines.push(`  did: ${d}`);
  lines.push("  expected FIN/RST origins:");
  for (const e of r.result.expectations) {
    lines.push(`    ${e.flag} ${e.hop} (${e.fromPod}, ${e.role}${e.pid ? `, pid ${e.pid}` : ""})${e.optional ? " [optional]" : ""}: ${e.words}`);
  }
  if (r.check && r.capture) {
    lines.push(`  wire (tcpdump in every pod): ${r.capture.packets.length} SYN/FIN/RST segments`);
    for (const e of r.check.missing) lines.push(`    MISSING ${e.flag} ${e.hop}`);
    for (const p of r.check.unexplained) lines.push(`    UNEXPLAINED ${formatWirePacket(p)}`);
    if (r.check.missing.length === 0 && r.check.unexplained.length === 0) lines.push("    every FIN/RST on the wire is the expected one");
  }
  return lines.join("\n");
}

export function registerLab(program: Command): void {
  const labCmd = program.command("lab").description("an Istio-style mesh on this machine: pods, sidecars, scenarios, packet ground truth");
  const stateOpt = () => stateDirFlag("tcptrail's state directory; the lab keeps its state in <dir>/lab");

  labCmd
    .command("up")
    .description("create the pods (netns + bridge), mesh iptables rules, sidecars and apps")
    .option("--pods <names>", "pod names", "a,b,c")
    .option("--plain <names>", "pods without a sidecar", "c")
    .option("--prefix <prefix>", "prefix of netns and link names", "tt-")
    .option("--subnet <cidr>", "pod subnet (a /24)", "10.88.0.0/24")
    .addOption(stateOpt())
    .action(async (o: CommonOptions & { pods: string; plain: string; prefix: string; subnet: string }) => {
      const { labStatus, labUp } = await lab();
      const { createLogger } = await import("../../log/logger.js");
      const pods = list(o.pods);
      await labUp({
        stateDir: labDir(o),
        pods,
        plainPods: list(o.plain).filter((p) => pods.includes(p)),
        prefix: o.prefix,
        subnet: o.subnet,
        logger: createLogger({ name: "lab" }),
      });
      console.log(renderStatus(await labStatus({ stateDir: labDir(o) })));
    });

  labCmd
    .command("down")
    .description("remove every namespace, link and process the lab made (idempotent)")
    .addOption(stateOpt())
    .action(async (o: CommonOptions) => {
      const { labDown } = await lab();
      const r = await labDown({ stateDir: labDir(o) });
      console.log(`stopped ${r.stopped.length} processes, removed namespaces [${r.namespaces.join(", ")}], links [${r.links.join(", ")}]`);
    });

  labCmd
    .command("status")
    .description("pods, addresses, sidecar and app PIDs and whether they are alive")
    .addOption(stateOpt())
    .addOption(outputFlag(["table", "json"], "table"))
    .action(async (o: CommonOptions & { output: string }) => {
      const { labStatus } = await lab();
      const s = await labStatus({ stateDir: labDir(o) });
      console.log(o.output === "json" ? JSON.stringify(s) : renderStatus(s));
    });

  labCmd
    .command("scenario")
    .description("run a scripted scenario: ok, app-abort, no-listener, ... (an unknown name lists them all)")
    .argument("<name>", "scenario name")
    .option("--no-capture", "do not run tcpdump in the pods")
    .addOption(stateOpt())
    .addOption(outputFlag(["table", "json"], "table"))
    .action((name: string, o: CommonOptions & { capture: boolean; output: string }, cmd: Command) =>
      runCommand(cmd, async () => {
        const { formatWirePacket, openLab, runScenario, scenarioByName, scenarios } = await lab();
        const scenario = scenarioByName(name);
        if (!scenario) throw new UsageError(`unknown scenario "${name}" (${scenarios.map((s) => s.name).join(", ")})`);
        const run = await runScenario(await openLab({ stateDir: labDir(o) }), scenario, { capture: o.capture });
        console.log(o.output === "json" ? JSON.stringify({ ...run.result, check: run.check, wire: run.capture?.packets }) : renderRun(run, formatWirePacket));
      }),
    );
}
