// The mesh lab's scenarios as the kernel reports them: two pods A=10.88.0.2
// and B=10.88.0.3 with HAProxy sidecars (uid 1337) and node apps, plus a pod C
// without a sidecar. Each builder returns the records of one scenario.
import { APP_UID, MeshLab, SIDECAR_UID, type Ep, type Pod, type Proc, type Rec, type Sock } from "./mesh-lab.js";

export const podA = (node = "lab"): Pod => ({ name: "tt-a", node, netns: 4026532301, ip: "10.88.0.2" });
export const podB = (node = "lab"): Pod => ({ name: "tt-b", node, netns: 4026532302, ip: "10.88.0.3" });
export const podC = (node = "lab"): Pod => ({ name: "tt-c", node, netns: 4026532303, ip: "10.88.0.4" });

export const appA: Proc = { pid: 812, tid: 812, comm: "node" };
export const appB: Proc = { pid: 913, tid: 913, comm: "node" };
export const appC: Proc = { pid: 1014, tid: 1014, comm: "node" };
export const proxyA: Proc = { pid: 640, tid: 640, comm: "haproxy" };
export const proxyB: Proc = { pid: 741, tid: 741, comm: "haproxy" };

const EINPROGRESS = -115;
const ECONNREFUSED = -111;
const MS = 1_000_000;

/** SYN, SYN-ACK, ACK as the tracepoints report them, then accept (and SO_ORIGINAL_DST on a redirect listener). */
export function handshake(lab: MeshLab, c: Sock, s: Sock, cp: Proc, sp: Proc, o: { target: Ep; odst?: Ep }): void {
  lab.state(c, "SYN_SENT", { localPort: 0 });
  lab.syscall(c, "CONNECT", cp, { ret: EINPROGRESS, target: o.target });
  lab.state(c, "ESTABLISHED");
  s.state = "LISTEN";
  lab.state(s, "SYN_RECV");
  lab.state(s, "ESTABLISHED");
  lab.syscall(s, "ACCEPT", sp);
  if (o.odst) lab.syscall(s, "ORIGINAL_DST", sp, { target: o.odst });
}

/** `active` sends the first FIN (close() or shutdown(SHUT_WR) by `p`); the peer acks it. */
export function finFirst(lab: MeshLab, active: Sock, passive: Sock, p: Proc | null, how: "CLOSE" | "SHUTDOWN" = "CLOSE"): void {
  if (p) lab.syscall(active, how, p, how === "SHUTDOWN" ? { shutdownHow: 1 } : {});
  lab.state(active, "FIN_WAIT1");
  lab.state(passive, "CLOSE_WAIT");
  lab.state(active, "FIN_WAIT2");
}

/** `passive` answers with its FIN; the active side hands over to a timewait socket (FIN_WAIT2→CLOSE). */
export function finSecond(lab: MeshLab, passive: Sock, active: Sock, p: Proc | null): void {
  if (p) lab.syscall(passive, "CLOSE", p);
  lab.state(passive, "LAST_ACK");
  lab.state(active, "CLOSE");
  lab.state(passive, "CLOSE");
}

/**
 * `sender` aborts: tcp_close() with unread data or SO_LINGER 0 moves it to
 * CLOSE first and then sends the RST; the peer receives it and closes.
 */
export function abort(lab: MeshLab, sender: Sock, receiver: Sock, reason: string, p: Proc | null): void {
  if (p) lab.syscall(sender, "CLOSE", p);
  const from = sender.state;
  lab.state(sender, "CLOSE");
  sender.state = from;
  lab.resetSent(sender, reason);
  sender.state = "CLOSE";
  lab.resetReceived(receiver);
  lab.state(receiver, "CLOSE");
}

export interface Chain {
  s1: Sock;
  s2: Sock;
  s3: Sock;
  s4: Sock;
  s5: Sock;
  s6: Sock;
}

/** The chain's first ephemeral port: app A's; sidecar A's upstream and sidecar B's passthrough take the next two. */
export const DEFAULT_CHAIN_PORT_BASE = 41001;

/**
 * App A → sidecar A (15001) → sidecar B (15006) → app B, established
 * (docs/EVENTS.md). `listening` false leaves app B's socket unconnected, for
 * the refused dials; `portBase` gives concurrent chains distinct tuples.
 */
