// The acceptance of issue 12, connection by connection: each one the
// workload made is traced exactly once (one trace, both its ends in one hop,
// no second trace naming it), or it lived while the agent could not see (a
// GAP's span covers part of its life). Never a duplicate, never a trace split
// into a client half and a server half, never PROCESS_EXIT (no process exited).
import type { TraceJson } from "../../../src/query/trace-json.js";
import type { WorkloadConnection } from "./loopback-workload.js";

export interface GapSpan {
  startNs: bigint;
  endNs: bigint;
  lost: number;
  reason: string;
  /** The agent's estimate of what it missed (GAPs of a bpftrace restart); null when it gave none. */
  estimatedLost: number | null;
}

export interface Verdict {
  /** Traced exactly once, both ends in one hop. */
  traced: number;
  /** Not traced, or not whole, but a GAP covers part of its life. */
  inGap: WorkloadConnection[];
  /** Of those, the ones with no trace at all (the others were traced, INCOMPLETE or split). */
  untracedInGap: WorkloadConnection[];
  /** Not traced (or traced more than once, or split, or PROCESS_EXIT) with no GAP to say why: what the tests expect to be empty. */
  unexplained: string[];
}

/** A GAP covers the connection when their intervals meet (with `slackNs` for clock rounding). */
function coveringGap(c: WorkloadConnection, gaps: readonly GapSpan[], slackNs: bigint): GapSpan | undefined {
  return gaps.find((g) => c.openNs <= g.endNs + slackNs && c.closeNs >= g.startNs - slackNs);
}

const SLACK_NS = 5_000_000n;

export function judge(connections: readonly WorkloadConnection[], serverPort: number, traces: readonly TraceJson[], gaps: readonly GapSpan[]): Verdict {
  // Every trace that names a client port of ours, by that port.
  const byPort = new Map<number, TraceJson[]>();
  for (const t of traces) {
    const ports = new Set<number>();
    for (const h of t.hops) {
      if (h.server.port === serverPort && h.client.port) ports.add(h.client.port);
      if (h.client.port === serverPort && h.server.port) ports.add(h.server.port);
    }
    for (const p of ports) byPort.set(p, [...(byPort.get(p) ?? []), t]);
  }
  const uses = new Map<number, number>();
  for (const c of connections) uses.set(c.clientPort, (uses.get(c.clientPort) ?? 0) + 1);

  const verdict: Verdict = { traced: 0, inGap: [], untracedInGap: [], unexplained: [] };
  for (const c of connections) {
    const mine = byPort.get(c.clientPort) ?? [];
    const reused = uses.get(c.clientPort)!;
    const whole = mine.filter((t) =>
      t.hops.some((h) => h.client.port === c.clientPort && h.server.port === serverPort && h.client.socket_id !== null && h.server.socket_id !== null),
    );
    const problem =
      mine.length === 0
        ? "no trace"
        : mine.length > reused
          ? `${mine.length} traces (${mine.map((t) => t.outcome).join(", ")})`
          : whole.length < mine.length
            ? `split or half-seen: ${mine.map((t) => `${t.outcome} ${t.hops.map((h) => `${h.client.socket_id ? "c" : "-"}${h.server.socket_id ? "s" : "-"}`).join("")}`).join(", ")}`
            : mine.some((t) => t.outcome === "PROCESS_EXIT")
              ? "PROCESS_EXIT"
              : mine.some((t) => t.outcome !== "COMPLETED")
                ? `outcome ${mine.map((t) => t.outcome).join(", ")}`
                : "";
    if (!problem) {
      verdict.traced++;
      continue;
    }
    // A duplicate or a false PROCESS_EXIT is never a gap's doing.
    const gapExcuses = problem === "no trace" || problem.startsWith("split") || problem.startsWith("outcome");
    if (gapExcuses && coveringGap(c, gaps, SLACK_NS)) {
      verdict.inGap.push(c);
      if (problem === "no trace") verdict.untracedInGap.push(c);
    }
    else verdict.unexplained.push(`client port ${c.clientPort} (${c.openNs}..${c.closeNs} ns): ${problem}`);
  }
  return verdict;
}
