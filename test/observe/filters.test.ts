// issue 13 part 5: observe's hubble filters on real decoded events, from real
// command lines (commander): --tcp-flags, --from-pod/--to-pod, --pod for
// either end, and --not, which negates only the filter flag right after it.
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerObserve } from "../../src/cli/commands/observe.js";
import { isUsageError } from "../../src/cli/errors.js";
import { addObserveFilterFlags } from "../../src/cli/observe-filters.js";
import { EventKind, Role, TcpState, type ConnEvent, type ConnEventInit } from "../../src/model/mod.js";
import { PodAddresses, buildFilter, isInvalidFilterError, matchEvent, tcpFlagOf } from "../../src/observe/mod.js";
import { decodeBatch, encodeBatch } from "../../src/transport/mod.js";

// Through the wire, as observe gets them.
const decoded = (events: Partial<ConnEventInit>[]): ConnEvent[] =>
  decodeBatch(encodeBatch({ node: "n1", bootId: "b", agentStartUs: 1 }, events.map((e, i) => ({ seq: i + 1, timeUs: 1_000 + i, tsNs: 5_000_000_000n + BigInt(i), ...e })))).events;

const A = "10.1.2.3";
const B = "10.1.2.4";
const state = (pod: string, local: [string, number], remote: [string, number], from: TcpState, to: TcpState): Partial<ConnEventInit> => ({
  kind: EventKind.EVENT_KIND_STATE_CHANGE,
  pod,
  local: { ip: local[0], port: local[1] },
  remote: { ip: remote[0], port: remote[1] },
  oldState: from,
  newState: to,
  role: Role.ROLE_APP,
});
const S = TcpState;
// A client in pod "front" talks to pod "back"; back resets; a sidecar in front talks over loopback.
const [synSent, synRecv, established, finWait1, closeWait, lastAck, timeWait, closingAck, rstSent, rstRecv, retrans, connect, accept, close, loopback] = decoded([
  state("front", [A, 40000], [B, 9000], S.TCP_STATE_CLOSE, S.TCP_STATE_SYN_SENT),
  state("back", [B, 9000], [A, 40000], S.TCP_STATE_LISTEN, S.TCP_STATE_SYN_RECV),
  state("front", [A, 40000], [B, 9000], S.TCP_STATE_SYN_SENT, S.TCP_STATE_ESTABLISHED),
  state("front", [A, 40000], [B, 9000], S.TCP_STATE_ESTABLISHED, S.TCP_STATE_FIN_WAIT1),
  state("back", [B, 9000], [A, 40000], S.TCP_STATE_ESTABLISHED, S.TCP_STATE_CLOSE_WAIT),
  state("back", [B, 9000], [A, 40000], S.TCP_STATE_CLOSE_WAIT, S.TCP_STATE_LAST_ACK),
  state("front", [A, 40000], [B, 9000], S.TCP_STATE_FIN_WAIT2, S.TCP_STATE_TIME_WAIT),
  state("front", [A, 40000], [B, 9000], S.TCP_STATE_CLOSING, S.TCP_STATE_TIME_WAIT),
  { kind: EventKind.EVENT_KIND_RESET_SENT, pod: "back", local: { ip: B, port: 9000 }, remote: { ip: A, port: 40001 } },
  { kind: EventKind.EVENT_KIND_RESET_RECEIVED, pod: "front", local: { ip: A, port: 40001 }, remote: { ip: B, port: 9000 } },
  { kind: EventKind.EVENT_KIND_RETRANSMIT, pod: "front", local: { ip: A, port: 40001 }, remote: { ip: B, port: 9000 } },
  { kind: EventKind.EVENT_KIND_SYSCALL_CONNECT, pod: "front", local: { ip: A, port: 40002 }, remote: { ip: B, port: 9000 } },
  { kind: EventKind.EVENT_KIND_SYSCALL_ACCEPT, pod: "back", local: { ip: B, port: 9000 }, remote: { ip: A, port: 40002 } },
  { kind: EventKind.EVENT_KIND_SYSCALL_CLOSE, pod: "front", local: { ip: A, port: 40002 }, remote: { ip: B, port: 9000 } },
  state("front", ["127.0.0.1", 15001], ["127.0.0.1", 50000], S.TCP_STATE_LISTEN, S.TCP_STATE_SYN_RECV),
]);
const all = [synSent, synRecv, established, finWait1, closeWait, lastAck, timeWait, closingAck, rstSent, rstRecv, retrans, connect, accept, close, loopback] as ConnEvent[];

/** The events a command line shows, with the address book learned from all of them first. */
function shown(argv: string[]): ConnEvent[] {
  const cmd = new Command().exitOverride();
  const read = addObserveFilterFlags(cmd);
  cmd.parse(argv, { from: "user" });
  const filter = buildFilter(read());
  const book = new PodAddresses();
  for (const e of all) book.learn(e);
  return all.filter((e) => matchEvent(filter, "n1", e, (ev) => book.remotePod(ev)));
}