export function meshChain(lab: MeshLab, A: Pod, B: Pod, port = 8080, listening = true, portBase = DEFAULT_CHAIN_PORT_BASE): Chain {
  const dst = { ip: B.ip, port };
  const app = { ip: A.ip, port: portBase };
  const upstream = { ip: A.ip, port: portBase + 1 };
  const passthrough = { ip: "127.0.0.6", port: portBase + 2 };
  const s1 = lab.sock(A, app, dst, { uid: APP_UID, role: "APP" });
  const s2 = lab.sock(A, { ip: "127.0.0.1", port: 15001 }, app, { uid: SIDECAR_UID, role: "SIDECAR", leg: "OUTBOUND_LISTENER" });
  const s3 = lab.sock(A, upstream, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "UPSTREAM" });
  const s4 = lab.sock(B, { ip: B.ip, port: 15006 }, upstream, { uid: SIDECAR_UID, role: "SIDECAR", leg: "INBOUND_LISTENER" });
  const s5 = lab.sock(B, passthrough, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "INBOUND_PASSTHROUGH" });
  const s6 = lab.sock(B, dst, passthrough, { uid: APP_UID, role: "APP" });
  handshake(lab, s1, s2, appA, proxyA, { target: dst, odst: dst });
  handshake(lab, s3, s4, proxyA, proxyB, { target: dst, odst: dst });
  if (listening) handshake(lab, s5, s6, proxyB, appB, { target: dst });
  return { s1, s2, s3, s4, s5, s6 };
}

/** ok: app A closes after the response; each sidecar relays the FIN; everything closes cleanly. */
export function scenarioOk(lab = new MeshLab(), A = podA(), B = podB()): Rec[] {
  const chain = meshChain(lab, A, B);
  lab.wait(A.node, 2 * MS);
  closeCleanly(lab, chain);
  return lab.records;
}

/** The ok scenario's close: app A's FIN relayed hop by hop, answered the same way back. */
export function closeCleanly(lab: MeshLab, { s1, s2, s3, s4, s5, s6 }: Chain): void {
  finFirst(lab, s1, s2, appA);
  finFirst(lab, s3, s4, proxyA, "SHUTDOWN");
  finFirst(lab, s5, s6, proxyB, "SHUTDOWN");
  finSecond(lab, s6, s5, appB);
  finSecond(lab, s4, s3, proxyB);
  finSecond(lab, s2, s1, proxyA);
  // The sidecars close their upstream descriptors after the sockets died.
  lab.syscall(s5, "CLOSE", proxyB);
  lab.syscall(s3, "CLOSE", proxyA);
}

/**
 * Sidecar B's FIN reaches sidecar A, which resets app A instead of relaying
 * it (the response was cut short) and then finishes the upstream close.
 */
export function resetDownstreamAfterFin(lab: MeshLab, { s1, s2, s3, s4 }: Pick<Chain, "s1" | "s2" | "s3" | "s4">): void {
  finFirst(lab, s4, s3, proxyB);
  abort(lab, s2, s1, "TCP_STATE", proxyA);
  finSecond(lab, s3, s4, proxyA);
}

/** app-abort: app B closes with unread data (RST); sidecar B relays as a FIN (or a RST); sidecar A resets app A. */
export function scenarioAppAbort(relay: "FIN" | "RST" = "FIN", reason = "TCP_ABORT_ON_CLOSE"): Rec[] {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  const { s1, s2, s3, s4, s5, s6 } = meshChain(lab, A, B);
  lab.wait(B.node, 1 * MS);
  abort(lab, s6, s5, reason, appB);
  lab.wait(B.node, 1 * MS);
  if (relay === "FIN") {
    finFirst(lab, s4, s3, proxyB);
    lab.wait(A.node, 1 * MS);
    abort(lab, s2, s1, "TCP_STATE", proxyA);
    finSecond(lab, s3, s4, proxyA);
  } else {
    abort(lab, s4, s3, "TCP_STATE", proxyB);
    lab.wait(A.node, 1 * MS);
    abort(lab, s2, s1, "TCP_STATE", proxyA);
    lab.syscall(s3, "CLOSE", proxyA);
  }
  lab.syscall(s5, "CLOSE", proxyB);
  lab.syscall(s1, "CLOSE", appA);
  return lab.records;
}

