import { expect } from "./hops.js";
import { call, fromAToB, hop, nowUs } from "./run-call.js";
import type { ExpectedSegment, Scenario } from "./types.js";

/** Nothing listens here in pod b. */
export const NO_LISTENER_PORT = 9090;

/**
 * Pod a calls pod b's port 9090. Sidecar b accepts (REDIRECT to 15006), its
 * connection from 127.0.0.6 is refused by b's kernel (a RST no socket sends,
 * reason NO_SOCKET), and the sidecars close the accepted legs with FINs. The
 * client waits 300 ms before writing, as a server-speaks-first protocol would,
 * so the refusal is complete before any request byte exists: no race.
 */
export const noListener: Scenario = {
  name: "no-listener",
  summary: "pod a → pod b:9090 where nothing listens: sidecar b's upstream is refused by b's kernel",
  pods: ["a", "b"],
  async run(ctx) {
    const { startUs, a, b, target } = fromAToB(ctx, NO_LISTENER_PORT);
    const c = await call(ctx, { from: a, to: b, target, path: "/ok", sendDelayMs: 300 });
    const [h1, h2] = [hop(c, 0), hop(c, 1)];
    const refused: ExpectedSegment = {
      flag: "RST",
      fromPod: b.netns,
      role: "none",
      hop: `kernel-b→sidecar-b`,
      wire: { iface: "lo", src: target, dst: { ip: "127.0.0.6" } },
      resetReason: "NO_SOCKET",
      words: "b's kernel refuses sidecar b's SYN from 127.0.0.6: no socket listens on 9090 (NO_SOCKET)",
    };
    return {
      name: "no-listener",
      did: [`${a.netns}: client pid ${c.conn.pid} connects to ${target.ip}:${target.port} → ${c.conn.result.end}`],
      connections: [c.conn],
      expectations: [
        refused,
        expect(h2, "server", "FIN", "sidecar b, refused upstream, closes the accepted connection with a FIN"),
        expect(h1, "server", "FIN", "sidecar a passes the FIN on to the client"),
        expect(h1, "client", "FIN", "the client closes its side without having sent a request"),
        expect(h2, "client", "FIN", "sidecar a passes the client's FIN to sidecar b"),
      ],
      startUs,
      endUs: nowUs(),
    };
  },
};
