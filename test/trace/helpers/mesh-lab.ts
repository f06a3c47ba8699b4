// A small model of what the kernel reports for the mesh lab (docs/EVENTS.md):
// it emits events in the order the tracepoints fire, with the quirks seen on
// this kernel (a client's local port is still 0 at CLOSE→SYN_SENT; the
// server's child socket is born after the client is ESTABLISHED; a closing
// socket goes FIN_WAIT2→CLOSE when the timewait socket takes over).
export type Json = Record<string, unknown>;

export interface Rec {
  node: string;
  event: Json;
}

export interface Ep {
  ip: string;
  port: number;
}

export interface Pod {
  name: string;
  node: string;
  netns: number;
  ip: string;
}

export interface Proc {
  pid: number;
  tid: number;
  comm: string;
}

export interface Sock {
  id: string;
  pod: Pod;
  local: Ep;
  remote: Ep;
  uid: number;
  owner: Proc | null;
  role: "APP" | "SIDECAR";
  leg: string;
  state: string;
}

export const SIDECAR_UID = 1337;
export const APP_UID = 1000;

interface Clock {
  /** Node's monotonic clock = lab time + offsetNs. */
  offsetNs: number;
  seq: number;
}

export class MeshLab {
  readonly records: Rec[] = [];
  #clocks = new Map<string, Clock>();
  #next = 0x100;
  /** Lab time (ns): one real timeline; each node's monotonic clock is offset from it. */
  #real = 0;
  static readonly EPOCH_US = 1_750_000_000_000_000;

  /** Nodes booted at different times: their monotonic clocks are not comparable. */
  constructor(nodes: Record<string, { offsetNs: number }> = { lab: { offsetNs: 5_000_000_000 } }) {
    for (const [n, c] of Object.entries(nodes)) this.#clocks.set(n, { offsetNs: c.offsetNs, seq: 0 });
  }

  /** Let time pass (the node argument names whose idle time it is, for readability). */
  wait(node: string, ns: number): void {
    this.#clock(node);
    this.#real += ns;
  }

  /** Current kernel time of node. */
  now(node: string): number {
    return this.#real + this.#clock(node).offsetNs;
  }

  sock(pod: Pod, local: Ep, remote: Ep, o: { uid: number; role: "APP" | "SIDECAR"; leg?: string; owner?: Proc; id?: string }): Sock {
    return {
      id: o.id ?? `ffff8881${(this.#next++ * 0x40).toString(16).padStart(8, "0")}`,
      pod,
      local: { ...local },
      remote: { ...remote },
      uid: o.uid,
      owner: o.owner ?? null,
      role: o.role,
      leg: o.leg ?? "UNSPECIFIED",
      state: "CLOSE",
    };
  }

  emit(node: string, fields: Json, dtNs = 10_000): void {
    const c = this.#clock(node);
    this.#real += dtNs;
    c.seq++;
    this.records.push({
      node,
      event: { seq: c.seq, tsNs: this.#real + c.offsetNs, timeUs: MeshLab.EPOCH_US + Math.floor(this.#real / 1000), family: 4, ...fields },
    });
  }

  #base(s: Sock, withOwner = true): Json {
    return {
      sock: s.id,
      netns: s.pod.netns,
      pod: s.pod.name,
      local: { ...s.local },
      remote: { ...s.remote },
      uid: s.uid,
      role: s.role,
      leg: s.leg,
      ...(withOwner && s.owner ? { owner: { ...s.owner } } : {}),
    };
  }

  state(s: Sock, to: string, o: { localPort?: number } = {}): void {
    const ev = this.#base(s);
    if (o.localPort !== undefined) (ev.local as Ep).port = o.localPort;
    this.emit(s.pod.node, { kind: "STATE_CHANGE", ...ev, oldState: s.state, newState: to });
    s.state = to;
  }

  syscall(s: Sock, kind: string, p: Proc, extra: Json = {}): void {
    s.owner = p;
    this.emit(s.pod.node, { kind: `SYSCALL_${kind}`, ...this.#base(s), process: { ...p }, fd: 7, ...extra });
  }

  resetSent(s: Sock, reason: string): void {
    this.emit(s.pod.node, { kind: "RESET_SENT", ...this.#base(s), oldState: s.state, resetReason: reason });
  }

  /** A RST that no socket sent: nothing matched the segment (NO_SOCKET). */
  resetNoSocket(pod: Pod, local: Ep, remote: Ep): void {
    this.emit(pod.node, {
      kind: "RESET_SENT",
      sock: "",
      netns: pod.netns,
      pod: pod.name,
      local: { ...local },
      remote: { ...remote },
      oldState: "LISTEN",
      resetReason: "NO_SOCKET",
    });
  }

  /**
   * A proxy thread `p` sent on `s` what it had just read from `from`
   * (SOCKET_LINK), after reading `sources` different sockets since its
   * previous send.
   */
  link(s: Sock, from: Sock, p: Proc, sources = 1): void {
    this.emit(s.pod.node, { kind: "SOCKET_LINK", ...this.#base(s, false), linkedSock: from.id, linkSources: sources, process: { ...p } });
  }

  resetReceived(s: Sock): void {
    this.emit(s.pod.node, { kind: "RESET_RECEIVED", ...this.#base(s) });
  }

  retransmit(s: Sock): void {
    this.emit(s.pod.node, { kind: "RETRANSMIT", ...this.#base(s), oldState: s.state });
  }

  gap(node: string, startNs: number, lost: number): void {
    this.emit(node, { kind: "GAP", lost, gapReason: "perf buffer lost events", gapStartNs: startNs });
  }

  #clock(node: string): Clock {
    const c = this.#clocks.get(node);
    if (!c) throw new Error(`unknown node ${node}`);
    return c;
  }
}
