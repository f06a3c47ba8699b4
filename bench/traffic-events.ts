// Synthetic kernel events for the benches, in the order the tracepoints fire
// (docs/EVENTS.md): mesh connections (app → sidecar → sidecar → app, 3 hops,
// 6 sockets) and plain 1-hop connections closed the way the paced churn
// closes them (server first, every other one with an RST). The stitcher bench
// times stitching them; the store bench stitches them into real traces and
// measures what storing those, and the events themselves, costs.
import { v1, type ConnEvent, type ConnEventInit } from "../src/model/mod.js";

const K = v1.EventKind;
const S = v1.TcpState;

/** Wall clock of kernel time 0 on the generated nodes (µs since the epoch). */
export const EMITTER_EPOCH_US = 1_750_000_000_000_000;
/** Kernel ns between two consecutive events of one node. */
export const EMITTER_STEP_NS = 2_000n;
const EINPROGRESS = -115;

/** An event's fields before the emitter stamps its times. */
export type EventFields = Omit<ConnEventInit, "tsNs">;

/** Emits one node's events with a monotonic clock. */
export class Emitter {
  ts = 1_000_000_000n;
  seq = 0;
  readonly out: ConnEvent[] = [];
  emit(e: EventFields): void {
    this.ts += EMITTER_STEP_NS;
    e.seq = ++this.seq;
    e.timeUs = EMITTER_EPOCH_US + Number(this.ts / 1000n);
    // Shaped as decodeBatch delivers them: a message with exact kernel times.
    this.out.push(Object.assign(v1.ConnEvent.create(e), { tsNs: this.ts, gapStartNs: 0n }) as unknown as ConnEvent);
  }
}

/** A socket as the generator tracks it: its tuple, owner and current state. */
export interface Sk {
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
  /** The process the agent attributes the socket to once a syscall named it. */
  owner: { pid: number; tid: number; comm: string } | null;
}

let sockSeq = 0;
export function sk(pod: string, netns: number, lip: string, lport: number, rip: string, rport: number, uid: number, role: number, leg = 0): Sk {
  sockSeq++;
  return { sock: `ffff8881${(sockSeq * 64).toString(16).padStart(8, "0")}`, pod, netns, lip, lport, rip, rport, uid, role, leg, state: S.TCP_STATE_CLOSE, owner: null };
}

const comm = (pid: number) => (pid < 1000 ? "haproxy" : "node");

function base(s: Sk): EventFields {
  return {
    sock: s.sock,
    netns: s.netns,
    pod: s.pod,
    family: 4,
    local: { ip: s.lip, port: s.lport },
    remote: { ip: s.rip, port: s.rport },
    uid: s.uid,
    role: s.role,
    leg: s.leg,
    // The agent stamps every event of a socket with the owner it attributed
    // (softirq events included): the wire and the store carry it.
    ...(s.owner ? { owner: s.owner } : {}),
  };
}

export function st(e: Emitter, s: Sk, to: number, lport = s.lport): void {
  e.emit({ kind: K.EVENT_KIND_STATE_CHANGE, ...base(s), local: { ip: s.lip, port: lport }, oldState: s.state, newState: to });
  s.state = to;
}

export function sys(e: Emitter, s: Sk, kind: number, pid: number, extra: EventFields = {}): void {
  s.owner = { pid, tid: pid, comm: comm(pid) };
  e.emit({ kind, ...base(s), process: { pid, tid: pid, comm: comm(pid) }, ...extra });
}

/** SYN, SYN-ACK, ACK as the tracepoints report them, then accept (and SO_ORIGINAL_DST on a redirect listener). */
export function handshake(e: Emitter, c: Sk, s: Sk, cpid: number, spid: number, target: { ip: string; port: number }, odst: boolean): void {
  // A connecting socket has no local port yet when it leaves CLOSE.
  st(e, c, S.TCP_STATE_SYN_SENT, 0);
  sys(e, c, K.EVENT_KIND_SYSCALL_CONNECT, cpid, { ret: EINPROGRESS, target });
  st(e, c, S.TCP_STATE_ESTABLISHED);
  s.state = S.TCP_STATE_LISTEN;
  st(e, s, S.TCP_STATE_SYN_RECV);
  st(e, s, S.TCP_STATE_ESTABLISHED);
  sys(e, s, K.EVENT_KIND_SYSCALL_ACCEPT, spid);
  if (odst) sys(e, s, K.EVENT_KIND_SYSCALL_ORIGINAL_DST, spid, { target });
}

/** `a` sends the first FIN (close() or shutdown(SHUT_WR) by `pid`), its peer `p` acks it. */
function finFirst(e: Emitter, a: Sk, p: Sk, pid: number, how: "close" | "shutdown" = "close"): void {
  if (how === "close") sys(e, a, K.EVENT_KIND_SYSCALL_CLOSE, pid);
  else sys(e, a, K.EVENT_KIND_SYSCALL_SHUTDOWN, pid, { shutdownHow: 1 });
  st(e, a, S.TCP_STATE_FIN_WAIT1);
  st(e, p, S.TCP_STATE_CLOSE_WAIT);
  st(e, a, S.TCP_STATE_FIN_WAIT2);
}

