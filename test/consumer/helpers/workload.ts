// Event streams for consumer tests: the stitcher tests' mesh-lab scenarios
// laid end to end on one node, and N mesh connections open at the same time
// whose closes interleave (ok, app abort and refused, each to its own port).
import type { ConnEvent } from "../../../src/model/mod.js";
import { toConnEvent } from "../../trace/helpers/load-fixture.js";
import { MeshLab, type Pod, type Rec } from "../../trace/helpers/mesh-lab.js";
import {
  SCENARIOS,
  abort,
  appA,
  appB,
  closeCleanly,
  meshChain,
  podA,
  podB,
  proxyB,
  resetDownstreamAfterFin,
  type Chain,
} from "../../trace/helpers/scenarios.js";

export const NODE = "lab";

/**
 * Named scenarios one after another on node `lab`, `gapMs` of kernel and wall
 * time apart (more than the stitcher's pairing window, so they never mix),
 * with one continuous seq.
 */
export function sequentialScenarios(names: readonly string[], gapMs = 30_000): ConnEvent[] {
  const out: ConnEvent[] = [];
  names.forEach((name, i) => {
    const make = SCENARIOS[name];
    if (!make) throw new Error(`unknown scenario ${name}`);
    for (const r of make()) {
      if (r.node !== NODE) throw new Error(`scenario ${name} uses node ${r.node}`);
      const ev = toConnEvent(r.event);
      ev.tsNs += BigInt(i * gapMs) * 1_000_000n;
      ev.timeUs += i * gapMs * 1000;
      ev.seq = out.length + 1;
      out.push(ev);
    }
  });
  return out;
}

export type Kind = "ok" | "abort" | "refused";

interface Conn {
  kind: Kind;
  chain: Chain;
}

const MS = 1_000_000;

function open(lab: MeshLab, A: Pod, B: Pod, i: number, kind: Kind): Conn {
  const dst = { ip: B.ip, port: 8000 + i };
  const chain = meshChain(lab, A, B, dst.port, kind !== "refused", 20_000 + i * 3);
  if (kind === "refused") {
    // Nothing listens on the destination port: sidecar B's dial is refused at once.
    const { s5 } = chain;
    lab.state(s5, "SYN_SENT", { localPort: 0 });
    lab.resetNoSocket(B, dst, s5.local);
    lab.resetReceived(s5);
    lab.state(s5, "CLOSE");
    lab.syscall(s5, "CONNECT", proxyB, { ret: -111, target: dst });
  }
  return { kind, chain };
}

function close(lab: MeshLab, c: Conn): void {
  const { s1, s5, s6 } = c.chain;
  lab.wait(NODE, 1 * MS);
  if (c.kind === "ok") {
    closeCleanly(lab, c.chain);
  } else if (c.kind === "abort") {
    abort(lab, s6, s5, "TCP_ABORT_ON_CLOSE", appB);
    resetDownstreamAfterFin(lab, c.chain);
    lab.syscall(s5, "CLOSE", proxyB);
    lab.syscall(s1, "CLOSE", appA);
  } else {
    resetDownstreamAfterFin(lab, c.chain);
    lab.syscall(s1, "CLOSE", appA);
  }
}

export interface InterleaveOptions {
  /** Indexes in the order the connections close. Default: reverse opening order. */
  closeOrder?: readonly number[];
  /** Idle time after the first connection opened, ms (kernel and wall time). Default 0. */
  pauseAfterFirstMs?: number;
}

/**
 * `kinds.length` mesh connections on node `lab`: all open first, then they
 * close in `closeOrder`, so every one is in flight while others finish.
 */
export function interleavedConnections(kinds: readonly Kind[], o: InterleaveOptions = {}): ConnEvent[] {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  const conns = kinds.map((k, i) => {
    const c = open(lab, A, B, i, k);
    if (i === 0 && o.pauseAfterFirstMs) lab.wait(NODE, o.pauseAfterFirstMs * MS);
    return c;
  });
  for (const i of o.closeOrder ?? conns.map((_, i) => conns.length - 1 - i)) close(lab, conns[i]!);
  return lab.records.map((r: Rec) => toConnEvent(r.event));
}
