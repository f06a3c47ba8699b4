import { APP_PATHS } from "../app/app-server-script.js";
import { processOf } from "../lab.js";
import { TCP_ESTABLISHED, tcpSocketsOf } from "../proc-net-tcp.js";
import { sleep, waitFor } from "../processes.js";
import { expect } from "./hops.js";
import { fromAToB, hop, hopsOf, nowUs, start } from "./run-call.js";
import { killSidecar, restartSidecar } from "./sidecar-control.js";
import type { Scenario } from "./types.js";

const SLOW_MS = 1500;

/**
 * Pod b's sidecar is SIGKILLed while app b holds a slow request. The kernel
 * closes the dead proxy's sockets with FINs (nothing unread in them), app b
 * closes on that FIN before answering, and the FIN travels back to the client.
 * The sidecar is restarted afterwards so the lab stays usable.
 */
export const sidecarCrash: Scenario = {
  name: "sidecar-crash",
  summary: "pod b's sidecar is SIGKILLed while a request to pod b's app is in flight",
  pods: ["a", "b"],
  async run(ctx) {
    const { startUs, a, b, target } = fromAToB(ctx);
    const path = `${APP_PATHS.slow}?ms=${SLOW_MS}`;
    // Hops name the proxy that is about to die: keep the state as it is now.
    const before = { ...ctx, state: structuredClone(ctx.state) };
    const running = start(ctx, { from: a, target, path });
    const appB = processOf(ctx.state, b, "app");
    await waitFor(
      async () => (await tcpSocketsOf(appB.pid)).some((s) => s.state === TCP_ESTABLISHED && s.local.port === target.port && s.remote.ip === "127.0.0.6"),
      5000,
      "app b to hold the proxied request",
    );
    const killed = await killSidecar(ctx, b);
    const conn = await running.done;
    // Past the app's answer time: whatever it would still send is on the wire.
    await sleep(Math.max(0, SLOW_MS - (Date.now() - conn.result.startMs)) + 200);
    const restarted = await restartSidecar(ctx, b);
    const c = { conn, hops: hopsOf(before, a, b, conn) };
    const [h1, h2, h3] = [hop(c, 0), hop(c, 1), hop(c, 2)];
    return {
      name: "sidecar-crash",
      did: [
        `${a.netns}: client pid ${conn.pid} GET ${path} ${target.ip}:${target.port}`,
        `${b.netns}: SIGKILL sidecar pid ${killed.pid} while app b holds the request`,
        `client → ${conn.result.end}${conn.result.error ? ` (${conn.result.error})` : ""}`,
        `${b.netns}: sidecar restarted, pid ${restarted.pid}`,
      ],
      connections: [conn],
      expectations: [
        expect(h3, "client", "FIN", "the kernel closes the dead sidecar b's passthrough socket: FIN to app b"),
        expect(h2, "server", "FIN", "the kernel closes the dead sidecar b's inbound socket: FIN to sidecar a"),
        expect(h3, "server", "FIN", "app b closes on the FIN, before answering"),
        expect(h1, "server", "FIN", "sidecar a passes the FIN on to the client"),
        expect(h1, "client", "FIN", "the client closes its side, without an answer"),
        {
          // Seen once in three loaded CI runs (lab.test.ts, tcpdump only): after its
          // FIN the client's kernel sent a RST towards sidecar a's listener socket.
          // The capture keeps only SYN/FIN/RST, so the segment it answered is not
          // in it; the reason is not confirmed. tcptrail attributes it either way
          // (lab-ground-truth checks every wire RST against the kernel events).
          ...expect(h1, "client", "RST", "the client's kernel may answer a late segment of sidecar a with a RST after its FIN"),
          optional: true,
        },
        expect(h2, "client", "FIN", "sidecar a closes upstream (the orphaned socket of the dead proxy takes it)"),
      ],
      startUs,
      endUs: nowUs(),
    };
  },
};
