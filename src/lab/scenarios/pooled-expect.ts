// The FINs and RSTs of pooled calls: every client connection closes like a
// plain call's first hop; every pooled upstream closes when app b's idle
// keep-alive timer fires (app b first, the FIN passed on by sidecar b, sidecar
// a dropping it from its pool); an upstream that met the race closes with app
// b's kernel resetting the request it got after (or while) closing.
import { expect, type Hop } from "./hops.js";
import type { RaceReport, ExpectedSegment } from "./types.js";
import type { TcpTuple } from "../http-wire.js";

/** `raced`: the connection's request met the race, and sidecar a answered it itself. */
export function clientConnectionExpectations(h1: Hop, raced = false): ExpectedSegment[] {
  return [
    raced
      ? expect(h1, "server", "FIN", "sidecar a answers the raced request itself (502: its upstream closed without an answer) and closes the connection")
      : expect(h1, "server", "FIN", "sidecar a answers the connection's last request (Connection: close) and closes it"),
    expect(h1, "client", "FIN", "the client closes its side once the answer is complete"),
  ];
}

export function idleCloseExpectations(h2: Hop, h3: Hop): ExpectedSegment[] {
  return [
    expect(h3, "server", "FIN", "app b closes the idle keep-alive connection when its idle timer fires"),
    expect(h2, "server", "FIN", "sidecar b (tcp mode) passes app b's FIN to sidecar a"),
    expect(h2, "client", "FIN", "sidecar a drops the closed connection from its pool"),
    expect(h3, "client", "FIN", "sidecar b closes the passthrough to app b"),
  ];
}

/** The reset reason app b's kernel gives, by the order on its wire: after its FIN the request is data for a closed socket; before it, close() found the request unread. */
export function raceResetReason(r: Pick<RaceReport, "appFinUs" | "requestAtAppUs">): string | undefined {
  if (r.appFinUs === undefined) return "TCP_ABORT_ON_CLOSE";
  if (r.requestAtAppUs !== undefined && r.appFinUs < r.requestAtAppUs) return "TCP_ABORT_ON_DATA";
  return undefined;
}

export function racedUpstreamExpectations(h2: Hop, h3: Hop, race: RaceReport): ExpectedSegment[] {
  const reason = raceResetReason(race);
  return [
    {
      ...expect(h3, "server", "FIN", "app b's idle close: a FIN, unless the request was already unread in its socket (close() then resets instead)"),
      optional: race.appFinUs === undefined,
    },
    {
      ...expect(h3, "server", "RST", `app b's kernel resets request ${race.id}: ${reason === "TCP_ABORT_ON_DATA" ? "it arrived after the app closed" : reason === "TCP_ABORT_ON_CLOSE" ? "the app closed with it unread" : "the app closed as it arrived"}`),
      ...(reason ? { resetReason: reason } : {}),
    },
    expect(h2, "server", "FIN", "sidecar b (tcp mode) passes app b's close to sidecar a as a FIN, crossing the request"),
    { ...expect(h2, "server", "RST", "sidecar b may abort the upstream once app b's RST reaches it"), optional: true },
    expect(h2, "client", "FIN", "sidecar a closes the upstream that failed the request (and answers the client 502)"),
    { ...expect(h2, "client", "RST", "sidecar a may abort that upstream instead, with the request unanswered"), optional: true },
    { ...expect(h3, "client", "FIN", "sidecar b closes the passthrough, unless app b's RST came first"), optional: true },
    { ...expect(h3, "client", "RST", "sidecar b may abort the passthrough"), optional: true },
  ];
}

export const sameTuple = (a: TcpTuple, b: TcpTuple): boolean =>
  a.src.ip === b.src.ip && a.src.port === b.src.port && a.dst.ip === b.dst.ip && a.dst.port === b.dst.port;
