// Stitcher benchmark: events/s on one core for realistic mesh traffic (every
// connection app → sidecar → sidecar → app, 46 kernel events, ending with
// FINs), and bytes of memory per live tracked socket (100k open sockets).
// Run with --expose-gc for exact memory numbers.
import { v1, type ConnEvent, type ConnEventInit } from "../src/model/mod.js";
import { Stitcher } from "../src/trace/mod.js";

export interface StitchBenchOptions {
  /** Mesh connections (3 hops, 6 sockets, 46 events each) for the throughput run. Default 20000. */
  connections?: number;
  /** Nodes the connections are spread over. Default 2. */
  nodes?: number;
  /** Events per ingest() call. Default 256. */
  batchSize?: number;
  /** Open sockets for the memory run. Default 100000. */
  openSockets?: number;
}

export interface StitchBenchResult {
  events: number;
  /** Wall time of the stitching sections. */
  seconds: number;
  eventsPerSec: number;
  /** CPU time (all threads, GC included) of the same sections: what a busy machine does not distort. */
  cpuSeconds: number;
  eventsPerCpuSec: number;
  traces: number;
  openSockets: number;
  /** (heapUsed + external) growth per live socket, in bytes. */
  bytesPerLiveSocket: number;
  gcExposed: boolean;
}

const K = v1.EventKind;
const S = v1.TcpState;

/** An event's fields before the emitter stamps its times. */
type Fields = Omit<ConnEventInit, "tsNs">;

/** Emits one node's events with a monotonic clock. */
class Emitter {
  ts = 1_000_000_000n;
  seq = 0;
  readonly out: ConnEvent[] = [];
  emit(e: Fields): void {
    this.ts += 2_000n;
    e.seq = ++this.seq;
    e.timeUs = 1_750_000_000_000_000 + Number(this.ts / 1000n);
    // Shaped as decodeBatch delivers them: a message with exact kernel times.
    this.out.push(Object.assign(v1.ConnEvent.create(e), { tsNs: this.ts, gapStartNs: 0n }) as unknown as ConnEvent);
  }
}

interface Sk {
  sock: string;
  pod: string;
  netns: number;
  lip: string;
  lport: number;
  rip: string;
  rport: number;
  uid: number;
  role: number;
  leg: number;
  state: number;
}

let sockSeq = 0;
function sk(pod: string, netns: number, lip: string, lport: number, rip: string, rport: number, uid: number, role: number, leg = 0): Sk {
  sockSeq++;
  return { sock: `ffff8881${(sockSeq * 64).toString(16).padStart(8, "0")}`, pod, netns, lip, lport, rip, rport, uid, role, leg, state: S.TCP_STATE_CLOSE };
}

function st(e: Emitter, s: Sk, to: number, lport = s.lport): void {
  e.emit({
    kind: K.EVENT_KIND_STATE_CHANGE,
    sock: s.sock,
    netns: s.netns,
    pod: s.pod,
    family: 4,
    local: { ip: s.lip, port: lport },
    remote: { ip: s.rip, port: s.rport },
    oldState: s.state,
    newState: to,
    uid: s.uid,
    role: s.role,
    leg: s.leg,
  });
  s.state = to;
}

function sys(e: Emitter, s: Sk, kind: number, pid: number, extra: Fields = {}): void {
  e.emit({
    kind,
    sock: s.sock,
    netns: s.netns,
    pod: s.pod,
    local: { ip: s.lip, port: s.lport },
    remote: { ip: s.rip, port: s.rport },
    uid: s.uid,
    role: s.role,
    leg: s.leg,
    process: { pid, tid: pid, comm: pid < 1000 ? "haproxy" : "node" },
    ...extra,
  });
}

function handshake(e: Emitter, c: Sk, s: Sk, cpid: number, spid: number, target: { ip: string; port: number }, odst: boolean): void {
  st(e, c, S.TCP_STATE_SYN_SENT, 0);
  sys(e, c, K.EVENT_KIND_SYSCALL_CONNECT, cpid, { ret: -115, target });
  st(e, c, S.TCP_STATE_ESTABLISHED);
  s.state = S.TCP_STATE_LISTEN;
  st(e, s, S.TCP_STATE_SYN_RECV);
  st(e, s, S.TCP_STATE_ESTABLISHED);
  sys(e, s, K.EVENT_KIND_SYSCALL_ACCEPT, spid);
  if (odst) sys(e, s, K.EVENT_KIND_SYSCALL_ORIGINAL_DST, spid, { target });
}

function fins(e: Emitter, a: Sk, p: Sk): void {
  st(e, a, S.TCP_STATE_FIN_WAIT1);
  st(e, p, S.TCP_STATE_CLOSE_WAIT);
  st(e, a, S.TCP_STATE_FIN_WAIT2);
}

function finish(e: Emitter, p: Sk, a: Sk): void {
  st(e, p, S.TCP_STATE_LAST_ACK);
  st(e, a, S.TCP_STATE_CLOSE);
  st(e, p, S.TCP_STATE_CLOSE);
}