/** no-listener: sidecar B's connect from 127.0.0.6 to B:9090 is refused; the sidecars then close and reset downstream. */
export function scenarioNoListener(connectRet: -111 | -115 = -111): Rec[] {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  const { s1, s2, s3, s4, s5 } = meshChain(lab, A, B, 9090, false);
  lab.state(s5, "SYN_SENT", { localPort: 0 });
  if (connectRet === -115) lab.syscall(s5, "CONNECT", proxyB, { ret: EINPROGRESS, target: { ip: B.ip, port: 9090 } });
  lab.resetNoSocket(B, { ip: B.ip, port: 9090 }, s5.local);
  lab.resetReceived(s5);
  lab.state(s5, "CLOSE");
  if (connectRet === -111) lab.syscall(s5, "CONNECT", proxyB, { ret: ECONNREFUSED, target: { ip: B.ip, port: 9090 } });
  else lab.syscall(s5, "CLOSE", proxyB);
  lab.wait(B.node, 1 * MS);
  resetDownstreamAfterFin(lab, { s1, s2, s3, s4 });
  lab.syscall(s1, "CLOSE", appA);
  return lab.records;
}

/** sidecar-crash: B's HAProxy is killed; the kernel closes its sockets (RST where data was unread, FIN elsewhere). */
export function scenarioSidecarCrash(): Rec[] {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  const { s1, s2, s3, s4, s5, s6 } = meshChain(lab, A, B);
  lab.wait(B.node, 3 * MS);
  // No close() events: the files of a killed process are released by the kernel.
  abort(lab, s4, s3, "TCP_ABORT_ON_CLOSE", null);
  finFirst(lab, s5, s6, null);
  finSecond(lab, s6, s5, appB);
  lab.wait(A.node, 1 * MS);
  abort(lab, s2, s1, "TCP_STATE", proxyA);
  lab.syscall(s3, "CLOSE", proxyA);
  lab.syscall(s1, "CLOSE", appA);
  return lab.records;
}

/** reject: an iptables REJECT --reject-with tcp-reset resets sidecar A's upstream: a RST no socket sent. */
export function scenarioReject(): Rec[] {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  const { s1, s2, s3, s4, s5, s6 } = meshChain(lab, A, B);
  lab.wait(A.node, 2 * MS);
  lab.resetReceived(s3);
  lab.state(s3, "CLOSE");
  lab.syscall(s3, "CLOSE", proxyA);
  abort(lab, s2, s1, "TCP_STATE", proxyA);
  lab.syscall(s1, "CLOSE", appA);
  // B never heard of it; its sidecar's idle timeout closes the inbound leg later,
  // and A's kernel, which no longer knows the connection, answers with NO_SOCKET.
  lab.wait(B.node, 50 * MS);
  lab.syscall(s4, "CLOSE", proxyB);
  lab.state(s4, "FIN_WAIT1");
  lab.resetNoSocket(A, s3.local, { ip: B.ip, port: 8080 });
  lab.resetReceived(s4);
  lab.state(s4, "CLOSE");
  finFirst(lab, s5, s6, proxyB);
  finSecond(lab, s6, s5, appB);
  return lab.records;
}

/** idle-timeout: after `quietMs` without traffic, sidecar A's idle timer closes both of its legs first (FIN); everyone follows with FINs. */
export function scenarioIdleTimeout(quietMs = 2000): Rec[] {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  const { s1, s2, s3, s4, s5, s6 } = meshChain(lab, A, B);
  lab.wait(A.node, quietMs * MS);
  finFirst(lab, s2, s1, proxyA);
  finFirst(lab, s3, s4, proxyA);
  finFirst(lab, s5, s6, proxyB, "SHUTDOWN");
  finSecond(lab, s6, s5, appB);
  finSecond(lab, s4, s3, proxyB);
  finSecond(lab, s1, s2, appA);
  lab.syscall(s5, "CLOSE", proxyB);
  return lab.records;
}

