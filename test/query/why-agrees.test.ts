// `tcptrail why` prints two sentences about one trace: its own one-line
// verdict (whySentence, from the trace's JSON) and the stitcher's explanation.
// For every message form, both must name the same endpoint on the same hop,
// and that hop must be the one the JSON points at (hops numbered from 1).
// Traces come from the real stitcher over the lab's recorded streams and the
// lab model, not hand-built.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IDLE_TIMEOUT_MS } from "../../src/lab/scenarios/idle-timeout.js";
import { type Trace } from "../../src/model/mod.js";
import { traceToJson, whySentence, type EndpointJson, type TraceJson } from "../../src/query/mod.js";
import type { StitcherOptions } from "../../src/trace/mod.js";
import { loadFixture, type FixtureRecord } from "../trace/helpers/load-fixture.js";
import { APP_UID, MeshLab, type Rec } from "../trace/helpers/mesh-lab.js";
import { appB, appC, handshake, podB, podC, scenarioIdleTimeoutThenAbort } from "../trace/helpers/scenarios.js";
import { stitch } from "../trace/helpers/stitch.js";

const fixtures = join(import.meta.dirname, "..", "trace", "fixtures");
const modelled = (name: string) => loadFixture(join(fixtures, `${name}.json`));
const recorded = (name: string) => loadFixture(join(fixtures, "lab", `${name}.json`));

/** The lab client's connection (recorded streams hold the lab's own traffic too). */
const labClient = (t: Trace): boolean => t.hops[0]?.client?.comm === "tt-client";

/** The one trace `pick` selects (by default the only one). */
function traceOf(recs: readonly (Rec | FixtureRecord)[], opts: StitcherOptions = {}, pick: (t: Trace) => boolean = () => true): TraceJson {
  const { traces } = stitch(recs, opts);
  const mine = traces.filter(pick);
  expect(mine.map((t) => t.explanation)).toHaveLength(1);
  return traceToJson(mine[0]!);
}

/** The hop the JSON says the story is about, and the endpoint both sentences must name there. */
function subjectOf(t: TraceJson): { hop: number; ep: EndpointJson } {
  if (t.outcome === "COMPLETED") {
    const h = t.hops.find((x) => x.index === t.first_close_hop)!;
    return { hop: h.index, ep: t.first_close_by === "client" ? h.client : h.server };
  }
  const h = t.hops.find((x) => x.index === t.reset_origin_hop)!;
  // A refusal is told from the side of the one whose SYN was refused; an
  // untraced RST from the side of the socket that received it.
  if (t.outcome === "REFUSED") return { hop: h.index, ep: h.client };
  if (t.outcome === "RESET_UNTRACED") return { hop: h.index, ep: t.reset_receiver! };
  return { hop: h.index, ep: t.reset_origin! };
}

/**
 * The hop of the first "on hop N" in `text`, and the first endpoint named in
 * the clause leading to it ("sidecar tt-b (haproxy pid 741)", "app tt-b",
 * "App node (pid 913, lab/tt-b)").
 */
function firstNamed(text: string): { hop: number; role: string; name: string; paren: string } {
  const m = /^(.*?)\bon hop (\d+)\b/.exec(text);
  expect(m, text).not.toBeNull();
  const clause = m![1]!.split(/; |: /).at(-1)!;
  const n = /\b(app|sidecar) (\S+)(?: \(([^)]*)\))?/i.exec(clause);
  expect(n, `no endpoint named before "on hop" in: ${text}`).not.toBeNull();
  return { hop: Number(m![2]), role: n![1]!.toUpperCase(), name: n![2]!, paren: n![3] ?? "" };
}

function expectNames(text: string, hop: number, ep: EndpointJson): void {
  const got = firstNamed(text);
  expect(got.hop, text).toBe(hop);
  expect(got.role, text).toBe(ep.role);
  expect(got.name === ep.pod || got.paren.includes(`/${ep.pod}`), `${text}\nshould name pod ${ep.pod}`).toBe(true);
  const pid = /pid (\d+)/.exec(got.paren);
  if (pid) expect(Number(pid[1]), text).toBe(ep.pid);
  expect(text, "hops are numbered from 1").not.toMatch(/\bhops? 0\b/);
}

/** A plain connection C → B:9000 whose client retransmits until the kernel gives up. */
function timeoutStream(): Rec[] {
  const lab = new MeshLab();
  const C = podC();
  const B = podB();
  const dst = { ip: B.ip, port: 9000 };
  const c = lab.sock(C, { ip: C.ip, port: 50001 }, dst, { uid: APP_UID, role: "APP" });
  const s = lab.sock(B, dst, { ip: C.ip, port: 50001 }, { uid: APP_UID, role: "APP" });
  handshake(lab, c, s, appC, appB, { target: dst });
  for (let i = 0; i < 5; i++) {
    lab.wait(C.node, 200_000_000);
    lab.retransmit(c);
  }
  lab.state(c, "CLOSE");
  lab.state(s, "CLOSE");
  return lab.records;
}

const FORMS: [string, () => TraceJson, string][] = [
  ["COMPLETED, an app closed first (model)", () => traceOf(modelled("ok")), "COMPLETED"],
  ["COMPLETED, the far app closed first (lab)", () => traceOf(recorded("ok"), {}, labClient), "COMPLETED"],
  ["COMPLETED by a sidecar's idle timeout (lab)", () => traceOf(recorded("idle-timeout"), {}, labClient), "COMPLETED"],
  ["COMPLETED by a configured idle timeout (lab)", () => traceOf(recorded("idle-timeout"), { proxyIdleTimeoutMs: IDLE_TIMEOUT_MS }, labClient), "COMPLETED"],
  ["RESET_BY_SERVER from an app (lab)", () => traceOf(recorded("app-abort"), {}, labClient), "RESET_BY_SERVER"],
  ["RESET_BY_SERVER from a sidecar (model)", () => traceOf(modelled("sidecar-crash")), "RESET_BY_SERVER"],
  ["RESET_BY_CLIENT, a sidecar's idle timeout then its RST (model)", () => traceOf(scenarioIdleTimeoutThenAbort(), { proxyIdleTimeoutMs: 2000 }), "RESET_BY_CLIENT"],
  ["PROCESS_EXIT (lab)", () => traceOf(recorded("sidecar-crash"), {}, labClient), "PROCESS_EXIT"],
  ["REFUSED (model)", () => traceOf(modelled("no-listener")), "REFUSED"],
  ["REFUSED (lab)", () => traceOf(recorded("no-listener"), {}, labClient), "REFUSED"],
  ["RESET_UNTRACED, iptables REJECT (model)", () => traceOf(modelled("reject")), "RESET_UNTRACED"],
  [
    "RESET_UNTRACED, iptables REJECT (lab)",
    () => traceOf([...recorded("ok"), ...recorded("reject")], {}, (t) => labClient(t) && t.hops[0]?.originalDestination?.port === 9091),
    "RESET_UNTRACED",
  ],
  ["RESET_UNTRACED, a middlebox (model)", () => traceOf(modelled("middlebox-unknown")), "RESET_UNTRACED"],
  ["TIMEOUT (model)", () => traceOf(timeoutStream()), "TIMEOUT"],
];

describe("why's verdict and the explanation agree", () => {
  for (const [form, make, outcome] of FORMS) {
    it(form, () => {
      const t = make();
      expect(t.outcome).toBe(outcome);
      const { hop, ep } = subjectOf(t);
      expectNames(whySentence(t), hop, ep);
      expectNames(t.explanation, hop, ep);
    });
  }
});
