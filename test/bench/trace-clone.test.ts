// The store bench's N connections are copies of a stitched template: each
// copy must stay a trace the stitcher could have built (id = hash of its root
// socket, events that match its sockets and ports), distinct from every other
// copy, and at the rate and end time asked for.
import { describe, expect, it } from "vitest";
import { parseSocketId, v1 } from "../../src/model/mod.js";
import { traceId } from "../../src/trace/mod.js";
import { TraceCloner } from "../../bench/trace-clone.js";
import { buildTemplate } from "../../bench/traffic-template.js";

const T = 60;
const mesh = buildTemplate("mesh", { connections: T });
const churn = buildTemplate("churn", { connections: T });
const END_US = 1_800_000_000_000_000;

describe("buildTemplate", () => {
  it("stitches one real trace per connection: 3-hop completed mesh, 1-hop churn half reset by the server with its reason", () => {
    expect(mesh.traces).toHaveLength(T);
    expect(mesh.traces.every((t) => t.hops.length === 3 && t.outcome === v1.Outcome.OUTCOME_COMPLETED)).toBe(true);
    expect(churn.traces.every((t) => t.hops.length === 1)).toBe(true);
    const resets = churn.traces.filter((t) => t.outcome === v1.Outcome.OUTCOME_RESET_BY_SERVER);
    expect(resets).toHaveLength(T / 2);
    expect(resets.every((t) => t.hops[0]!.resetReason === v1.ResetReason.RESET_REASON_TCP_STATE)).toBe(true);
    expect(mesh.eventsPerConnection).toBeGreaterThan(churn.eventsPerConnection);
  });
});

describe("TraceCloner", () => {
  const count = 5 * T + 7;
  const cloner = new TraceCloner(mesh, { count, ratePerSec: 1000, endUs: END_US });

  it("gives every connection an id that is the hash of its root socket, and no two connections the same id or sockets", () => {
    const ids = new Set<string>();
    const sockets = new Set<string>();
    for (let n = 0; n < count; n++) {
      const t = cloner.trace(n);
      expect(t.traceId).toBe(traceId(t.hops![0]!.client!.socketId!));
      expect(cloner.traceId(n)).toBe(t.traceId);
      ids.add(t.traceId!);
      for (const h of t.hops!) for (const ep of [h.client!, h.server!]) sockets.add(ep.socketId!);
    }
    expect(ids.size).toBe(count);
    expect(sockets.size).toBe(count * 6);
  });

  it("spreads connections at the rate asked for, the newest starting at endUs", () => {
    const starts = Array.from({ length: count }, (_, n) => cloner.trace(n).startUs as number);
    for (let n = 1; n < count; n++) expect(starts[n]!).toBeGreaterThanOrEqual(starts[n - 1]!);
    expect(starts[count - 1]).toBe(END_US);
    const perSec = ((count - 1) / (starts[count - 1]! - starts[0]!)) * 1e6;
    expect(perSec).toBeGreaterThan(900);
    expect(perSec).toBeLessThan(1100);
  });

  it("moves client ports only, within the template's range, and keeps listener ports and original destinations", () => {
    const t0 = mesh.traces[3]!;
    for (const k of [1, 2, 4]) {
      const t = cloner.trace(k * T + 3);
      t.hops!.forEach((h, i) => {
        expect(h.server!.port).toBe(t0.hops[i]!.server!.port);
        expect(h.originalDestination).toEqual(t0.hops[i]!.originalDestination);
        expect(h.client!.port).toBeGreaterThanOrEqual(1);
        expect(h.client!.port).toBeLessThanOrEqual(65535);
        expect(h.client!.port).not.toBe(t0.hops[i]!.client!.port);
      });
    }
  });

  it("patches a copy's events like its trace: the sockets, ports and times of its hops", () => {
    const k = 3;
    const sign = (x: number) => Math.sign(x);
    for (const j of [0, 1, 17]) {
      const t = cloner.trace(k * T + j);
      const tmpl = mesh.traces[j]!;
      const node = Number(t.hops![0]!.client!.node!.split("-")[1]);
      const events = cloner.events(k, node);
      const tmplEvents = mesh.nodes[node]!.events;
      t.hops!.forEach((h, i) => {
        const id = parseSocketId(h.client!.socketId!)!;
        const own = events.filter((e) => e.sock === id.sock);
        const tmplSock = parseSocketId(tmpl.hops[i]!.client!.socketId!)!.sock;
        const tmplOwn = tmplEvents.filter((e) => e.sock === tmplSock);
        expect(own.length).toBe(tmplOwn.length);
        // The socket's birth is its first event's kernel time.
        expect(own[0]!.tsNs).toBe(id.birthNs);
        // A connecting socket's first event has no local port yet; the rest carry the hop's client port.
        expect(own.slice(1).every((e) => e.local!.port === h.client!.port)).toBe(true);
        // The hop's step times move with it: the SYN is its client's first event (SYN_SENT), and every step sits where it sat between the hop's ends.
        expect(h.openedUs).toBe(own[0]!.timeUs);
        for (const step of ["openedUs", "firstFinUs", "resetUs"] as const) {
          const [at, was] = [Number(h[step] ?? 0), Number(tmpl.hops[i]![step])];
          expect(at > 0, step).toBe(was > 0);
          if (!was) continue;
          expect(sign(at - (h.startUs as number)), step).toBe(sign(was - Number(tmpl.hops[i]!.startUs)));
          expect(sign(at - (h.endUs as number)), step).toBe(sign(was - Number(tmpl.hops[i]!.endUs)));
        }
        // Times move together: each event sits where it sat relative to its trace's start and end.
        own.forEach((e, x) => {
          const te = tmplOwn[x]!;
          expect(sign(e.timeUs! - (t.startUs as number))).toBe(sign(te.timeUs - tmpl.startUs));
          expect(sign(e.timeUs! - (t.endUs as number))).toBe(sign(te.timeUs - tmpl.endUs));
        });
      });
    }
  });

  it("numbers a node's events on from one copy to the next, kernel and wall times increasing", () => {
    const a = cloner.events(0, 0);
    const b = cloner.events(1, 0);
    expect(b[0]!.seq).toBe(a[a.length - 1]!.seq! + 1);
    expect(b[0]!.tsNs > a[a.length - 1]!.tsNs).toBe(true);
    expect(b[0]!.timeUs!).toBeGreaterThan(a[a.length - 1]!.timeUs!);
  });

  it("leaves the template as it was", () => {
    const before = v1.Trace.toObject(mesh.traces[5]!, { longs: String });
    const sock = mesh.nodes[0]!.events[0]!.sock;
    cloner.trace(2 * T + 5);
    cloner.events(2, 0);
    expect(v1.Trace.toObject(mesh.traces[5]!, { longs: String })).toEqual(before);
    expect(mesh.nodes[0]!.events[0]!.sock).toBe(sock);
  });

  it("copies churn resets with their origin's endpoint", () => {
    const c = new TraceCloner(churn, { count: 4 * T, endUs: END_US });
    const t = c.trace(2 * T);
    expect(t.outcome).toBe(v1.Outcome.OUTCOME_RESET_BY_SERVER);
    expect(t.resetOrigin!.socketId).toBe(t.hops![0]!.server!.socketId);
    expect(t.resetOrigin!.port).toBe(t.hops![0]!.server!.port);
  });
});