describe("--tcp-flags", () => {
  it("reads SYN from openings, FIN from FIN-carrying state changes, RST from resets, and nothing from the rest", () => {
    expect(all.map((e) => tcpFlagOf(e) ?? "-")).toEqual(
      ["SYN", "SYN", "-", "FIN", "FIN", "FIN", "FIN", "-", "RST", "RST", "-", "SYN", "SYN", "-", "SYN"],
    );
  });

  it("filters by one flag, a comma list (any of them) and the flag repeated alike", () => {
    expect(shown(["--tcp-flags", "RST"])).toEqual([rstSent, rstRecv]);
    expect(shown(["--tcp-flags", "fin,rst"])).toEqual([finWait1, closeWait, lastAck, timeWait, rstSent, rstRecv]);
    expect(shown(["--tcp-flags", "FIN", "--tcp-flags", "RST"])).toEqual(shown(["--tcp-flags", "FIN,RST"]));
  });

  it("refuses a flag it cannot read from the kernel's events", () => {
    const err = (() => {
      try {
        return shown(["--tcp-flags", "SYN,ACK"]);
      } catch (e) {
        return e;
      }
    })();
    expect(isInvalidFilterError(err) && (err as Error).message).toBe('invalid --tcp-flags "SYN,ACK": expected one or more of SYN,FIN,RST');
  });
});

describe("--from-pod, --to-pod, --pod", () => {
  it("match the local end, the remote end (by the address's pod; loopback is the same pod), and either", () => {
    expect(shown(["--from-pod", "back"])).toEqual([synRecv, closeWait, lastAck, rstSent, accept]);
    expect(shown(["--to-pod", "back"])).toEqual([synSent, established, finWait1, timeWait, closingAck, rstRecv, retrans, connect, close]);
    expect(shown(["--to-pod", "front"])).toEqual([synRecv, closeWait, lastAck, rstSent, accept, loopback]);
    expect(shown(["--pod", "back"])).toHaveLength(all.length - 1);
    expect(shown(["--from-pod", "front", "--to-pod", "back", "--tcp-flags", "RST"])).toEqual([rstRecv]);
  });

  it("know no pod for an address nobody's socket has had", () => {
    const book = new PodAddresses();
    book.learn(synSent!);
    expect(book.remotePod(synSent!)).toBeUndefined();
    book.learn(synRecv!);
    expect(book.remotePod(synSent!)).toBe("back");
    expect(book.remotePod(loopback!)).toBe("front");
  });

  it("forget the least recently seen addresses beyond the bound", () => {
    const book = new PodAddresses(1);
    book.learn(synSent!);
    book.learn(synRecv!);
    expect(book.remotePod(synRecv!)).toBeUndefined();
    expect(book.remotePod(synSent!)).toBe("back");
  });
});

describe("--not", () => {
  it("negates only the next filter flag, so its place on the command line matters", () => {
    // Resets, except those of pod back.
    expect(shown(["--tcp-flags", "RST", "--not", "--from-pod", "back"])).toEqual([rstRecv]);
    // Pod back's events that are not resets.
    expect(shown(["--not", "--tcp-flags", "RST", "--from-pod", "back"])).toEqual([synRecv, closeWait, lastAck, accept]);
  });

  it("combines negated flags like hubble's blacklist: hides what matches all of them", () => {
    expect(shown(["--not", "--from-pod", "back", "--not", "--tcp-flags", "FIN"])).toEqual(all.filter((e) => e !== closeWait && e !== lastAck));
    // The same flag negated twice is one OR: both pods' events are hidden.
    expect(shown(["--not", "--from-pod", "back", "--not", "--from-pod", "front"])).toEqual([]);
  });

  it("must be followed by a filter flag", () => {
    for (const argv of [["--pod", "a", "--not"], ["--not", "--not", "--pod", "a"]]) {
      const cmd = new Command().exitOverride();
      const read = addObserveFilterFlags(cmd);
      cmd.parse(argv, { from: "user" });
      expect(() => read(), argv.join(" ")).toThrow(/^--not must be followed by a filter flag/);
      let err: unknown;
      try {
        read();
      } catch (e) {
        err = e;
      }
      // A reader starts over after each read: the second one of the same parse sees nothing.
      expect(err).toBeUndefined();
    }
    const cmd = new Command().exitOverride();
    const read = addObserveFilterFlags(cmd);
    cmd.parse(["--not"], { from: "user" });
    expect(() => read()).toSatisfy((f: () => unknown) => {
      try {
        f();
        return false;
      } catch (e) {
        return isUsageError(e);
      }
    });
  });

  it("is one of observe's flags, with every filter repeatable", () => {
    const program = new Command();
    registerObserve(program);
    const observe = program.commands.find((c) => c.name() === "observe")!;
    const longs = observe.options.map((o) => o.long);
    for (const f of ["--not", "--node", "--pod", "--from-pod", "--to-pod", "--ip", "--port", "--role", "--kind", "--tcp-flags"]) expect(longs).toContain(f);
  });
});
