import { run } from "../exec.js";
import { expect } from "./hops.js";
import { call, fromAToB, hop, nowUs } from "./run-call.js";
import type { ExpectedSegment, Scenario } from "./types.js";

export const REJECT_PORT = 9091;

/**
 * A REJECT rule in pod b's filter table. PREROUTING has already redirected the
 * SYN to 15006 when INPUT sees it, so the rule matches the port the caller
 * dialed through conntrack (--ctorigdstport): the SYN from sidecar a is
 * answered by netfilter with a RST that no socket sends. The rule is removed
 * afterwards, also on failure.
 */
export const reject: Scenario = {
  name: "reject",
  summary: "pod a → pod b:9091, rejected in pod b by iptables REJECT --reject-with tcp-reset",
  pods: ["a", "b"],
  async run(ctx) {
    const { startUs, a, b, target } = fromAToB(ctx, REJECT_PORT);
    const rule = ["INPUT", "-p", "tcp", "-m", "conntrack", "--ctstate", "NEW", "--ctorigdstport", String(REJECT_PORT), "-j", "REJECT", "--reject-with", "tcp-reset"];
    await run("iptables", ["-I", ...rule], { netns: b.netns });
    let c;
    try {
      c = await call(ctx, { from: a, to: b, target, path: "/ok", sendDelayMs: 300 });
    } finally {
      await run("iptables", ["-D", ...rule], { netns: b.netns, allowFailure: true });
    }
    const h1 = hop(c, 0);
    const rejected: ExpectedSegment = {
      flag: "RST",
      fromPod: b.netns,
      role: "none",
      hop: "netfilter-b→sidecar-a",
      wire: { iface: "eth0", src: target, dst: { ip: a.ip } },
      untraced: true,
      words: "netfilter in pod b answers sidecar a's SYN with a RST: no socket sent it",
    };
    return {
      name: "reject",
      did: [
        `${b.netns}: iptables -I ${rule.join(" ")}`,
        `${a.netns}: client pid ${c.conn.pid} connects to ${target.ip}:${target.port} → ${c.conn.result.end}`,
        `${b.netns}: rule removed`,
      ],
      connections: [c.conn],
      expectations: [
        rejected,
        expect(h1, "server", "FIN", "sidecar a, its upstream reset, closes the client's connection with a FIN"),
        expect(h1, "client", "FIN", "the client closes its side without having sent a request"),
      ],
      startUs,
      endUs: nowUs(),
    };
  },
};
