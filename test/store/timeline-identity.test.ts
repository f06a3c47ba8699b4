// issue 12 part 7: a trace's timeline is exactly its sockets' events, found by
// socket identity. Under churn a client address is reused within a second and
// every connecting socket's first event reads ip:0 (the kernel picks the port
// after CLOSE → SYN_SENT), so no address guess may pull in a neighbour's events.
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { v1, Outcome, ResetReason, Role, TcpState, type Trace } from "../../src/model/mod.js";
import { SqliteTraceStore, type EventSource } from "../../src/store/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { A, B, NODE, resetSent, stateEvent } from "./fixtures.js";

const S = TcpState;
const source: EventSource = { node: NODE, bootId: "boot-1", agentStartUs: 1_700_000_000_000_000 };
const T0_NS = 7_000_000_000_000; // kernel ns; wall µs = ns / 1000 in the fixtures
const CLIENT_PORT = 40_000;
const SERVER: [string, number] = [B, 8080];

let tmp: TempDir;
let store: SqliteTraceStore;
beforeEach(async () => {
  tmp = await makeTempDir("timeline-identity");
  store = new SqliteTraceStore({ path: join(tmp.path, "tcptrail.db") });
});
afterEach(async () => {
  try {
    await store.close();
  } finally {
    await tmp.remove();
  }
});

/** One connection A:port → B:8080 born at `t` ns: client and server socket, 3 events each, server resets. */
function connection(csock: string, ssock: string, t: number, port: number) {
  const cli: [string, number] = [A, port];
  return {
    client: `${NODE}/${csock}/${t}`,
    server: `${NODE}/${ssock}/${t + 40_000}`,
    events: [
      // As the kernel reports it: no local port yet when the SYN_SENT state is set.
      stateEvent({ sock: csock, tNs: t, local: [A, 0], remote: SERVER, from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
      stateEvent({ sock: ssock, tNs: t + 40_000, local: SERVER, remote: cli, from: S.TCP_STATE_LISTEN, to: S.TCP_STATE_SYN_RECV }),
      stateEvent({ sock: csock, tNs: t + 80_000, local: cli, remote: SERVER, from: S.TCP_STATE_SYN_SENT, to: S.TCP_STATE_ESTABLISHED }),
      stateEvent({ sock: ssock, tNs: t + 90_000, local: SERVER, remote: cli, from: S.TCP_STATE_SYN_RECV, to: S.TCP_STATE_ESTABLISHED }),
      resetSent({ sock: ssock, tNs: t + 2_000_000, local: SERVER, remote: cli, reason: ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE }),
      stateEvent({ sock: csock, tNs: t + 2_100_000, local: cli, remote: SERVER, from: S.TCP_STATE_ESTABLISHED, to: S.TCP_STATE_CLOSE }),
    ],
  };
}

function oneHopTrace(id: string, c: { client: string; server: string }, t: number): Trace {
  const us = t / 1000;
  return v1.Trace.create({
    traceId: id,
    outcome: Outcome.OUTCOME_RESET_BY_SERVER,
    startUs: us,
    endUs: us + 2_100,
    hops: [
      {
        index: 1,
        client: { ip: A, port: CLIENT_PORT, role: Role.ROLE_APP, node: NODE, socketId: c.client },
        server: { ip: B, port: 8080, role: Role.ROLE_APP, node: NODE, socketId: c.server },
        outcome: Outcome.OUTCOME_RESET_BY_SERVER,
        resetBy: "server",
        startUs: us,
        endUs: us + 2_100,
      },
    ],
  });
}

describe("timeline by socket identity", () => {
  const mine = connection("aa01", "bb01", T0_NS, CLIENT_PORT);
  // The same client address again 300 ms later: the server closed first, so the port came straight back.
  const reuse = connection("aa02", "bb02", T0_NS + 300_000_000, CLIENT_PORT);
  // A busy neighbour: 40 connections from the same address to the same server within ±1 s.
  const busy = Array.from({ length: 40 }, (_, i) =>
    connection(`cc${i}`, `dd${i}`, T0_NS - 900_000_000 + i * 45_000_000, 41_000 + i),
  );
  // A RST no socket sent, on my exact tuple while my connection lived: it has no identity but is mine.
  const stray = resetSent({ sock: "", tNs: T0_NS + 1_000_000, local: SERVER, remote: [A, CLIENT_PORT], reason: ResetReason.RESET_REASON_NO_SOCKET });

  beforeEach(async () => {
    await store.putEvents(source, [...busy.flatMap((c) => c.events), ...mine.events, stray, ...reuse.events].sort((a, b) => Number(a.tsNs! - b.tsNs!)));
    await store.putTraces([oneHopTrace("mine", mine, T0_NS), oneHopTrace("reuse", reuse, T0_NS + 300_000_000)]);
  });

  const seqs = (tl: { events: { event: { seq: number } }[] }) => tl.events.map((e) => e.event.seq).sort((a, b) => a - b);
  const expected = (...cs: { events: { seq?: number | null }[] }[]) => cs.flatMap((c) => c.events.map((e) => e.seq!)).sort((a, b) => a - b);

  it("a trace's timeline has its own sockets' events and nothing of the reused address or the neighbours", async () => {
    const tl = await store.timeline({ traceId: "mine" });
    expect(seqs(tl)).toEqual([...expected(mine), stray.seq!].sort((a, b) => a - b));
    const other = await store.timeline({ traceId: "reuse" });
    expect(seqs(other)).toEqual(expected(reuse));
  });

  it("a socket id's timeline finds its peer by identity, and alone by an exact tuple during its life", async () => {
    expect(seqs(await store.timeline({ socketId: mine.client }))).toEqual([...expected(mine), stray.seq!].sort((a, b) => a - b));
    // Not in a stored trace: the peer comes from the exact tuple, the reuse 300 ms later does not.
    const lone = connection("ee01", "ff01", T0_NS + 5e9, 42_000);
    const later = connection("ee02", "ff02", T0_NS + 5e9 + 200_000_000, 42_000);
    await store.putEvents(source, [...lone.events, ...later.events]);
    expect(seqs(await store.timeline({ socketId: lone.client }))).toEqual(expected(lone));
  });

  it("an ip:port timeline matches that exact endpoint, never port 0", async () => {
    const tl = await store.timeline({ ip: A, port: 41_003 });
    // Neighbour 3's events with its port on either end; its SYN_SENT (ip:0) names no port to match.
    expect(seqs(tl)).toEqual(busy[3]!.events.slice(1).map((e) => e.seq!).sort((a, b) => a - b));
  });
});