/** One mesh connection between two of 250 pod pairs on one node, port-unique per connection. */
function meshConnection(e: Emitter, i: number): void {
  const pair = i % 250;
  const a = { ip: `10.88.${pair >> 8}.${(pair & 255) + 1}`, pod: `pod-a-${pair}`, netns: 4026540000 + pair * 2 };
  const b = { ip: `10.89.${pair >> 8}.${(pair & 255) + 1}`, pod: `pod-b-${pair}`, netns: 4026540001 + pair * 2 };
  const p = 10_000 + ((i * 3) % 50_000);
  const dst = { ip: b.ip, port: 8080 };
  const s1 = sk(a.pod, a.netns, a.ip, p, b.ip, 8080, 1000, 1);
  const s2 = sk(a.pod, a.netns, "127.0.0.1", 15001, a.ip, p, 1337, 2, 1);
  const s3 = sk(a.pod, a.netns, a.ip, p + 1, b.ip, 8080, 1337, 2, 3);
  const s4 = sk(b.pod, b.netns, b.ip, 15006, a.ip, p + 1, 1337, 2, 2);
  const s5 = sk(b.pod, b.netns, "127.0.0.6", p + 2, b.ip, 8080, 1337, 2, 4);
  const s6 = sk(b.pod, b.netns, b.ip, 8080, "127.0.0.6", p + 2, 1000, 1);
  handshake(e, s1, s2, 5000 + pair, 100 + pair, dst, true);
  handshake(e, s3, s4, 100 + pair, 400 + pair, dst, true);
  handshake(e, s5, s6, 400 + pair, 6000 + pair, dst, false);
  sys(e, s1, K.EVENT_KIND_SYSCALL_CLOSE, 5000 + pair);
  fins(e, s1, s2);
  fins(e, s3, s4);
  fins(e, s5, s6);
  finish(e, s6, s5);
  finish(e, s4, s3);
  finish(e, s2, s1);
  sys(e, s5, K.EVENT_KIND_SYSCALL_CLOSE, 400 + pair);
  sys(e, s3, K.EVENT_KIND_SYSCALL_CLOSE, 100 + pair);
}

function gc(): boolean {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) return false;
  g();
  g();
  return true;
}

export async function benchStitch(o: StitchBenchOptions = {}): Promise<StitchBenchResult> {
  const connections = o.connections ?? 20_000;
  const nodeCount = o.nodes ?? 2;
  const batchSize = o.batchSize ?? 256;
  const openSockets = o.openSockets ?? 100_000;

  // Throughput: events are generated in chunks outside the timed sections, so
  // only stitching is measured and the heap does not hold a million events
  // (decoded batches die young in production too).
  let traces = 0;
  let st1: Stitcher | null = new Stitcher({ onTrace: () => void traces++ });
  let events = 0;
  let ns = 0n;
  let cpuUs = 0;
  const chunk = 250 * nodeCount;
  const emitters = Array.from({ length: nodeCount }, () => new Emitter());
  for (let first = 0; first < connections; first += chunk) {
    for (let i = first; i < Math.min(connections, first + chunk); i++) meshConnection(emitters[i % nodeCount]!, i);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (let n = 0; n < nodeCount; n++) {
      const out = emitters[n]!.out;
      for (let from = 0; from < out.length; from += batchSize) st1.ingest(`node-${n}`, out.slice(from, from + batchSize));
      events += out.length;
    }
    ns += process.hrtime.bigint() - t0;
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
    for (const e of emitters) e.out.length = 0;
  }
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage();
  st1.flush();
  ns += process.hrtime.bigint() - t1;
  const c = process.cpuUsage(c1);
  cpuUs += c.user + c.system;
  const seconds = Number(ns) / 1e9;
  if (traces !== connections) throw new Error(`bench: expected ${connections} traces, got ${traces}`);
  st1 = null;

  // Memory: open sockets that never close (handshakes only), generated batch by
  // batch so no event outlives its ingest.
  const gcExposed = gc();
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const before = mem();
  // Default options: the socket table grows by half when full, as in production.
  const st2 = new Stitcher();
  const e = new Emitter();
  for (let i = 0; i < openSockets / 2; i++) {
    const pair = i % 1000;
    const aip = `10.90.${pair >> 8}.${(pair & 255) + 1}`;
    const bip = `10.91.${pair >> 8}.${(pair & 255) + 1}`;
    const port = 1024 + (i % 60_000);
    const c = sk(`pod-c-${pair}`, 4026550000 + pair, aip, port, bip, 9000 + ((i / 60_000) | 0), 1000, 1);
    const s = sk(`pod-s-${pair}`, 4026560000 + pair, bip, c.rport, aip, port, 1000, 1);
    handshake(e, c, s, 7000 + pair, 8000 + pair, { ip: bip, port: c.rport }, false);
    if (e.out.length >= batchSize) {
      st2.ingest("mem", e.out.splice(0));
    }
  }
  st2.ingest("mem", e.out.splice(0));
  st2.flush();
  gc();
  const after = mem();
  const live = st2.stats().liveSockets;
  return {
    events,
    seconds,
    eventsPerSec: Math.round(events / seconds),
    cpuSeconds: cpuUs / 1e6,
    eventsPerCpuSec: Math.round(events / (cpuUs / 1e6)),
    traces,
    openSockets: live,
    bytesPerLiveSocket: Math.round((after - before) / live),
    gcExposed,
  };
}

// `node --expose-gc dist/bench/stitch-bench.js` runs it on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  benchStitch().then((r) => console.log(JSON.stringify(r)));
}
