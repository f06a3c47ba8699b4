// The keep-alive race on a pooled upstream (istio/istio#36489, envoy#19261):
// the upstream app closes an idle keep-alive connection just as the sidecar
// reuses it for a new request; the request meets a closed socket, the peer's
// kernel answers with a RST, and the sidecar returns an error downstream.
// Told from kernel facts only, on the snapshots of one trace:
//  - the sidecar linked this trace's downstream D to pooled upstream U at t_reuse;
//  - U received the peer's FIN (ESTABLISHED→CLOSE_WAIT) at t_fin before
//    t_reuse, or at most the crossing window after it (they crossed), and U
//    had not closed first itself (that would be the sidecar's own timeout);
//  - U then received a RST, after t_reuse;
//  - D was closed or reset by the sidecar (D's end sent the hop's first FIN
//    or RST), after t_reuse.
// Anything missing, and it is not called a race.
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
  /** The first FIN behind the pooled connection: hop (HopView.index) and end; null when none was seen. */
  closer: { hop: number; by: Side } | null;
}

function below(hops: readonly HopView[], h: HopView, root: number): boolean {
  for (let x: HopView | undefined = h, i = 0; x && i < hops.length; x = hops[x.parent - 1], i++) {
    if (x.index === root) return true;
    if (x.parent === 0) return false;
  }
  return false;
}

/** The earliest first FIN on the hops at and behind hop `root`. */
function firstCloser(hops: readonly HopView[], classes: readonly HopClass[], root: number): { hop: number; by: Side } | null {
  let best: { hop: number; by: Side; atUs: number } | null = null;
  hops.forEach((h, i) => {
    const by = classes[i]!.firstFinBy;
    if (!by || !below(hops, h, root)) return;
    const v = by === "client" ? h.client : h.server;
    const at = v?.finSentUs ?? 0;
    if (at > 0 && (!best || at < best.atUs)) best = { hop: h.index, by, atUs: at };
  });
  const b = best as { hop: number; by: Side; atUs: number } | null;
  return b ? { hop: b.hop, by: b.by } : null;
}

/** The first pooled use of the trace that met the race, with its facts; null when none did. */
export function idleCloseRace(
  hops: readonly HopView[],
  classes: readonly HopClass[],
  uses: readonly PooledUse[],
  crossingWindowNs: number,
): IdleCloseRaceFacts | null {
  const crossing = BigInt(Math.round(crossingWindowNs));
  for (const use of uses) {
    const shared = hops[use.sharedHop - 1];
    const down = hops[use.downHop - 1];
    const u = shared?.client;
    const d = down?.server;
    if (!shared || !down || !u || !d || u.phantom || d.phantom) continue;
    const reuse = use.reuseNs;
    if (u.finRecvNs === 0n || u.rstRecvNs === 0n || reuse === 0n) continue;
    if (u.finSentNs !== 0n && u.finSentNs < u.finRecvNs) continue;
    if (u.finRecvNs > reuse + crossing || u.rstRecvNs < reuse || u.rstRecvNs < u.finRecvNs) continue;
    const dc = classes[use.downHop - 1]!;
    const sidecarClosed = dc.resetBy === "server" || (dc.resetBy === "" && dc.firstFinBy === "server");
    const errNs = d.rstSentNs !== 0n && (d.finSentNs === 0n || d.rstSentNs < d.finSentNs) ? d.rstSentNs : d.finSentNs;
    if (!sidecarClosed || errNs < reuse) continue;
    const sc = classes[use.sharedHop - 1]!;
    const sender = sc.resetBy === "server" && shared.server && !shared.server.phantom ? shared.server : null;
    const idle = use.idleSinceNs !== 0n && u.finRecvNs > use.idleSinceNs ? Number(u.finRecvNs - use.idleSinceNs) / 1000 : 0;
    return {
      use,
      idleUs: Math.round(idle),
      gapUs: Math.round(Number(reuse - u.finRecvNs) / 1000),
      resetReason: sender ? sc.resetReason : ResetReason.RESET_REASON_UNSPECIFIED,
      sender,
      closer: firstCloser(hops, classes, shared.index),
    };
  }
  return null;
}