/** `p` answers with its FIN (close() by `pid`); the active side `a` hands over to a timewait socket. */
function finSecond(e: Emitter, p: Sk, a: Sk, pid: number): void {
  sys(e, p, K.EVENT_KIND_SYSCALL_CLOSE, pid);
  st(e, p, S.TCP_STATE_LAST_ACK);
  st(e, a, S.TCP_STATE_CLOSE);
  st(e, p, S.TCP_STATE_CLOSE);
}

/**
 * `sender` aborts (close() with SO_LINGER 0: tcp_disconnect moves it to CLOSE,
 * then sends the RST with the kernel's reason TCP_STATE, as recorded in the
 * lab); the peer receives it and closes.
 */
function abort(e: Emitter, sender: Sk, receiver: Sk, pid: number): void {
  sys(e, sender, K.EVENT_KIND_SYSCALL_CLOSE, pid);
  const from = sender.state;
  st(e, sender, S.TCP_STATE_CLOSE);
  e.emit({ kind: K.EVENT_KIND_RESET_SENT, ...base(sender), oldState: from, resetReason: v1.ResetReason.RESET_REASON_TCP_STATE });
  e.emit({ kind: K.EVENT_KIND_RESET_RECEIVED, ...base(receiver) });
  st(e, receiver, S.TCP_STATE_CLOSE);
}

/** Pod pairs the generated connections are spread over (pod filters then select a slice). */
export const DEFAULT_POD_PAIRS = 250;

/** One mesh connection (46 events) between two of `pairs` pod pairs on one node, port-unique per connection; ends with FINs. */
export function meshConnection(e: Emitter, i: number, pairs = DEFAULT_POD_PAIRS): void {
  const pair = i % pairs;
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
  // App A closes; each sidecar relays the FIN with shutdown(SHUT_WR) and
  // answers it with close(), as HAProxy does (a FIN without a syscall before
  // it reads as a process that exited).
  finFirst(e, s1, s2, 5000 + pair);
  finFirst(e, s3, s4, 100 + pair, "shutdown");
  finFirst(e, s5, s6, 400 + pair, "shutdown");
  finSecond(e, s6, s5, 6000 + pair);
  finSecond(e, s4, s3, 400 + pair);
  finSecond(e, s2, s1, 100 + pair);
  // The sidecars close their upstream descriptors after the sockets died.
  sys(e, s5, K.EVENT_KIND_SYSCALL_CLOSE, 400 + pair);
  sys(e, s3, K.EVENT_KIND_SYSCALL_CLOSE, 100 + pair);
}

/**
 * One plain (no sidecar) connection from a client pod to a server pod, closed
 * as bench/paced-churn.c closes them: the server first, connection `i` with an
 * RST when even (SO_LINGER 0), with a FIN the client answers when odd.
 */
export function churnConnection(e: Emitter, i: number, pairs = DEFAULT_POD_PAIRS): void {
  const pair = i % pairs;
  const c = { ip: `10.90.${pair >> 8}.${(pair & 255) + 1}`, pod: `churn-c-${pair}`, netns: 4026550000 + pair * 2, pid: 7000 + pair };
  const s = { ip: `10.91.${pair >> 8}.${(pair & 255) + 1}`, pod: `churn-s-${pair}`, netns: 4026550001 + pair * 2, pid: 8000 + pair };
  const p = 10_000 + (i % 50_000);
  const client = sk(c.pod, c.netns, c.ip, p, s.ip, 9000, 1000, 1);
  const server = sk(s.pod, s.netns, s.ip, 9000, c.ip, p, 1000, 1);
  handshake(e, client, server, c.pid, s.pid, { ip: s.ip, port: 9000 }, false);
  if (i % 2 === 0) {
    abort(e, server, client, s.pid);
    sys(e, client, K.EVENT_KIND_SYSCALL_CLOSE, c.pid);
    return;
  }
  finFirst(e, server, client, s.pid);
  finSecond(e, client, server, c.pid);
}

/** What one generated connection looks like. */
export type GeneratedTraffic = "mesh" | "churn";
/** The store bench's kinds of traffic: generated here, or replayed from the lab's recordings (lab-traffic.ts). */
export type TrafficKind = GeneratedTraffic | "lab";
export const TRAFFIC_KINDS: readonly TrafficKind[] = ["mesh", "churn", "lab"];

export const CONNECTION_OF: Record<GeneratedTraffic, (e: Emitter, i: number, pairs?: number) => void> = {
  mesh: meshConnection,
  churn: churnConnection,
};
