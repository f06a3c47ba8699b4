// Was a sidecar's first close its idle timeout? The events carry no data
// transfers, so the quiet stretch is measured from the last event anywhere on
// the connection's chain (a handshake, a FIN, a RST) to the close. Data may
// have flowed after that event unseen, so the stretch can only be longer than
// the real one, never shorter: a proxy timer that fired after T quiet seconds
// shows up as T or a little more.
import { Role } from "../model/mod.js";
import type { HopView, SockView } from "./hop-view.js";

/** A timer fires after at least its timeout; wall clocks derived from kernel time and timer ticks may still read a little short. */
export const IDLE_TIMEOUT_EARLY_FRACTION = 0.1;
/** Traffic after the last event we saw lengthens the measured stretch; beyond this fraction over the timeout it is not called one. */
export const IDLE_TIMEOUT_LATE_FRACTION = 0.5;

export interface IdleCloseOptions {
  /** Configured sidecar idle timeouts (ms); empty when unknown. */
  proxyIdleTimeoutsMs: readonly number[];
  /** Without configured timeouts: the shortest quiet stretch that reads as an idle timeout. */
  idleCloseMinMs: number;
}

export type IdleClose =
  /** Idle long enough, no timeout configured: called a proxy idle timeout. */
  | { kind: "unconfigured"; idleUs: number }
  /** Idle about as long as a configured timeout: called that timeout. */
  | { kind: "configured"; idleUs: number; timeoutMs: number }
  /** Idle long enough to look like one, but far from every configured timeout: not called one. */
  | { kind: "far"; idleUs: number; timeoutsMs: readonly number[] };

function lastEventBefore(hops: readonly HopView[], closeUs: number): number {
  let last = 0;
  for (const h of hops) {
    for (const v of [h.client, h.server, h.refusal]) {
      if (!v) continue;
      for (const t of [v.bornUs, v.estUs, v.finSentUs, v.finRecvUs, v.rstSentUs, v.rstRecvUs, v.deathUs]) {
        if (t > 0 && t < closeUs && t > last) last = t;
      }
    }
  }
  return last;
}

/** A timeout that a stretch of `idleUs` matches, or 0. */
function matching(idleUs: number, timeoutsMs: readonly number[]): number {
  let best = 0;
  for (const t of timeoutsMs) {
    const us = t * 1000;
    const near = idleUs >= us * (1 - IDLE_TIMEOUT_EARLY_FRACTION) && idleUs <= us * (1 + IDLE_TIMEOUT_LATE_FRACTION);
    if (near && (!best || Math.abs(idleUs - us) < Math.abs(idleUs - best * 1000))) best = t;
  }
  return best;
}

/**
 * What to say about `closer`'s first FIN or RST at `closeUs`: null when the
 * closer is not a sidecar or the connection was not quiet before it.
 */
export function idleClose(hops: readonly HopView[], closer: SockView | null, closeUs: number, o: IdleCloseOptions): IdleClose | null {
  if (!closer || closer.phantom || closer.role !== Role.ROLE_SIDECAR || closeUs <= 0) return null;
  const last = lastEventBefore(hops, closeUs);
  if (!last) return null;
  const idleUs = closeUs - last;
  if (o.proxyIdleTimeoutsMs.length) {
    const t = matching(idleUs, o.proxyIdleTimeoutsMs);
    if (t) return { kind: "configured", idleUs, timeoutMs: t };
    // Quiet long enough to look like a timeout, but not one configured: say so,
    // rather than stay silent about a long quiet stretch.
    return idleUs >= o.idleCloseMinMs * 1000 ? { kind: "far", idleUs, timeoutsMs: o.proxyIdleTimeoutsMs } : null;
  }
  return idleUs >= o.idleCloseMinMs * 1000 ? { kind: "unconfigured", idleUs } : null;
}
