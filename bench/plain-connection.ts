// One plain client → server connection on a node, as the agent would publish
// it (handshake, FIN from the client, both ends closed: 14 events), for the
// benches that feed the consumer without bpftrace: close → queryable latency
// (consumer-bench.ts) and N simulated nodes (scale-bench.ts).
import { EventKind, Role, TcpState, type ConnEventInit } from "../src/model/mod.js";
import { socketId, traceId } from "../src/trace/mod.js";

const S = TcpState;

/** An event's fields before its seq and times are stamped. */
type Fields = Omit<ConnEventInit, "tsNs">;

export interface PlainConnectionOptions {
  /** The node that publishes it (its socket ids and trace id depend on it). */
  node: string;
  /** Connection number on that node: its ports and socket addresses. */
  index: number;
  /** Client and server addresses. Default 10.77.0.1 and 10.77.0.2. */
  clientIp?: string;
  serverIp?: string;
  /** The next seq of the node's stream. */
  seq: () => number;
  /** The next kernel ns of the node's clock. */
  ts: () => bigint;
}

/** The connection's events, with its seqs and times stamped, and the id of the trace it becomes. */
export function plainConnection(o: PlainConnectionOptions): { events: ConnEventInit[]; id: string } {
  const i = o.index;
  const cport = 30_000 + (i % 30_000);
  const client = { ip: o.clientIp ?? "10.77.0.1", port: cport };
  const server = { ip: o.serverIp ?? "10.77.0.2", port: 8080 };
  const csock = (0xffff888800000000n + BigInt(i) * 128n).toString(16);
  const ssock = (0xffff888900000000n + BigInt(i) * 128n).toString(16);
  const owner = { pid: 100, tid: 100, comm: "client" };
  const sowner = { pid: 200, tid: 200, comm: "server" };
  const base = { family: 4, uid: 1000, role: Role.ROLE_APP };
  const c = (e: Fields, port = cport): Fields => ({
    ...base, sock: csock, netns: 4026530001, pod: "client", local: { ...client, port }, remote: server, owner, ...e,
  });
  const s = (e: Fields): Fields => ({
    ...base, sock: ssock, netns: 4026530002, pod: "server", local: server, remote: client, owner: sowner, ...e,
  });
  const st = (from: TcpState, to: TcpState) => ({ kind: EventKind.EVENT_KIND_STATE_CHANGE, oldState: from, newState: to });
  const fields: Fields[] = [
    c(st(S.TCP_STATE_CLOSE, S.TCP_STATE_SYN_SENT), 0),
    c({ kind: EventKind.EVENT_KIND_SYSCALL_CONNECT, process: owner, ret: -115, target: server, fd: 5 }),
    c(st(S.TCP_STATE_SYN_SENT, S.TCP_STATE_ESTABLISHED)),
    s(st(S.TCP_STATE_LISTEN, S.TCP_STATE_SYN_RECV)),
    s(st(S.TCP_STATE_SYN_RECV, S.TCP_STATE_ESTABLISHED)),
    s({ kind: EventKind.EVENT_KIND_SYSCALL_ACCEPT, process: sowner, fd: 6 }),
    c({ kind: EventKind.EVENT_KIND_SYSCALL_CLOSE, process: owner, fd: 5 }),
    c(st(S.TCP_STATE_ESTABLISHED, S.TCP_STATE_FIN_WAIT1)),
    s(st(S.TCP_STATE_ESTABLISHED, S.TCP_STATE_CLOSE_WAIT)),
    c(st(S.TCP_STATE_FIN_WAIT1, S.TCP_STATE_FIN_WAIT2)),
    s({ kind: EventKind.EVENT_KIND_SYSCALL_CLOSE, process: sowner, fd: 6 }),
    s(st(S.TCP_STATE_CLOSE_WAIT, S.TCP_STATE_LAST_ACK)),
    c(st(S.TCP_STATE_FIN_WAIT2, S.TCP_STATE_CLOSE)),
    s(st(S.TCP_STATE_LAST_ACK, S.TCP_STATE_CLOSE)),
  ];
  const nowUs = Math.floor(Date.now() * 1000);
  const events: ConnEventInit[] = fields.map((e) => ({ ...e, seq: o.seq(), tsNs: o.ts(), timeUs: nowUs }));
  return { events, id: traceId(socketId(o.node, csock, events[0]!.tsNs)) };
}
