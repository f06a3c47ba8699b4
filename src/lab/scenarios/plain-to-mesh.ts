import { APP_PATHS } from "../app/app-server-script.js";
import { LabStateError } from "../errors.js";
import { expect } from "./hops.js";
import { call, hop, nowUs, pod } from "./run-call.js";
import type { Scenario } from "./types.js";

/** Pod c has no sidecar: its app dials pod b directly, and only b's inbound capture applies. */
export const plainToMesh: Scenario = {
  name: "plain-to-mesh",
  summary: "the app of un-meshed pod c → GET /ok on pod b's app (only b's sidecar in the path)",
  pods: ["b", "c"],
  async run(ctx) {
    const startUs = nowUs();
    const cPod = pod(ctx, "c");
    const b = pod(ctx, "b");
    if (cPod.meshed) throw new LabStateError(`pod ${cPod.netns} is meshed; plain-to-mesh needs it without a sidecar`);
    const target = { ip: b.ip, port: ctx.state.appPort };
    const c = await call(ctx, { from: cPod, to: b, target, path: APP_PATHS.ok });
    const [h1, h2] = [hop(c, 0), hop(c, 1)];
    return {
      name: "plain-to-mesh",
      did: [`${cPod.netns}: client pid ${c.conn.pid} GET ${APP_PATHS.ok} ${target.ip}:${target.port} → ${c.conn.result.status ?? c.conn.result.error}`],
      connections: [c.conn],
      expectations: [
        expect(h2, "server", "FIN", "app b answers and closes first"),
        expect(h1, "server", "FIN", "sidecar b passes the FIN to pod c's client"),
        expect(h1, "client", "FIN", "pod c's client closes its side"),
        expect(h2, "client", "FIN", "sidecar b passes it on to app b"),
      ],
      startUs,
      endUs: nowUs(),
    };
  },
};
