import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { LineParser, normalizeIp, type ParsedEvent } from "../../src/probes/mod.js";
import { EventKind, ResetReason } from "../../src/model/mod.js";

function parseAll(lines: string[]) {
  const events: ParsedEvent[] = [];
  const malformed: string[] = [];
  const lost: number[] = [];
  const begins: bigint[] = [];
  const p = new LineParser({
    onEvent: (e) => events.push(e),
    onLost: (n) => lost.push(n),
    onBegin: (ts) => begins.push(ts),
    onMalformed: (line) => malformed.push(line),
  });
  for (const l of lines) p.parse(l);
  return { events, malformed, lost, begins, parser: p };
}

describe("line parser", () => {
  test("every line shape", () => {
    const { events, malformed, begins } = parseAll([
      "B 556489125975",
      "O 602257263783 ffff888105959bc0 7 10 4 127.0.0.1 48467 0.0.0.0 0 4026531833 1337 1024 0 0",
      "S 602257349723 ffff888105959bc0 1 8",
      "E 602257349724 ffff888105959bc0 9 902",
      "R 602308632220 0 0 1 4 127.0.0.1 9 127.0.0.1 46106 4026531833",
      "R 602309385619 0 0 1 6 0000:0000:0000:0000:0000:0000:0000:0001 9 0000:0000:0000:0000:0000:0000:0000:0001 36826 4026531833",
      "K 602308659011 ffff88810595ca00 1",
      "C 602257418693 ffff888105959bc0 7520 7521 -111 4 4 10.88.0.3 8080 7 0 0 0 4 0.0.0.0 0 10.88.0.3 0 4026531833 0 python3",
      "A 602257418694 ffff888105959bc1 7520 7520 5 1 0 0 0 4 10.0.0.1 80 10.0.0.2 4000 4026531833 0 haproxy",
      "X 602257418695 ffff888105959bc1 7520 7520 5 Web Content",
      "H 602257418696 ffff888105959bc1 7520 7520 5 1 node",
      "D 602257418697 ffff888105959bc1 7520 7522 5 4 10.88.0.3 8080 haproxy",
      "O 602309071139 ffff88810b51ce00 7 10 6 ::ffff:10.0.0.1 59317 ::1 37838 4026531833 0 1024 0 0",
    ]);
    expect(malformed).toEqual([]);
    expect(begins).toEqual([556489125975n]);
    expect(events.map((e) => e.kind)).toEqual([
      EventKind.EVENT_KIND_STATE_CHANGE,
      EventKind.EVENT_KIND_STATE_CHANGE,
      EventKind.EVENT_KIND_STATE_CHANGE,
      EventKind.EVENT_KIND_RESET_SENT,
      EventKind.EVENT_KIND_RESET_SENT,
      EventKind.EVENT_KIND_RETRANSMIT,
      EventKind.EVENT_KIND_SYSCALL_CONNECT,
      EventKind.EVENT_KIND_SYSCALL_ACCEPT,
      EventKind.EVENT_KIND_SYSCALL_CLOSE,
      EventKind.EVENT_KIND_SYSCALL_SHUTDOWN,
      EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST,
      EventKind.EVENT_KIND_STATE_CHANGE,
    ]);
    const [open, next, end, rst4, rst6, , conn, acc, close, shut, odst, mapped] = events as ParsedEvent[] & { length: 12 };
    expect(open).toMatchObject({ sock: "ffff888105959bc0", oldState: 7, newState: 10, family: 4, uid: 1337, netns: 4026531833, hasTuple: true });
    expect(open!.local).toEqual({ ip: "127.0.0.1", port: 48467 });
    expect(next).toMatchObject({ oldState: 1, newState: 8, hasTuple: false });
    expect(next!.local).toBeUndefined();
    expect(end).toMatchObject({ oldState: 9, newState: 7, hasTuple: false });
    expect(rst4).toMatchObject({ sock: "", resetReason: ResetReason.RESET_REASON_NO_SOCKET, local: { ip: "127.0.0.1", port: 9 } });
    expect(rst6!.local).toEqual({ ip: "::1", port: 9 });
    expect(rst6!.remote).toEqual({ ip: "::1", port: 36826 });
    // bits 0: the lines announce nothing (already announced, or CLOSE again), so they are their syscall only.
    expect(conn).toMatchObject({ ret: -111, fd: 4, target: { ip: "10.88.0.3", port: 8080 }, process: { pid: 7520, tid: 7521, comm: "python3" }, hasTuple: false });
    expect(acc).toMatchObject({ fd: 5, process: { comm: "haproxy" }, hasTuple: false });
    expect(close!.process!.comm).toBe("Web Content");
    expect(shut!.shutdownHow).toBe(1);
    expect(odst).toMatchObject({ target: { ip: "10.88.0.3", port: 8080 }, process: { tid: 7522 } });
    expect(mapped!.local).toEqual({ ip: "10.0.0.1", port: 59317 });
  });

  // What the probe folds (probes/README.md): the parser hands on the events the
  // stitcher knows, in the order they happened, each line's own event last at
  // the line's ts and the folded ones a nanosecond apart before it.
  describe("folded lines become the events they stand for", () => {
    const states = (evs: ParsedEvent[]) => evs.map((e) => (e.kind === EventKind.EVENT_KIND_STATE_CHANGE ? `${e.oldState}>${e.newState}` : EventKind[e.kind]!.replace("EVENT_KIND_", "")));

    test("a blocking connect: CLOSE>SYN_SENT (with the tuple), SYN_SENT>ESTABLISHED, then the syscall", () => {
      const { events, malformed } = parseAll(["C 1000 ffff1 7 8 0 4 4 10.0.0.2 8080 1 6 900 950 4 10.0.0.1 40000 10.0.0.2 8080 4026531833 1337 curl"]);
      expect(malformed).toEqual([]);
      expect(states(events)).toEqual(["7>2", "2>1", "SYSCALL_CONNECT"]);
      // The birth and the handshake keep the times the probe noted for them.
      expect(events.map((e) => e.tsNs)).toEqual([900n, 950n, 1000n]);
      expect(events[0]).toMatchObject({ hasTuple: true, family: 4, local: { ip: "10.0.0.1", port: 40000 }, remote: { ip: "10.0.0.2", port: 8080 }, netns: 4026531833, uid: 1337 });
      expect(events[1]!.hasTuple).toBe(false);
      expect(events[2]).toMatchObject({ ret: 0, fd: 4, target: { ip: "10.0.0.2", port: 8080 }, process: { pid: 7, tid: 8, comm: "curl" } });
    });

    test("a non-blocking connect returns in SYN_SENT: only the birth is replayed", () => {
      const { events } = parseAll(["C 1000 ffff1 7 8 -115 4 6 ::1 8080 2 4 900 0 6 ::1 40000 ::1 8080 1 0 envoy"]);
      expect(states(events)).toEqual(["7>2", "SYSCALL_CONNECT"]);
      expect(events[0]).toMatchObject({ tsNs: 900n, local: { ip: "::1", port: 40000 } });
    });

    test("an accepted child: LISTEN>SYN_RECV (with the tuple), SYN_RECV>ESTABLISHED, then accept", () => {
      const { events } = parseAll(["A 2000 ffff2 9 9 5 1 10 1500 1600 4 10.0.0.2 8080 10.0.0.1 40000 4026531833 0 nginx: worker"]);
      expect(states(events)).toEqual(["10>3", "3>1", "SYSCALL_ACCEPT"]);
      // Born when the handshake came in, not when accept() returned: it pairs with its dialer by birth.
      expect(events.map((e) => e.tsNs)).toEqual([1500n, 1600n, 2000n]);
      expect(events[0]).toMatchObject({ local: { ip: "10.0.0.2", port: 8080 }, remote: { ip: "10.0.0.1", port: 40000 } });
      expect(events[2]!.process).toEqual({ pid: 9, tid: 9, comm: "nginx: worker" });
    });

    test("a child never accepted is announced by its first printed transition, its opening replayed", () => {
      // The client's FIN came before accept(): bits 10|1|8 = SYN_RECV, ESTABLISHED, CLOSE_WAIT.
      const { events } = parseAll(["O 3000 ffff3 1 8 4 10.0.0.2 8080 10.0.0.1 40000 1 0 266 2000 2100"]);
      expect(states(events)).toEqual(["10>3", "3>1", "1>8"]);
      expect(events[0]).toMatchObject({ hasTuple: true, local: { ip: "10.0.0.2", port: 8080 } });
      expect(events.map((e) => e.tsNs)).toEqual([2000n, 2100n, 3000n]);
      expect(events[2]).toMatchObject({ hasTuple: false });
    });

    test("a close() that sends a FIN: the close first, then the transition", () => {
      const { events } = parseAll(["Y 4000 ffff1 1 4 26 7 8 4 my app"]);
      expect(states(events)).toEqual(["SYSCALL_CLOSE", "1>4"]);
      expect(events.map((e) => e.tsNs)).toEqual([3999n, 4000n]);
      expect(events[0]).toMatchObject({ fd: 4, process: { pid: 7, tid: 8, comm: "my app" } });
    });

    test("a received RST and the ->CLOSE it causes", () => {
      const { events } = parseAll(["r 5000 ffff1 4 10.0.0.1 40000 10.0.0.2 8080 1 0 1 134 0 0 0"]);
      expect(states(events)).toEqual(["RESET_RECEIVED", "1>7"]);
      expect(events.map((e) => e.tsNs)).toEqual([4999n, 5000n]);
      expect(events[0]).toMatchObject({ hasTuple: true, local: { ip: "10.0.0.1", port: 40000 }, netns: 1 });
    });

    test("a connect refused inside the syscall: the RST line announces the socket", () => {
      const { events } = parseAll([
        "r 6000 ffff1 4 127.0.0.1 50000 127.0.0.1 9 1 0 2 132 1 0 0",
        "C 6001 ffff1 7 7 -111 4 4 127.0.0.1 9 7 0 0 0 4 0.0.0.0 0 127.0.0.1 0 1 0 python3",
      ]);
      expect(states(events)).toEqual(["7>2", "RESET_RECEIVED", "2>7", "SYSCALL_CONNECT"]);
      expect(events.map((e) => e.tsNs)).toEqual([5998n, 5999n, 6000n, 6001n]);
      expect(events[0]).toMatchObject({ hasTuple: true, local: { ip: "127.0.0.1", port: 50000 }, uid: 0 });
    });

    test("noted times that are missing or out of order become a nanosecond before the next event", () => {
      const { events } = parseAll([
        // est before born, born after the line: neither can be right.
        "C 1000 ffff1 7 8 0 4 4 10.0.0.2 8080 1 6 1200 800 4 10.0.0.1 40000 10.0.0.2 8080 1 0 curl",
        "A 2000 ffff2 9 9 5 1 10 1500 1400 4 10.0.0.2 8080 10.0.0.1 40000 1 0 nginx",
      ]);
      expect(events.map((e) => e.tsNs)).toEqual([998n, 999n, 1000n, 1500n, 1999n, 2000n]);
    });

    test("a listener's first line has no birth to replay", () => {
      const { events } = parseAll(["O 7000 ffff4 7 10 4 0.0.0.0 80 0.0.0.0 0 1 0 1024 0 0"]);
      expect(states(events)).toEqual(["7>10"]);
      expect(events[0]!.hasTuple).toBe(true);
    });

    test("a folded line with a bad field is one malformed line and no events", () => {
      const bad = [
        "C 1000 ffff1 7 8 0 4 4 10.0.0.2 8080 1 6 0 0 4 not-an-ip 40000 10.0.0.2 8080 1 0 curl",
        "A 2000 ffff2 9 9 5 1 x 0 0 4 10.0.0.2 8080 10.0.0.1 40000 1 0 nginx",
        "Y 4000 ffff1 1 4 -1 7 8 4 app",
        "r 5000 ffff1 4 10.0.0.1 40000 10.0.0.2 8080 1 0 1 134 2 0 0",
        "E 1 ffff1 9",
        "O 3000 ffff3 1 8 4 10.0.0.2 8080 10.0.0.1 40000 1 0",
      ];
      const { events, malformed } = parseAll(bad);
      expect(events).toEqual([]);
      expect(malformed).toEqual(bad);
    });
  });

  describe("socket links (L): a sidecar thread's send after its read", () => {
    // Recorded from the real probe (bpftrace 0.23, a pooled proxy as UID 61337):
    // A's request over the upstream, its answer back, then B's on the same upstream.
    const recorded = [
      "L 20829435819777 ffff888149585c80 ffff8881495865c0 21717 21717 1 python3",
      "L 20829435870793 ffff8881495865c0 ffff888149585c80 21717 21717 1 python3",
      "L 20829436157378 ffff888149585c80 ffff8881495840c0 21717 21717 1 python3",
      "L 20829436229836 ffff8881495840c0 ffff888149585c80 21717 21717 1 python3",
    ];

    test("become SOCKET_LINK events: the socket sent on, the one read from, the thread, the source count", () => {
      const { events, malformed } = parseAll([...recorded, "L 20829436229999 ffff1 ffff2 900 901 3 envoy worker 1", "L 20829436230000 ffff1 ffff3 900 901 0 envoy"]);
      expect(malformed).toEqual([]);
      expect(events.map((e) => e.kind)).toEqual(Array(6).fill(EventKind.EVENT_KIND_SOCKET_LINK));
      expect(events.map((e) => [e.sock, e.linkedSock])).toEqual([
        ["ffff888149585c80", "ffff8881495865c0"],
        ["ffff8881495865c0", "ffff888149585c80"],
        ["ffff888149585c80", "ffff8881495840c0"],
        ["ffff8881495840c0", "ffff888149585c80"],
        ["ffff1", "ffff2"],
        ["ffff1", "ffff3"],
      ]);
      expect(events[0]).toMatchObject({ tsNs: 20829435819777n, linkSources: 1, process: { pid: 21717, tid: 21717, comm: "python3" }, hasTuple: false });
      // comm keeps its spaces; an interleaving event loop says how many sources it read.
      expect(events[4]).toMatchObject({ linkSources: 3, process: { pid: 900, tid: 901, comm: "envoy worker 1" } });
      expect(events[5]!.linkSources).toBe(0);
      expect(events[0]!.local).toBeUndefined();
    });

    test("a link to no socket, to itself, or with a bad field is malformed", () => {
      const bad = [
        "L 1 ffff1 0 900 901 1 envoy",
        "L 1 0 ffff1 900 901 1 envoy",
        "L 1 ffff1 ffff1 900 901 1 envoy",
        "L 1 ffff1 zz 900 901 1 envoy",
        "L 1 ffff1 ffff2 900 901 -1 envoy",
        "L 1 ffff1 ffff2 x 901 1 envoy",
        "L 1 ffff1 ffff2 900 901 1",
      ];
      const { events, malformed } = parseAll(bad);
      expect(events).toEqual([]);
      expect(malformed).toEqual(bad);
    });
  });

  test("malformed lines are counted and never throw", () => {
    const bad = [
      "garbage",
      "O 1 2 3",
      "S notanumber ffff 1 2",
      "S 1 zzzz 1 2",
      "O 602257263783 ffff888105959bc0 7 2 5 127.0.0.1 0 127.0.0.1 48467 4026531833 0 4 0 0",
      "O 602257263783 ffff888105959bc0 7 2 4 127.0.0.1 99999 127.0.0.1 48467 4026531833 0 4 0 0",
      "O 602257263783 ffff888105959bc0 7 2 4 not-an-ip 1 127.0.0.1 48467 4026531833 0 4 0 0",
      "C 1 ffff 1 1 x 4 4 1.2.3.4 80 7 0 0 0 4 0.0.0.0 0 1.2.3.4 0 1 0 curl",
      "R 1 0 0 -1 4 1.2.3.4 1 1.2.3.4 2 3",
      "Lost many events",
      "\u0000\u0001\u0002",
      "K 1 ffff",
      // Kernel times past a u64, signed or not decimal: no clock can print them.
      "S 18446744073709551616 ffff 1 2",
      "S -5 ffff 1 2",
      "S 1e9 ffff 1 2",
      "B 18446744073709551616",
    ];
    const { events, malformed, parser } = parseAll(bad);
    expect(events).toEqual([]);
    expect(malformed).toEqual(bad);
    expect(parser.malformed).toBe(bad.length);
  });

  test("kernel times are exact past 2^53 ns (104 days of uptime) up to u64 max", () => {
    const { events, begins, malformed } = parseAll([
      "B 9100000000000000000",
      "O 9007199254740993 ffff888105959bc0 7 10 4 127.0.0.1 0 127.0.0.1 48467 4026531833 1337 1024 0 0",
      "S 9007199254740994 ffff888105959bc0 2 1",
      "C 9100000000000000001 ffff888105959bc0 7520 7521 0 4 4 10.88.0.3 8080 1 0 0 0 4 10.0.0.1 1 10.88.0.3 8080 1 0 curl",
      "K 18446744073709551615 ffff888105959bc0 1",
    ]);
    expect(malformed).toEqual([]);
    expect(begins).toEqual([9_100_000_000_000_000_000n]);
    // Number() would give 9007199254740992 for both of the first two, and drop the 1 of the third.
    expect(events.map((e) => e.tsNs)).toEqual([9_007_199_254_740_993n, 9_007_199_254_740_994n, 9_100_000_000_000_000_001n, 18_446_744_073_709_551_615n]);
  });

  test("lost events and bpftrace chatter", () => {
    const { lost, events, malformed } = parseAll(["Attaching 14 probes...", "Lost 1234 events", ""]);
    expect(lost).toEqual([1234]);
    expect(events).toEqual([]);
    expect(malformed).toEqual([]);
  });

  test("a process exit (P) goes to onProcessExit, is no event, and a bad one is malformed", () => {
    const exits: [number, bigint][] = [];
    const events: ParsedEvent[] = [];
    const malformed: string[] = [];
    const p = new LineParser({ onEvent: (e) => events.push(e), onProcessExit: (pid, ts) => exits.push([pid, ts]), onMalformed: (l) => malformed.push(l) });
    for (const l of ["P 602257418699 7520", "P 602257418700", "P x 7520"]) p.parse(l);
    expect(exits).toEqual([[7520, 602257418699n]]);
    expect(events).toEqual([]);
    expect(malformed).toEqual(["P 602257418700", "P x 7520"]);
  });

  test("a recorded run of the real probe parses without errors", () => {
    const lines = readFileSync(new URL("./fixtures/loopback-basics.txt", import.meta.url), "utf8").split("\n");
    const { events, malformed } = parseAll(lines);
    expect(malformed).toEqual([]);
    // connect refused on IPv4 and IPv6: the kernel's NO_SOCKET reset and the client's ECONNREFUSED.
    const noSocket = events.filter((e) => e.kind === EventKind.EVENT_KIND_RESET_SENT && e.resetReason === ResetReason.RESET_REASON_NO_SOCKET);
    expect(noSocket.map((e) => e.local!.ip).sort()).toEqual(["127.0.0.1", "::1"]);
    expect(events.filter((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_CONNECT && e.ret === -111)).toHaveLength(2);
  });

  test("normalizeIp", () => {
    expect(normalizeIp("::ffff:127.0.0.6")).toBe("127.0.0.6");
    expect(normalizeIp("fe80:0000:0000:0000:0000:0000:0000:0001")).toBe("fe80::1");
    expect(normalizeIp("0000:0000:0000:0000:0000:ffff:0a58:0002")).toBe("10.88.0.2");
    expect(normalizeIp("2001:db8::1")).toBe("2001:db8::1");
    expect(normalizeIp("hello")).toBe("");
  });
});
