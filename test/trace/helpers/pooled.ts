// Sidecar A in HTTP mode with a connection pool, as the kernel and the probe's
// SOCKET_LINK lines report it: app A opens one connection per request (D1,
// D2, D3 on A's outbound listener), and sidecar A serves them all over the
// one upstream connection U it dialed for D1, reused without a connect.
// Sidecar B (inbound, TCP mode) relays U to app B over its own connection,
// which app B closes once idle (its keep-alive timeout).
import { APP_UID, MeshLab, SIDECAR_UID, type Pod, type Proc, type Rec, type Sock } from "./mesh-lab.js";
import { abort, appA, appB, finFirst, finSecond, handshake, meshChain, podA, podB, proxyA, proxyB, type Chain } from "./scenarios.js";

const MS = 1_000_000;

export interface PooledLab {
  lab: MeshLab;
  A: Pod;
  B: Pod;
  chain: Chain;
  /** Each downstream: app A's client socket and sidecar A's accepted one. */
  downs: { c: Sock; d: Sock }[];
}

/** D1 through the fresh chain (U dialed for it), with the links TCP-mode lines would give too. */
export function pooledLab(thread: Proc = proxyA): PooledLab {
  const lab = new MeshLab();
  const A = podA();
  const B = podB();
  const chain = meshChain(lab, A, B);
  const { s1, s2, s3, s4, s5 } = chain;
  lab.link(s3, s2, thread);
  lab.link(s5, s4, proxyB);
  lab.link(s4, s5, proxyB);
  lab.link(s2, s3, thread);
  return { lab, A, B, chain, downs: [{ c: s1, d: s2 }] };
}

/** App A's next request on a new connection, accepted by sidecar A (not yet linked). */
export function accept(p: PooledLab, port: number, thread: Proc = proxyA): { c: Sock; d: Sock } {
  const { lab, A, B } = p;
  const dst = { ip: B.ip, port: 8080 };
  const c = lab.sock(A, { ip: A.ip, port }, dst, { uid: APP_UID, role: "APP" });
  const d = lab.sock(A, { ip: "127.0.0.1", port: 15001 }, { ip: A.ip, port }, { uid: SIDECAR_UID, role: "SIDECAR", leg: "OUTBOUND_LISTENER" });
  handshake(lab, c, d, appA, thread, { target: dst, odst: dst });
  p.downs.push({ c, d });
  return { c, d };
}

/** App A got its response and closes; sidecar A closes its side (U stays in the pool). */
export function done(p: PooledLab, x: { c: Sock; d: Sock }, thread: Proc = proxyA): void {
  finFirst(p.lab, x.c, x.d, appA);
  finSecond(p.lab, x.d, x.c, thread);
}

/** One request on the pooled U: request link, response link, then the downstream closes. */
export function reuse(p: PooledLab, port: number, o: { sources?: number; thread?: Proc } = {}): { c: Sock; d: Sock } {
  const thread = o.thread ?? proxyA;
  const x = accept(p, port, thread);
  p.lab.link(p.chain.s3, x.d, thread, o.sources ?? 1);
  p.lab.link(x.d, p.chain.s3, thread);
  done(p, x, thread);
  return x;
}

/** App B closes its idle keep-alive connection; sidecar B relays the FIN to U and closes its leg to app B. */
export function appBClosesIdle(p: PooledLab): void {
  const { s3, s4, s5, s6 } = p.chain;
  finFirst(p.lab, s6, s5, appB);
  finFirst(p.lab, s4, s3, proxyB);
  finSecond(p.lab, s5, s6, proxyB);
}

/** Sidecar A closes U (after the peer's FIN): the pooled connection ends cleanly. */
export function sidecarClosesU(p: PooledLab): void {
  finSecond(p.lab, p.chain.s3, p.chain.s4, proxyA);
}

/**
 * The race's end: B's kernel answers the request that reached its closed
 * socket with a RST, U dies, and sidecar A resets the downstream `x`.
 */
export function resetAfterReuse(p: PooledLab, x: { c: Sock; d: Sock }, reason = "TCP_ABORT_ON_DATA"): void {
  const { lab, chain } = p;
  const { s3, s4 } = chain;
  s4.state = "FIN_WAIT2";
  lab.resetSent(s4, reason);
  lab.state(s4, "CLOSE");
  lab.resetReceived(s3);
  lab.state(s3, "CLOSE");
  lab.syscall(s3, "CLOSE", proxyA);
  abort(lab, x.d, x.c, "TCP_ABORT_ON_CLOSE", proxyA);
  lab.syscall(x.c, "CLOSE", appA);
}

/**
 * pooled: D1, D2, D3 served in turn by U, a second apart; then, long after,
 * app B closes the idle connection and sidecar A closes U. No race.
 */
export function scenarioPooled(): PooledLab {
  const p = pooledLab();
  p.lab.wait("lab", 1 * MS);
  done(p, p.downs[0]!);
  for (const port of [41101, 41201]) {
    p.lab.wait("lab", 1000 * MS);
    reuse(p, port);
  }
  p.lab.wait("lab", 5000 * MS);
  appBClosesIdle(p);
  sidecarClosesU(p);
  return p;
}

/**
 * keepalive-race: D1 and D2 as in pooled; U idles `idleMs`, app B closes it;
 * `gapUs` later sidecar A reuses U for D3 (`gapUs` < 0: the request leaves
 * first and app B closes before it arrives: they cross); the request meets a RST.
 */
export function scenarioKeepaliveRace(idleMs = 2000, gapUs = 150): { p: PooledLab; d3: { c: Sock; d: Sock } } {
  const p = pooledLab();
  p.lab.wait("lab", 1 * MS);
  done(p, p.downs[0]!);
  p.lab.wait("lab", 1000 * MS);
  reuse(p, 41101);
  p.lab.wait("lab", idleMs * MS);
  const { s3 } = p.chain;
  let d3: { c: Sock; d: Sock };
  if (gapUs >= 0) {
    appBClosesIdle(p);
    p.lab.wait("lab", gapUs * 1000);
    d3 = accept(p, 41201);
    p.lab.link(s3, d3.d, proxyA);
  } else {
    // Sidecar A sends D3's request on U; before it reaches B, app B closes the idle connection: they cross.
    d3 = accept(p, 41201);
    p.lab.link(s3, d3.d, proxyA);
    p.lab.wait("lab", -gapUs * 1000);
    appBClosesIdle(p);
  }
  resetAfterReuse(p, d3);
  return { p, d3 };
}

export type { Rec };
