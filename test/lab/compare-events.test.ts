import { describe, expect, it } from "vitest";
import { compareWithEvents, reduceCapture, type TracedEvent } from "../../src/lab/mod.js";
import { EventKind, ResetReason, Role, TcpState, type ConnEventInit } from "../../src/model/mod.js";
import { loadFixture } from "./fixtures.js";

// Hand-made events for the sockets of the recorded runs, as the agent would
// publish them (fields from docs/EVENTS.md).
const A = "10.88.201.2";
const B = "10.88.201.3";
const ep = (s: string): { ip: string; port: number } => {
  const i = s.lastIndexOf(":");
  return { ip: s.slice(0, i), port: Number(s.slice(i + 1)) };
};

let tsNs = 1_000n;
/** An event's fields before socket() stamps its kernel time. */
type Fields = Omit<ConnEventInit, "tsNs">;
interface SockSpec {
  pod: string;
  sock: string;
  local: string;
  remote: string;
  role: Role;
  pid: number;
  accepted?: boolean;
  origDst?: string;
}
function socket(s: SockSpec, closing: Fields[]): TracedEvent[] {
  const base = { pod: s.pod, sock: s.sock, local: ep(s.local), remote: ep(s.remote), role: s.role, owner: { pid: s.pid, comm: "x" } };
  const out: Fields[] = [
    s.accepted
      ? { ...base, kind: EventKind.EVENT_KIND_STATE_CHANGE, oldState: TcpState.TCP_STATE_LISTEN, newState: TcpState.TCP_STATE_SYN_RECV }
      : { ...base, kind: EventKind.EVENT_KIND_STATE_CHANGE, oldState: TcpState.TCP_STATE_CLOSE, newState: TcpState.TCP_STATE_SYN_SENT },
  ];
  if (s.origDst) out.push({ pod: s.pod, sock: s.sock, kind: EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST, target: ep(s.origDst), role: s.role, owner: base.owner });
  out.push(...closing.map((c) => ({ ...base, ...c })));
  return out.map((event) => ({ node: "n1", event: { ...event, tsNs: (tsNs += 10n) } }));
}
const fin = (from: TcpState, to: TcpState): Fields => ({ kind: EventKind.EVENT_KIND_STATE_CHANGE, oldState: from, newState: to });
const activeFin = fin(TcpState.TCP_STATE_ESTABLISHED, TcpState.TCP_STATE_FIN_WAIT1);
const passiveFin = fin(TcpState.TCP_STATE_CLOSE_WAIT, TcpState.TCP_STATE_LAST_ACK);

function appAbortEvents(opts: { appRole?: Role; dropOrigDst?: boolean } = {}): TracedEvent[] {
  return [
    ...socket({ pod: "tx-a", sock: "a1", local: `${A}:58736`, remote: `${B}:8080`, role: Role.ROLE_APP, pid: 22678 }, [passiveFin]),
    ...socket(
      { pod: "tx-a", sock: "a2", local: "127.0.0.1:15001", remote: `${A}:58736`, role: Role.ROLE_SIDECAR, pid: 19889, accepted: true, ...(opts.dropOrigDst ? {} : { origDst: `${B}:8080` }) },
      [activeFin],
    ),
    ...socket({ pod: "tx-a", sock: "a3", local: `${A}:58748`, remote: `${B}:8080`, role: Role.ROLE_SIDECAR, pid: 19889 }, [passiveFin]),
    ...socket({ pod: "tx-b", sock: "b1", local: `${B}:15006`, remote: `${A}:58748`, role: Role.ROLE_SIDECAR, pid: 21905, accepted: true, origDst: `${B}:8080` }, [activeFin]),
    ...socket({ pod: "tx-b", sock: "b2", local: "127.0.0.6:42584", remote: `${B}:8080`, role: Role.ROLE_SIDECAR, pid: 21905 }, [
      { kind: EventKind.EVENT_KIND_RESET_RECEIVED },
    ]),
    ...socket({ pod: "tx-b", sock: "b3", local: `${B}:8080`, remote: "127.0.0.6:42584", role: opts.appRole ?? Role.ROLE_APP, pid: 19898, accepted: true }, [
      { kind: EventKind.EVENT_KIND_RESET_SENT, resetReason: ResetReason.RESET_REASON_TCP_ABORT_ON_LINGER },
    ]),
  ];
}

