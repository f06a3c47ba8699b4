import { APP_PATHS } from "../app/app-server-script.js";
import { expect } from "./hops.js";
import { call, fromAToB, hop, nowUs } from "./run-call.js";
import type { Scenario } from "./types.js";

/**
 * Pod b's app sends part of an answer, then closes with SO_LINGER 0: a RST on
 * the passthrough hop. HAProxy does not propagate resets in TCP mode: it
 * forwards the bytes it has and closes downstream with a FIN.
 */
export const appAbort: Scenario = {
  name: "app-abort",
  summary: "pod b's app aborts mid-answer (SO_LINGER 0 → RST); the sidecars close the rest with FINs",
  pods: ["a", "b"],
  async run(ctx) {
    const { startUs, a, b, target } = fromAToB(ctx);
    const c = await call(ctx, { from: a, to: b, target, path: APP_PATHS.abort });
    const [h1, h2, h3] = [hop(c, 0), hop(c, 1), hop(c, 2)];
    return {
      name: "app-abort",
      did: [
        `${a.netns}: client pid ${c.conn.pid} GET ${APP_PATHS.abort} ${target.ip}:${target.port} → ${c.conn.result.status ?? "-"}, ${c.conn.result.bytes} bytes, ${c.conn.result.end}`,
      ],
      connections: [c.conn],
      expectations: [
        expect(h3, "server", "RST", "app b resets its connection from sidecar b (SO_LINGER 0 close)"),
        expect(h2, "server", "FIN", "sidecar b, reset upstream, forwards the partial answer and closes with a FIN"),
        expect(h1, "server", "FIN", "sidecar a passes the FIN on to the client"),
        expect(h1, "client", "FIN", "the client closes its side"),
        expect(h2, "client", "FIN", "sidecar a passes the client's FIN to sidecar b"),
      ],
      startUs,
      endUs: nowUs(),
    };
  },
};