/**
 * idle-timeout as HAProxy often ends it in the lab: after `quietMs` without
 * traffic, sidecar B's idle timer closes its leg to app B (FIN); app B's FIN
 * meets the closed socket, which answers with a RST (TCP_STATE); then sidecar
 * B closes its leg to sidecar A. The RST came after the timeout's FIN, not
 * instead of it.
 */
export function scenarioIdleTimeoutThenAbort(quietMs = 2000): Rec[] {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  const { s1, s2, s3, s4, s5, s6 } = meshChain(lab, A, B);
  lab.wait(B.node, quietMs * MS);
  finFirst(lab, s5, s6, proxyB);
  lab.syscall(s6, "CLOSE", appB);
  lab.state(s6, "LAST_ACK");
  lab.resetSent(s5, "TCP_STATE");
  lab.state(s5, "CLOSE");
  lab.resetReceived(s6);
  lab.state(s6, "CLOSE");
  finFirst(lab, s4, s3, proxyB);
  finSecond(lab, s3, s4, proxyA);
  finFirst(lab, s2, s1, proxyA);
  finSecond(lab, s1, s2, appA);
  return lab.records;
}

/** plain-to-mesh: app C has no sidecar; B's sidecar intercepts inbound: 2 hops. */
export function scenarioPlainToMesh(): Rec[] {
  const lab = new MeshLab();
  const B = podB();
  const C = podC();
  const dst = { ip: B.ip, port: 8080 };
  const c1 = lab.sock(C, { ip: C.ip, port: 52001 }, dst, { uid: APP_UID, role: "APP" });
  const s4 = lab.sock(B, { ip: B.ip, port: 15006 }, { ip: C.ip, port: 52001 }, { uid: SIDECAR_UID, role: "SIDECAR", leg: "INBOUND_LISTENER" });
  const s5 = lab.sock(B, { ip: "127.0.0.6", port: 41003 }, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "INBOUND_PASSTHROUGH" });
  const s6 = lab.sock(B, dst, { ip: "127.0.0.6", port: 41003 }, { uid: APP_UID, role: "APP" });
  handshake(lab, c1, s4, appC, proxyB, { target: dst, odst: dst });
  handshake(lab, s5, s6, proxyB, appB, { target: dst });
  lab.wait(C.node, 1 * MS);
  finFirst(lab, c1, s4, appC);
  finFirst(lab, s5, s6, proxyB, "SHUTDOWN");
  finSecond(lab, s6, s5, appB);
  finSecond(lab, s4, c1, proxyB);
  lab.syscall(s5, "CLOSE", proxyB);
  return lab.records;
}

/**
 * middlebox: app C (no sidecar) dials `dst` through a middlebox that answers
 * the SYN itself (a TCP-terminating firewall): no traced socket serves the
 * connection, and 5 ms later a RST arrives that no traced socket sent.
 */
export function scenarioMiddlebox(dst: Ep, lab = new MeshLab()): Rec[] {
  const C = podC();
  const c = lab.sock(C, { ip: C.ip, port: 52010 }, dst, { uid: APP_UID, role: "APP" });
  lab.state(c, "SYN_SENT", { localPort: 0 });
  lab.syscall(c, "CONNECT", appC, { ret: EINPROGRESS, target: dst });
  lab.state(c, "ESTABLISHED");
  lab.wait(C.node, 5 * MS);
  lab.resetReceived(c);
  lab.state(c, "CLOSE");
  lab.syscall(c, "CLOSE", appC);
  return lab.records;
}

/** The same towards pod B's address, once an earlier connection (ok) showed B's sockets bound to it. */
export function scenarioMiddleboxToKnownPod(): Rec[] {
  const lab = new MeshLab();
  const B = podB();
  scenarioOk(lab, podA(), B);
  lab.wait(B.node, 10 * MS);
  return scenarioMiddlebox({ ip: B.ip, port: 9443 }, lab);
}

/** ok across two nodes whose monotonic clocks and boot epochs differ. */
export function scenarioOkTwoNodes(): Rec[] {
  const lab = new MeshLab({
    node1: { offsetNs: 7_000_000_000 },
    node2: { offsetNs: 900_000_000_000 },
  });
  return scenarioOk(lab, podA("node1"), podB("node2"));
}

