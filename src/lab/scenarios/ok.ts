import { APP_PATHS } from "../app/app-server-script.js";
import { expect } from "./hops.js";
import { call, fromAToB, hop, nowUs } from "./run-call.js";
import type { Scenario } from "./types.js";

/** A → B through both sidecars; every hop closes with a FIN each way, the server side first. */
export const ok: Scenario = {
  name: "ok",
  summary: "the app of pod a → GET /ok on pod b's app, through both sidecars",
  pods: ["a", "b"],
  async run(ctx) {
    const { startUs, a, b, target } = fromAToB(ctx);
    const c = await call(ctx, { from: a, to: b, target, path: APP_PATHS.ok });
    const [h1, h2, h3] = [hop(c, 0), hop(c, 1), hop(c, 2)];
    return {
      name: "ok",
      did: [`${a.netns}: client pid ${c.conn.pid} GET ${APP_PATHS.ok} ${target.ip}:${target.port} → ${c.conn.result.status ?? c.conn.result.error}`],
      connections: [c.conn],
      expectations: [
        expect(h3, "server", "FIN", "app b answers and closes first (Connection: close)"),
        expect(h2, "server", "FIN", "sidecar b passes app b's FIN downstream"),
        expect(h1, "server", "FIN", "sidecar a passes it on to the client"),
        expect(h1, "client", "FIN", "the client closes its side once the answer is complete"),
        expect(h2, "client", "FIN", "sidecar a passes the client's FIN upstream"),
        expect(h3, "client", "FIN", "sidecar b passes it on to app b"),
      ],
      startUs,
      endUs: nowUs(),
    };
  },
};
