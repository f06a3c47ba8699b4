// `npm run bench`: every speed target, measured in one run on this machine.
// Targets are printed next to what was reached; nothing here fails a build.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchChurn, benchReplay, buildChurn, recordProbeOutput } from "./agent-bench.js";

const fmt = (n: number) => n.toLocaleString("en-US");

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-bench-"));
  try {
    const churnBin = await buildChurn(dir);
    if (!churnBin) throw new Error("gcc is needed to build the loopback churn (deploy/setup.sh installs it)");

    console.log("== agent: replay of recorded probe output (one core) ==");
    const recorded = await recordProbeOutput(churnBin, 2);
    console.log(`recorded ${fmt(recorded.length)} lines of real bpftrace output during a 2 s loopback churn`);
    const r = await benchReplay(recorded);
    console.log(`lines replayed            ${fmt(r.lines)}`);
    console.log(`parse                     ${fmt(r.parsePerSec)} events/s`);
    console.log(`parse+order+attribute     ${fmt(r.agentPerSec)} events/s`);
    console.log(`protobuf encode           ${fmt(r.encodePerSec)} events/s`);
    console.log(`parse → encode → publish  ${fmt(r.endToEndPerSec)} events/s (target ≥ 1,000,000; ${(r.endToEndPerSec / 1e6).toFixed(2)}× target), ${fmt(r.published)} acked by JetStream`);

    console.log("\n== agent: live loopback churn, untraced vs traced, alternating ==");
    const c = await benchChurn(churnBin, 3, 2);
    console.log(`untraced conns/s          ${c.untraced.map(fmt).join(", ")}`);
    console.log(`traced conns/s            ${c.traced.map(fmt).join(", ")}`);
    console.log(`traced / untraced         ${c.ratio.toFixed(2)}`);
    console.log(`events read while traced  ${fmt(c.eventsRead)}; lost in kernel ${fmt(c.kernelLost)}; dropped in queue ${fmt(c.queueDropped)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
