// `tcptrail lab up|down|status|scenario <name>`: the mesh lab on this machine
// (pods as network namespaces, Istio's iptables rules, HAProxy sidecars).
import { Option, type Command } from "commander";
import { createLogger } from "../../log/logger.js";
import {
  defaultStateDir,
  formatWirePacket,
  labDown,
  labStatus,
  labUp,
  openLab,
  runScenario,
  scenarioByName,
  scenarios,
  type LabStatus,
  type ScenarioRun,
} from "../../lab/mod.js";

interface CommonOptions {
  stateDir: string;
}

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

function renderRun(r: ScenarioRun): string {
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
  const lab = program.command("lab").description("an Istio-style mesh on this machine: pods, sidecars, scenarios, packet ground truth");
  const stateOpt = (): Option => new Option("--state-dir <dir>", "lab state directory").default(defaultStateDir());

  lab
    .command("up")
    .description("create the pods (netns + bridge), mesh iptables rules, sidecars and apps")
    .option("--pods <names>", "pod names", "a,b,c")
    .option("--plain <names>", "pods without a sidecar", "c")
    .option("--prefix <prefix>", "prefix of netns and link names", "tt-")
    .option("--subnet <cidr>", "pod subnet (a /24)", "10.88.0.0/24")
    .addOption(stateOpt())
    .action(async (o: CommonOptions & { pods: string; plain: string; prefix: string; subnet: string }) => {
      const pods = list(o.pods);
      await labUp({
        stateDir: o.stateDir,
        pods,
        plainPods: list(o.plain).filter((p) => pods.includes(p)),
        prefix: o.prefix,
        subnet: o.subnet,
        logger: createLogger({ name: "lab" }),
      });
      console.log(renderStatus(await labStatus({ stateDir: o.stateDir })));
    });

  lab
    .command("down")
    .description("remove every namespace, link and process the lab made (idempotent)")
    .addOption(stateOpt())
    .action(async (o: CommonOptions) => {
      const r = await labDown({ stateDir: o.stateDir });
      console.log(`stopped ${r.stopped.length} processes, removed namespaces [${r.namespaces.join(", ")}], links [${r.links.join(", ")}]`);
    });

  lab
    .command("status")
    .description("pods, addresses, sidecar and app PIDs and whether they are alive")
    .addOption(stateOpt())
    .addOption(new Option("-o, --output <format>", "table or json").choices(["table", "json"]).default("table"))
    .action(async (o: CommonOptions & { output: string }) => {
      const s = await labStatus({ stateDir: o.stateDir });
      console.log(o.output === "json" ? JSON.stringify(s) : renderStatus(s));
    });

  lab
    .command("scenario")
    .description(`run a scripted scenario: ${scenarios.map((s) => s.name).join(", ")}`)
    .argument("<name>", "scenario name")
    .option("--no-capture", "do not run tcpdump in the pods")
    .addOption(stateOpt())
    .addOption(new Option("-o, --output <format>", "table or json").choices(["table", "json"]).default("table"))
    .action(async (name: string, o: CommonOptions & { capture: boolean; output: string }) => {
      const scenario = scenarioByName(name);
      if (!scenario) throw new Error(`unknown scenario "${name}" (${scenarios.map((s) => s.name).join(", ")})`);
      const run = await runScenario(await openLab({ stateDir: o.stateDir }), scenario, { capture: o.capture });
      console.log(o.output === "json" ? JSON.stringify({ ...run.result, check: run.check, wire: run.capture?.packets }) : renderRun(run));
    });
}
