// tcptrail does not trace itself by default (issue 12): every CLI call used to
// become a trace (node → 127.0.0.1:7070), and the agent's own NATS traffic
// competed with the workload for probe output. The probe takes what is ours as
// positional parameters and skips those sockets in the kernel (see the header
// of probes/tcptrail.bt): $1 our pid, $2..$5 ports we listen on, $6 our netns.
import { InvalidArgumentError } from "../errors/mod.js";

/** Ports the probe can be told about ($2..$5). */
export const MAX_SELF_PORTS = 4;

export interface SelfExclusion {
  /** Our process: sockets it connects or listens are skipped. */
  pid: number;
  /** Ports tcptrail listens on (API, embedded NATS, metrics): loopback sockets with one at either end are skipped. */
  ports: readonly number[];
  /** Inode of our network namespace: the port rule applies there only (a pod's loopback may reuse a port). 0: any. Default 0. */
  netns?: number;
}

/** The program's positional parameters for `x`; none (trace everything) when undefined. */
export function selfExclusionArgs(x: SelfExclusion | undefined): string[] {
  if (!x) return [];
  if (!Number.isInteger(x.pid) || x.pid < 0) throw InvalidArgumentError.format("self-exclusion pid", "must be an integer >= 0");
  const ports = [...new Set(x.ports.filter((p) => p !== 0))];
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw InvalidArgumentError.format("self-exclusion port", "must be an integer 1..65535");
  }
  // More than the probe takes: keep the first ones (callers list the busiest first).
  const kept = ports.slice(0, MAX_SELF_PORTS);
  while (kept.length < MAX_SELF_PORTS) kept.push(0);
  const netns = x.netns ?? 0;
  if (!Number.isInteger(netns) || netns < 0) throw InvalidArgumentError.format("self-exclusion netns", "must be an integer >= 0");
  return [String(x.pid), ...kept.map(String), String(netns)];
}
