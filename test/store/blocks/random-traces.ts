// Seeded random traces for the block codec's round-trip properties: every
// field anywhere in its range, endpoints present or absent, socket ids in
// the canonical form and in every odd form a producer could send, times
// that are 0, before or after their reference, and exact past 2^53 ns.
import { v1, type Trace, type TraceInit } from "../../../src/model/mod.js";
import { traceId } from "../../../src/trace/trace-id.js";
import { mulberry32 } from "../../../bench/mulberry32.js";

/** mulberry32: small, seeded, good enough to spread test cases. */
export const prng = mulberry32;

type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const ODD_SOCKET_IDS = [
  "n1/FFFF888100001000/123", // upper case
  "n1/0xffff888100001000/123", // 0x prefix
  "n1/0ffff888100001000/123", // leading zero in the address
  "n1/ffff888100001000/0123", // leading zero in the birth
  "n1/ffff888100001000/", // no birth
  "n1//123", // no address
  "/ffff888100001000/123", // no node
  "ffff888100001000/123", // no node part at all
  "n1/ffff888100001000/12a", // birth not decimal
  "n1/1ffff888100001000/1", // 17 hex digits
  "n1/ffff888100001000/123456789012345678901", // 21 digits
  "garbage",
  "a/b/c/d",
];

function socketId(r: Rand, nodes: readonly string[]): string {
  const roll = r();
  if (roll < 0.08) return "";
  if (roll < 0.18) return pick(r, ODD_SOCKET_IDS);
  const node = pick(r, nodes);
  const sock = pick(r, [
    () => "0",
    () => (0xffff8881_00000000 + int(r, 2 ** 20) * 64).toString(16),
    () => BigInt.asUintN(64, BigInt(int(r, 2 ** 32)) * BigInt(int(r, 2 ** 32)) + 1n).toString(16),
    () => int(r, 2 ** 31).toString(16),
  ])();
  const birth = pick(r, [
    () => "0",
    () => String(1_000_000_000 + int(r, 1e9)),
    // Past 2^53 (104 days of uptime) and up to u64 max: must stay exact.
    () => (2n ** 53n + BigInt(int(r, 2 ** 30))).toString(),
    () => "18446744073709551615",
    () => (BigInt(int(r, 2 ** 32)) * 4_000_000_000n).toString(),
  ])();
  return `${node}/${sock}/${birth}`;
}

function endpoint(r: Rand, nodes: readonly string[]): TraceInit["resetOrigin"] {
  if (r() < 0.1) return null;
  if (r() < 0.1) return {}; // present, every field default
  return {
    ip: pick(r, ["10.88.0.2", "10.88.0.3", "127.0.0.1", "127.0.0.6", "fd00::1", ""]),
    port: pick(r, [0, 8080, 15001, 15006, 65535, int(r, 65536)]),
    pod: pick(r, ["tt-a", "tt-b", "", "ns/pod-é"]),
    netns: pick(r, [0, 4026532301, int(r, 2 ** 32), Number.MAX_SAFE_INTEGER]),
    role: int(r, 4),
    leg: int(r, 6),
    pid: pick(r, [0, 812, 2 ** 32 - 1]),
    comm: pick(r, ["node", "haproxy", "", "envoy"]),
    uid: pick(r, [0, 1000, 1337, 2 ** 32 - 1]),
    node: pick(r, nodes),
    socketId: socketId(r, nodes),
    // Equal sets in another key order must read back equal; an empty key or value is a label too.
    labels: pick<Record<string, string>>(r, [{}, {}, { app: "web" }, { app: "web", tier: "front" }, { tier: "front", app: "web" }, { "app.kubernetes.io/name": "é-ü", "": "" }]),
  };
}

/** A time near `ref`: 0, before it, or after it (µs). */
function timeNear(r: Rand, ref: number): number {
  const roll = r();
  if (roll < 0.15) return 0;
  if (roll < 0.25) return Math.max(1, ref - int(r, 1e6));
  return ref + int(r, 3e6);
}

/** One random trace, as decoded from the hot table (the form sealing reads). */
export function randomTrace(r: Rand, n: number): Trace {
  const nodes = ["lab", "node-1", "node/with/slashes", "ü"];
  const startUs = r() < 0.05 ? 0 : 1_750_000_000_000_000 + int(r, 1e9);
  const hops = Array.from({ length: int(r, 5) }, (_, i) => ({
    index: r() < 0.9 ? i + 1 : int(r, 9),
    client: endpoint(r, nodes),
    server: endpoint(r, nodes),
    originalDestination: r() < 0.6 ? { ip: pick(r, ["10.88.0.3", ""]), port: pick(r, [0, 8080]) } : null,
    openedBy: pick(r, ["client", "server", ""]),
    firstFinBy: pick(r, ["client", "server", ""]),
    resetBy: pick(r, ["client", "server", "none", ""]),
    resetReason: int(r, 27),
    outcome: int(r, 10),
    startUs: timeNear(r, startUs),
    endUs: timeNear(r, startUs),
    link: pick(r, ["", "redirect", "proxy", "pooled"]),
    attempt: int(r, 4),
    attempts: int(r, 4),
    shared: r() < 0.3,
    useStartUs: timeNear(r, startUs),
    useEndUs: timeNear(r, startUs),
    linkConfidence: int(r, 3),
    openedUs: timeNear(r, startUs),
    firstFinUs: timeNear(r, startUs),
    resetUs: timeNear(r, startUs),
  }));
  const t: TraceInit = {
    outcome: int(r, 11),
    hops,
    resetOriginHop: int(r, hops.length + 1),
    explanation: pick(r, ["", "App node (pid 913) reset the connection.", `unique explanation ${n} ${r()}`]),
    startUs,
    // Open traces end 0.
    endUs: r() < 0.2 ? 0 : timeNear(r, startUs),
    firstCloseHop: int(r, 3),
    firstCloseBy: pick(r, ["client", "server", ""]),
    race:
      r() < 0.3
        ? {
            idleUs: pick(r, [0, int(r, 1e9), 2 ** 40]),
            gapUs: pick(r, [0, int(r, 1e4), -int(r, 1e4) - 1, -(2 ** 40)]),
            resetReason: int(r, 27),
            sharedHop: int(r, 5),
            firstCloseHop: int(r, 5),
            firstCloseBy: pick(r, ["client", "server", ""]),
          }
        : null,
  };
  // Reset origin and receiver: often a copy of a hop endpoint (stored as a reference), sometimes not.
  const hopEnds = hops.flatMap((h) => [h.client, h.server]).filter((e) => e);
  for (const k of ["resetOrigin", "resetReceiver"] as const) {
    const roll = r();
    if (roll < 0.4 && hopEnds.length > 0) t[k] = { ...pick(r, hopEnds)! };
    else if (roll < 0.7) t[k] = endpoint(r, nodes);
  }
  const root = hops[0]?.client?.socketId || hops[0]?.server?.socketId || "";
  // Most ids derive from the root socket, as the stitcher's do; the rest are whatever a producer sent.
  t.traceId = root && r() < 0.7 ? traceId(root) : pick(r, [`t-${n}`, `${n}`, "é/ü", `${traceId(String(n))}`]);
  return v1.Trace.decode(v1.Trace.encode(t).finish());
}

/** What "equal" means for traces: toObject with every default and 64-bit values as strings. */
export const asObject = (t: Trace): Record<string, unknown> => v1.Trace.toObject(t, { longs: String, defaults: true });