describe("compareWithEvents", () => {
  const f = loadFixture("app-abort");
  const wire = reduceCapture(f.capture);
  const opts = { expectations: f.result.expectations, pods: f.pods };

  it("attributes every wire FIN and RST to its socket through the REDIRECT NAT, with pod, role and process", () => {
    const r = compareWithEvents(wire, appAbortEvents(), opts);
    expect(r.segments).toHaveLength(5);
    expect(r.segments.map((s) => s.problems)).toEqual([[], [], [], [], []]);
    expect(r.segments.map((s) => s.sender?.sock)).toEqual(["b3", "b1", "a2", "a1", "a3"]);
    expect(r.segments[0]?.sender).toMatchObject({ pod: "tx-b", role: "app", pid: 19898, evidence: "RESET_SENT", resetReason: "TCP_ABORT_ON_LINGER" });
    expect(r.untracedResets).toEqual([]);
    expect(r.missing).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it("checks the original destination of both redirected connections", () => {
    const r = compareWithEvents(wire, appAbortEvents(), opts);
    expect(r.redirects.map((x) => [x.pod, x.direction, x.sock, `${x.originalDst.ip}:${x.originalDst.port}`, x.ok])).toEqual([
      ["tx-a", "outbound", "a2", `${B}:8080`, true],
      ["tx-b", "inbound", "b1", `${B}:8080`, true],
    ]);
    const without = compareWithEvents(wire, appAbortEvents({ dropOrigDst: true }), opts);
    expect(without.redirects.find((x) => x.direction === "outbound")?.ok).toBe(false);
    expect(without.ok).toBe(false);
  });

  it("reports a wrong role and a reset nobody claims", () => {
    const wrongRole = compareWithEvents(wire, appAbortEvents({ appRole: Role.ROLE_SIDECAR }), opts);
    expect(wrongRole.segments[0]?.problems).toEqual(["role sidecar, expected app"]);
    expect(wrongRole.ok).toBe(false);
    const noReset = compareWithEvents(wire, appAbortEvents().filter((e) => e.event.kind !== EventKind.EVENT_KIND_RESET_SENT), opts);
    expect(noReset.untracedResets).toHaveLength(1);
    expect(noReset.segments[0]?.problems).toEqual(["no traced socket sent this RST"]);
  });

  it("reject: the netfilter RST must be reported as sent by no traced socket", () => {
    const rj = loadFixture("reject");
    const rwire = reduceCapture(rj.capture);
    const events = [
      ...socket({ pod: "tx-a", sock: "a1", local: `${A}:50412`, remote: `${B}:9091`, role: Role.ROLE_APP, pid: 22707 }, [passiveFin]),
      ...socket({ pod: "tx-a", sock: "a2", local: "127.0.0.1:15001", remote: `${A}:50412`, role: Role.ROLE_SIDECAR, pid: 19889, accepted: true, origDst: `${B}:9091` }, [activeFin]),
      ...socket({ pod: "tx-a", sock: "a3", local: `${A}:50428`, remote: `${B}:9091`, role: Role.ROLE_SIDECAR, pid: 19889 }, [{ kind: EventKind.EVENT_KIND_RESET_RECEIVED }]),
    ];
    const r = compareWithEvents(rwire, events, { expectations: rj.result.expectations, pods: rj.pods });
    expect(r.untracedResets.map((s) => s.packet.src)).toEqual([{ ip: B, port: 9091 }]);
    // The rejected SYN was never accepted: no original destination to check on b.
    expect(r.redirects.map((x) => x.direction)).toEqual(["outbound"]);
    expect(r.ok).toBe(true);
    // A tracer that claims the REJECT reset was a socket's is wrong.
    const claimed = compareWithEvents(
      rwire,
      [...events, { node: "n1", event: { tsNs: (tsNs += 10n), pod: "tx-b", sock: "", kind: EventKind.EVENT_KIND_RESET_SENT, local: { ip: B, port: 9091 }, remote: { ip: A, port: 50428 } } }],
      { expectations: rj.result.expectations, pods: rj.pods },
    );
    expect(claimed.ok).toBe(false);
  });
});
