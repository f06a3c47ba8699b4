import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import { registerObserve } from "../../src/cli/commands/observe.js";
import { EventKind, ResetReason, Role, SidecarLeg, TcpState, type ConnEvent, type ConnEventInit } from "../../src/model/mod.js";
import { decodeBatch, encodeBatch } from "../../src/transport/mod.js";
import {
  buildFilter,
  formatClock,
  formatCompact,
  isInvalidFilterError,
  matchEvent,
  replayStart,
  toJsonRecord,
} from "../../src/observe/mod.js";

// 2025-11-21T23:41:07.123456Z
const T_US = Date.UTC(2025, 10, 21, 23, 41, 7, 123) * 1000 + 456;

// Through the wire, as observe gets them: decodeBatch makes uint64s numbers and kernel times exact bigints.
const ev = (p: Partial<ConnEventInit>): ConnEvent =>
  decodeBatch(encodeBatch({ node: "n", bootId: "b", agentStartUs: 1 }, [{ seq: 1, timeUs: T_US, tsNs: 5_000_000_000n, ...p }]))
    .events[0]!;

const resetSent = ev({
  kind: EventKind.EVENT_KIND_RESET_SENT,
  pod: "pod-a",
  sock: "ffff888012345678",
  local: { ip: "10.88.0.3", port: 8080 },
  remote: { ip: "10.88.0.2", port: 41234 },
  resetReason: ResetReason.RESET_REASON_NO_SOCKET,
  owner: { pid: 1234, tid: 1234, comm: "haproxy" },
  uid: 1337,
  role: Role.ROLE_SIDECAR,
  leg: SidecarLeg.SIDECAR_LEG_UPSTREAM,
});

// --since is the common time grammar (test/timefmt/grammar.test.ts); its flag is tested below.
describe("replayStart", () => {
  const now = 1_000_000;
  it("defaults to the last minute, everything with --last, only new events with --follow", () => {
    expect(replayStart({}, now)?.getTime()).toBe(now - 60_000);
    expect(replayStart({ last: 5 }, now)?.getTime()).toBe(0);
    expect(replayStart({ follow: true }, now)).toBeUndefined();
    expect(replayStart({ follow: true, since: new Date(5) }, now)?.getTime()).toBe(5);
  });
});

describe("filters", () => {
  const appConnect = ev({
    kind: EventKind.EVENT_KIND_SYSCALL_CONNECT,
    pod: "pod-b",
    local: { ip: "10.88.0.2", port: 50000 },
    remote: { ip: "10.88.0.3", port: 8080 },
    target: { ip: "10.96.0.10", port: 80 },
    role: Role.ROLE_APP,
  });
  it("matches on node, pod, ip (local/remote/target), port, role and kind", () => {
    const m = (flags: Parameters<typeof buildFilter>[0], node = "n1", e = resetSent) => matchEvent(buildFilter(flags), node, e);
    expect(m({})).toBe(true);
    expect(m({ node: ["n1"] })).toBe(true);
    expect(m({ node: ["n2"] })).toBe(false);
    expect(m({ pod: ["pod-x", "pod-a"] })).toBe(true);
    expect(m({ pod: ["pod-x"] })).toBe(false);
    expect(m({ ip: ["10.88.0.2"] })).toBe(true);
    expect(m({ ip: ["10.96.0.10"] }, "n1", appConnect)).toBe(true);
    expect(m({ ip: ["10.96.0.10"] })).toBe(false);
    expect(m({ port: ["80"] }, "n1", appConnect)).toBe(true);
    expect(m({ port: ["41234"] })).toBe(true);
    expect(m({ port: ["9090"] })).toBe(false);
    expect(m({ role: ["sidecar"] })).toBe(true);
    expect(m({ role: ["app"] })).toBe(false);
    expect(m({ kind: ["reset-sent"] })).toBe(true);
    expect(m({ kind: ["RESET_SENT"] })).toBe(true);
    expect(m({ kind: ["state-change", "syscall-connect"] })).toBe(false);
    expect(m({ kind: ["syscall-connect"], role: ["app"], pod: ["pod-b"] }, "n1", appConnect)).toBe(true);
    expect(m({ kind: ["syscall-connect"], role: ["sidecar"] }, "n1", appConnect)).toBe(false);
  });
  it.each([
    [{ ip: ["10.0.0"] }, "--ip"],
    [{ port: ["0"] }, "--port"],
    [{ port: ["http"] }, "--port"],
    [{ role: ["proxy"] }, "--role"],
    [{ kind: ["reset"] }, "--kind"],
    [{ kind: ["unspecified"] }, "--kind"],
  ])("rejects %j", (flags, flag) => {
    let err: unknown;
    try {
      buildFilter(flags);
    } catch (e) {
      err = e;
    }
    expect(isInvalidFilterError(err)).toBe(true);
    expect((err as Error).message).toContain(flag);
    // An InvalidArgumentError naming the flag: the CLI's usage rule (exit 2) needs nothing more.
    expect(isInvalidArgumentError(err) && err.property).toBe(flag);
  });
});