export const SCENARIOS: Record<string, () => Rec[]> = {
  ok: () => scenarioOk(),
  "ok-two-nodes": scenarioOkTwoNodes,
  "app-abort-fin": () => scenarioAppAbort("FIN"),
  "app-abort-rst": () => scenarioAppAbort("RST", "TCP_STATE"),
  "no-listener": () => scenarioNoListener(-111),
  "no-listener-nonblocking": () => scenarioNoListener(-115),
  "sidecar-crash": scenarioSidecarCrash,
  reject: scenarioReject,
  "idle-timeout": () => scenarioIdleTimeout(),
  "plain-to-mesh": scenarioPlainToMesh,
  "middlebox-unknown": () => scenarioMiddlebox({ ip: "203.0.113.7", port: 443 }),
  "middlebox-known-pod": scenarioMiddleboxToKnownPod,
};

/** How one upstream connect attempt of a retrying proxy ends. */
export type AttemptEnd = "refused" | "rejected" | "ok";

/** HAProxy's turn-around before a retry: min(timeout connect, 1 s). */
const RETRY_TURNAROUND_NS = 1000 * MS;

/**
 * One failed connect attempt by `p` from `u` to `dst`, as a non-blocking
 * connect sees it: the SYN is answered with a RST, the socket closes, the
 * second connect() reports ECONNREFUSED, the proxy closes the descriptor (and
 * waits RETRY_TURNAROUND_NS before a retry). "refused": `refuser`'s kernel had no listener (a
 * NO_SOCKET reset it sends); "rejected": a REJECT rule answered (a RST no
 * socket sends, so no reset event at all).
 */
export function failedAttempt(lab: MeshLab, u: Sock, dst: Ep, p: Proc, how: "refused" | "rejected", refuser: Pod): void {
  lab.state(u, "SYN_SENT", { localPort: 0 });
  lab.syscall(u, "CONNECT", p, { ret: EINPROGRESS, target: dst });
  if (how === "refused") lab.resetNoSocket(refuser, dst, u.local);
  lab.resetReceived(u);
  lab.state(u, "CLOSE");
  lab.syscall(u, "CONNECT", p, { ret: ECONNREFUSED, target: dst });
  lab.syscall(u, "CLOSE", p);
}

/**
 * no-listener with retries: sidecar B dials app B (127.0.0.6 → B:8080) once per
 * entry of `attempts` ("refused" while app B is not listening, "ok" once it
 * is). When the last attempt fails, sidecar B closes the downstream and the
 * failure travels back as in no-listener; when it succeeds, app A closes and
 * every hop ends with FINs.
 */
export function scenarioInboundRetries(attempts: readonly ("refused" | "ok")[]): Rec[] {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  const dst = { ip: B.ip, port: 8080 };
  const { s1, s2, s3, s4 } = meshChain(lab, A, B, dst.port, false);
  const ups = attempts.map((_, k) =>
    lab.sock(B, { ip: "127.0.0.6", port: 41003 + 2 * k }, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "INBOUND_PASSTHROUGH" }),
  );
  let served: { u: Sock; app: Sock } | null = null;
  attempts.forEach((end, k) => {
    const u = ups[k]!;
    if (end === "refused") {
      failedAttempt(lab, u, dst, proxyB, "refused", B);
      lab.wait(B.node, RETRY_TURNAROUND_NS);
      return;
    }
    const app = lab.sock(B, dst, u.local, { uid: APP_UID, role: "APP" });
    handshake(lab, u, app, proxyB, appB, { target: dst });
    served = { u, app };
  });
  const last = served as { u: Sock; app: Sock } | null;
  if (last && attempts[attempts.length - 1] === "ok") {
    lab.wait(A.node, 2 * MS);
    finFirst(lab, s1, s2, appA);
    finFirst(lab, s3, s4, proxyA, "SHUTDOWN");
    finFirst(lab, last.u, last.app, proxyB, "SHUTDOWN");
    finSecond(lab, last.app, last.u, appB);
    finSecond(lab, s4, s3, proxyB);
    finSecond(lab, s2, s1, proxyA);
    lab.syscall(last.u, "CLOSE", proxyB);
    lab.syscall(s3, "CLOSE", proxyA);
  } else {
    resetDownstreamAfterFin(lab, { s1, s2, s3, s4 });
    lab.syscall(s1, "CLOSE", appA);
  }
  return lab.records;
}

