// The keep-alive race on a pooled upstream (istio/istio#36489, envoy#19261):
// the upstream app closes an idle keep-alive connection just as the sidecar
// reuses it for a new request; the request meets a closed socket, the peer's
// kernel answers with a RST, and the sidecar returns an error downstream.
// Told from kernel facts only, on the snapshots of one trace:
//  - the sidecar linked this trace's downstream D to pooled upstream U at t_reuse;
//  - the peer closed first, behind U: the earliest FIN or RST sent by a server
//    end at or behind U's hop (the upstream app's idle close; through a peer
//    sidecar in TCP mode it reaches U only as that sidecar's relayed FIN, and
//    an app that closes with the request unread sends a RST, no FIN), at
//    t_close no later than t_reuse + the crossing window — or, with no traced
//    end behind U, the FIN or RST U itself received. U had not closed first
//    itself (that would be the sidecar's own idle timeout);
//  - a RST followed behind U after the reuse (the peer's kernel answering the
//    request: TCP_ABORT_ON_DATA on a closed socket, TCP_ABORT_ON_CLOSE when
//    the close found it unread), sent by a traced server end or received by U;
//  - D was closed or reset by the sidecar (D's end sent the hop's first FIN
//    or RST), after t_reuse.
// Times across hops are wall µs (ends may be on different nodes); one
// socket's own order is kernel ns. Anything missing, and it is not called a race.
import { ResetReason, type KernelNs } from "../model/mod.js";
import type { HopClass, Side } from "./classify.js";
import type { HopView, SockView } from "./hop-view.js";

/** One downstream's use of a pooled upstream, as the trace builder found it. */
export interface PooledUse {
  /** HopView.index of the downstream's hop (its server end is the sidecar's downstream socket). */
  downHop: number;
  /** HopView.index of the pooled connection's hop (its client end is the sidecar's upstream socket). */
  sharedHop: number;
  /** When the sidecar linked the downstream to it (kernel ns, the sidecar's node). */
  reuseNs: KernelNs;
  /** The upstream's last link before that (kernel ns), 0n when none was seen. */
  idleSinceNs: KernelNs;
}

export interface IdleCloseRaceFacts {
  use: PooledUse;
  /** t_fin − the upstream's last link before the reuse, µs; 0 when unknown. */
  idleUs: number;
  /** t_reuse − t_fin, µs: negative when the FIN arrived after the request left (crossed). */
  gapUs: number;
  /** The RST's kernel reason when its sender was traced, else UNSPECIFIED. */
  resetReason: ResetReason;
  /** The socket that sent the RST (the pooled hop's server end), when traced. */
  sender: SockView | null;
  /** Where the peer's close began: hop (HopView.index) and end; null when no traced end behind U sent it. */
  closer: { hop: number; by: Side } | null;
  /** The peer's close was itself a RST (it closed with the request unread), not a FIN. */
  closedWithRst: boolean;
}

function below(hops: readonly HopView[], h: HopView, root: number): boolean {
  for (let x: HopView | undefined = h, i = 0; x && i < hops.length; x = hops[x.parent - 1], i++) {
    if (x.index === root) return true;
    if (x.parent === 0) return false;
  }
  return false;
}

/** A FIN or RST sent by a server end at or behind hop `root`. */
interface PeerSend {
  hop: number;
  atUs: number;
  rst: boolean;
  sock: SockView;
}

/** Server ends at or behind hop `root`, traced, with the hop they sit on. */
function serverEnds(hops: readonly HopView[], root: number): { hop: number; sock: SockView }[] {
  const out: { hop: number; sock: SockView }[] = [];
  for (const h of hops) {
    const s = h.server;
    if (s && !s.phantom && below(hops, h, root)) out.push({ hop: h.index, sock: s });
  }
  return out;
}

/** The peer's first close behind `root`: the earliest FIN or RST any server end there sent. */
function peerClose(hops: readonly HopView[], root: number): PeerSend | null {
  let best: PeerSend | null = null;
  for (const { hop, sock } of serverEnds(hops, root)) {
    for (const [atUs, rst] of [
      [sock.finSentUs, false],
      [sock.rstSentUs, true],
    ] as const) {
      if (atUs > 0 && (!best || atUs < best.atUs)) best = { hop, atUs, rst, sock };
    }
  }
  return best;
}

/** The earliest RST a server end behind `root` sent at or after `sinceUs`. */
function peerReset(hops: readonly HopView[], root: number, sinceUs: number): PeerSend | null {
  let best: PeerSend | null = null;
  for (const { hop, sock } of serverEnds(hops, root)) {
    const at = sock.rstSentUs;
    if (at > 0 && at >= sinceUs && (!best || at < best.atUs)) best = { hop, atUs: at, rst: true, sock };
  }
  return best;
}

const firstOf = (...us: number[]): number => us.filter((x) => x > 0).reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);

/** The first pooled use of the trace that met the race, with its facts; null when none did. */
export function idleCloseRace(
  hops: readonly HopView[],
  classes: readonly HopClass[],
  uses: readonly PooledUse[],
  crossingWindowNs: number,
): IdleCloseRaceFacts | null {
  const crossingUs = crossingWindowNs / 1000;
  for (const use of uses) {
    const shared = hops[use.sharedHop - 1];
    const down = hops[use.downHop - 1];
    const u = shared?.client;
    const d = down?.server;
    if (!shared || !down || !u || !d || u.phantom || d.phantom) continue;
    const reuse = use.reuseNs;
    const reuseUs = shared.useStartUs;
    if (reuse === 0n || reuseUs === 0) continue;
    // The peer's close: traced behind U, else as U received it.
    const close = peerClose(hops, use.sharedHop);
    const closeUs = close ? close.atUs : firstOf(u.finRecvUs, u.rstRecvUs);
    if (!Number.isFinite(closeUs) || closeUs > reuseUs + crossingUs) continue;
    // The sidecar closing U first is its own idle timeout, not the race.
    if (firstOf(u.finSentUs, u.rstSentUs) < closeUs) continue;
    // The request met the closed socket: a RST behind U after the reuse (the crossing window allows for clocks of two nodes).
    const rst = peerReset(hops, use.sharedHop, Math.max(closeUs, reuseUs - crossingUs));
    const rstSeen = rst !== null || (u.rstRecvUs > 0 && u.rstRecvUs >= reuseUs - crossingUs);
    if (!rstSeen) continue;
    const dc = classes[use.downHop - 1]!;
    const sidecarClosed = dc.resetBy === "server" || (dc.resetBy === "" && dc.firstFinBy === "server");
    const errNs = d.rstSentNs !== 0n && (d.finSentNs === 0n || d.rstSentNs < d.finSentNs) ? d.rstSentNs : d.finSentNs;
    if (!sidecarClosed || errNs < reuse) continue;
    const gapUs = reuseUs - closeUs;
    // U's idle stretch: from its last link before the reuse (sidecar's node, ns) to the peer's close.
    const idle = use.idleSinceNs !== 0n && reuse > use.idleSinceNs ? Number(reuse - use.idleSinceNs) / 1000 - gapUs : 0;
    return {
      use,
      idleUs: Math.max(0, Math.round(idle)),
      gapUs: Math.round(gapUs),
      resetReason: rst ? rst.sock.rstReason : ResetReason.RESET_REASON_UNSPECIFIED,
      sender: rst ? rst.sock : null,
      closer: close ? { hop: close.hop, by: "server" } : null,
      closedWithRst: close?.rst ?? false,
    };
  }
  return null;
}