describe("formatting", () => {
  it("prints the compact line of a RESET_SENT", () => {
    expect(formatCompact("node", resetSent, { utc: true })).toBe(
      "23:41:07.123456 node/pod-a RESET_SENT 10.88.0.3:8080 -> 10.88.0.2:41234 reason=NO_SOCKET owner=haproxy(1234) uid=1337 role=SIDECAR/UPSTREAM",
    );
  });
  it("prints state changes, syscalls and gaps with their own details", () => {
    const state = ev({
      kind: EventKind.EVENT_KIND_STATE_CHANGE,
      local: { ip: "::1", port: 80 },
      remote: { ip: "::1", port: 5555 },
      oldState: TcpState.TCP_STATE_ESTABLISHED,
      newState: TcpState.TCP_STATE_FIN_WAIT1,
      role: Role.ROLE_APP,
    });
    expect(formatCompact("n", state, { utc: true })).toBe(
      "23:41:07.123456 n/- STATE_CHANGE [::1]:80 -> [::1]:5555 state=ESTABLISHED->FIN_WAIT1 uid=0 role=APP",
    );
    const connect = ev({
      kind: EventKind.EVENT_KIND_SYSCALL_CONNECT,
      pod: "p",
      local: { ip: "10.0.0.1", port: 1 },
      remote: { ip: "10.0.0.2", port: 2 },
      target: { ip: "10.0.0.2", port: 2 },
      fd: 3,
      ret: -111,
      process: { pid: 10, tid: 11, comm: "curl" },
      uid: 1000,
    });
    expect(formatCompact("n", connect, { utc: true })).toBe(
      "23:41:07.123456 n/p SYSCALL_CONNECT 10.0.0.1:1 -> 10.0.0.2:2 target=10.0.0.2:2 fd=3 ret=-111 process=curl(10/11) uid=1000",
    );
    const gap = ev({ kind: EventKind.EVENT_KIND_GAP, lost: 42, gapReason: "queue_full", gapStartNs: 4_000_000_000n });
    expect(formatCompact("n", gap, { utc: true })).toBe("23:41:07.123456 n/- GAP lost=42 reason=queue_full span=1000.000ms");
  });
  it("formats the wall clock with microseconds", () => {
    expect(formatClock(T_US)).toBe("23:41:07.123456");
    expect(formatClock(Date.UTC(2025, 0, 1) * 1000 + 7)).toBe("00:00:00.000007");
  });
  it("prints JSON with snake_case fields, short enum names and the node (the query API's event shape)", () => {
    const j = toJsonRecord("node-1", resetSent);
    expect(j).toMatchObject({
      node: "node-1",
      seq: 1,
      kind: "RESET_SENT",
      ts_ns: "5000000000",
      time_us: T_US,
      sock: "ffff888012345678",
      local: "10.88.0.3:8080",
      remote: "10.88.0.2:41234",
      old_state: null,
      new_state: null,
      reset_reason: "NO_SOCKET",
      role: "SIDECAR",
      leg: "UPSTREAM",
      owner: { pid: 1234, tid: 1234, comm: "haproxy" },
      process: null,
      target: null,
      ret: null,
      gap_start_ns: null,
    });
    expect(j.time).toMatch(/^2025-11-21T23:41:07\.123456/);
    for (const k of Object.keys(j)) expect(k).toMatch(/^[a-z0-9_]+$/);
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });
});

describe("tcptrail observe flags", () => {
  const run = async (args: string[]): Promise<CommanderError> => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerObserve(program);
    program.commands.forEach((c) => c.exitOverride());
    try {
      await program.parseAsync(["node", "tcptrail", "observe", ...args]);
    } catch (e) {
      return e as CommanderError;
    }
    throw new Error("expected a usage error");
  };
  it.each([
    [["--since", "5 minutes"], "--since"],
    [["--since", "2026-13-01T00:00:00Z"], "--since"],
    [["--since", "2026-02-31T00:00:00Z"], "February 2026 has 28 days"],
    [["-o", "table"], "compact, json"],
    [["--kind", "bogus"], "--kind"],
    [["--role", "proxy"], "--role"],
    [["--last", "0"], "--last"],
  ])("%j exits with code 2 and says what is wrong", async (args, flag) => {
    const err = await run(args);
    expect(err).toBeInstanceOf(CommanderError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(flag);
  });
});
