// Which hop caused which: the stitcher knows each hop's parent (the hop whose
// server socket a proxy accepted before it dialed this one) but a stored
// Trace carries only the hops in depth-first order, each with the proxy's
// process on its client end. That is enough to find the parent again: the
// nearest earlier hop whose server socket belongs to the same process on
// the same node. Among several (a sidecar that calls its own pod has both an
// outbound and an inbound listener socket in one chain), the one whose leg
// the dialing leg answers to wins: an upstream is dialed for an outbound
// listener's connection, a passthrough for an inbound listener's.
import { SidecarLeg, type HopEndpoint } from "../../model/mod.js";

/** The parts of a hop the inference reads (a Hop or its init form). */
export interface HopShape {
  client?: HopEndpoint | null;
  server?: HopEndpoint | null;
  link?: string | null;
}

/** The leg a proxy's downstream socket has for each leg it dials. */
const DIALED_FOR: ReadonlyMap<number, number> = new Map([
  [SidecarLeg.SIDECAR_LEG_UPSTREAM, SidecarLeg.SIDECAR_LEG_OUTBOUND_LISTENER],
  [SidecarLeg.SIDECAR_LEG_INBOUND_PASSTHROUGH, SidecarLeg.SIDECAR_LEG_INBOUND_LISTENER],
]);

const sameProcess = (a: HopEndpoint | null | undefined, b: HopEndpoint | null | undefined): boolean =>
  Boolean(a?.socketId && b?.socketId && a.pid && a.pid === b.pid && (a.node ?? "") === (b.node ?? ""));

/**
 * For each hop (by position), the position of the hop that caused it, or -1
 * for a hop that starts the trace. A later hop that no earlier server socket
 * explains (its proxy's downstream end was not traced) is taken to follow
 * the hop before it, which is what `link` says of every hop but the first.
 */
export function hopParents(hops: readonly HopShape[]): number[] {
  return hops.map((hop, i) => {
    if (i === 0) return -1;
    const client = hop.client;
    const wanted = client?.leg ? DIALED_FOR.get(client.leg) : undefined;
    let sameProc = -1;
    for (let j = i - 1; j >= 0; j--) {
      const server = hops[j]!.server;
      if (!sameProcess(client, server)) continue;
      if (wanted === undefined || server?.leg === wanted) return j;
      if (sameProc < 0) sameProc = j;
    }
    return sameProc >= 0 ? sameProc : i - 1;
  });
}