/**
 * reject with retries: a REJECT rule in pod B resets each of sidecar A's
 * `n` connects to B:8080 before it connects; sidecar A then closes app A's
 * connection with a FIN, as in the lab's reject scenario.
 */
export function scenarioRejectRetries(n: number): Rec[] {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  // A first request gets through before the rule is inserted: B's sockets have been seen.
  scenarioOk(lab, A, B);
  lab.wait(A.node, 5 * MS);
  const dst = { ip: B.ip, port: 8080 };
  const c = lab.sock(A, { ip: A.ip, port: 41101 }, dst, { uid: APP_UID, role: "APP" });
  const d = lab.sock(A, { ip: "127.0.0.1", port: 15001 }, { ip: A.ip, port: 41101 }, { uid: SIDECAR_UID, role: "SIDECAR", leg: "OUTBOUND_LISTENER" });
  handshake(lab, c, d, appA, proxyA, { target: dst, odst: dst });
  for (let k = 0; k < n; k++) {
    if (k > 0) lab.wait(A.node, RETRY_TURNAROUND_NS);
    const u = lab.sock(A, { ip: A.ip, port: 41102 + 2 * k }, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "UPSTREAM" });
    failedAttempt(lab, u, dst, proxyA, "rejected", B);
  }
  finFirst(lab, d, c, proxyA, "SHUTDOWN");
  finSecond(lab, c, d, appA);
  return lab.records;
}

/**
 * Two app connections to pod C:9090 (no sidecar there) through sidecar A,
 * each accepted and dialed by its own thread of one proxy process, their
 * connect attempts interleaved: the first gets through on its third
 * attempt, the second is refused three times.
 */
export function scenarioRetriesTwoThreads(): { records: Rec[]; ports: [number[], number[]] } {
  const lab = new MeshLab();
  const A = podA();
  const C = podC();
  const dst = { ip: C.ip, port: 9090 };
  const threads = [641, 642].map((tid) => ({ ...proxyA, tid }));
  const downs = [41001, 41011].map((port, i) => {
    const c = lab.sock(A, { ip: A.ip, port }, dst, { uid: APP_UID, role: "APP" });
    const d = lab.sock(A, { ip: "127.0.0.1", port: 15001 }, { ip: A.ip, port }, { uid: SIDECAR_UID, role: "SIDECAR", leg: "OUTBOUND_LISTENER" });
    handshake(lab, c, d, appA, threads[i]!, { target: dst, odst: dst });
    return { c, d };
  });
  const ports: [number[], number[]] = [[], []];
  let served: { u: Sock; app: Sock } | null = null;
  for (let k = 0; k < 3; k++) {
    // Both threads wait out their turn-around at the same time.
    if (k > 0) lab.wait(A.node, RETRY_TURNAROUND_NS);
    for (let i = 0; i < 2; i++) {
      const port = 42000 + 100 * i + 2 * k;
      ports[i]!.push(port);
      const u = lab.sock(A, { ip: A.ip, port }, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "UPSTREAM" });
      if (i === 0 && k === 2) {
        const app = lab.sock(C, dst, u.local, { uid: APP_UID, role: "APP" });
        handshake(lab, u, app, threads[0]!, appC, { target: dst });
        served = { u, app };
      } else {
        failedAttempt(lab, u, dst, threads[i]!, "refused", C);
      }
    }
  }
  const ok = served as unknown as { u: Sock; app: Sock };
  // The refused one: sidecar A gives up and closes app A's second connection.
  finFirst(lab, downs[1]!.d, downs[1]!.c, threads[1]!, "SHUTDOWN");
  finSecond(lab, downs[1]!.c, downs[1]!.d, appA);
  // The served one completes.
  finFirst(lab, downs[0]!.c, downs[0]!.d, appA);
  finFirst(lab, ok.u, ok.app, threads[0]!, "SHUTDOWN");
  finSecond(lab, ok.app, ok.u, appC);
  finSecond(lab, downs[0]!.d, downs[0]!.c, threads[0]!);
  lab.syscall(ok.u, "CLOSE", threads[0]!);
  return { records: lab.records, ports };
}
