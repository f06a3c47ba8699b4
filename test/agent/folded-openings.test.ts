// Folded openings through the agent and the stitcher: the probe prints a
// socket's birth with the line that announces it (connect/accept return), and
// an acceptor can return from accept() before the dialer returns from
// connect(). The stitcher pairs a dialer with its accepted child only if the
// child was not born before the dialer's SYN, so the births must keep the
// kernel times the probe noted for them, not the syscalls' return times.
import { describe, expect, test } from "vitest";
import { Agent } from "../../src/agent/mod.js";
import { Outcome, type ConnEventInit, type Trace } from "../../src/model/mod.js";
import { Stitcher } from "../../src/trace/mod.js";
import { decodeBatch, encodeBatch } from "../../src/transport/mod.js";

/** One loopback connection, the server closes first; `noted` gives the folded births their times, or "0 0" each. */
function lines(noted: boolean): string[] {
  const t = (born: number, est: number) => (noted ? `${born} ${est}` : "0 0");
  return [
    "B 1000000",
    "O 1000100 ffffa 7 10 4 127.0.0.1 8080 0.0.0.0 0 1 0 1024 0 0",
    // accept() returns before connect() does; the child was born after the SYN.
    `A 2000000 ffffc 20 20 5 1 10 ${t(1500100, 1500200)} 4 127.0.0.1 8080 127.0.0.1 40000 1 0 server`,
    `C 2000500 ffffb 10 10 0 4 4 127.0.0.1 8080 1 6 ${t(1500000, 1500150)} 4 127.0.0.1 40000 127.0.0.1 8080 1 0 client`,
    "Y 3000000 ffffc 1 4 26 20 20 5 server",
    "S 3000100 ffffb 1 8",
    "Y 3000200 ffffb 8 9 774 10 10 4 client",
    "E 3000300 ffffc 5 186",
    "E 3000400 ffffb 9 902",
  ];
}

async function stitch(input: string[]): Promise<Trace[]> {
  const published: ConnEventInit[] = [];
  const agent = new Agent({ node: "node-1", sink: (evs) => published.push(...evs), pods: { resolve: () => "pod-a" } });
  agent.startClock();
  for (const l of input) agent.feed(l);
  await agent.stop();
  expect(agent.stats().malformedLines).toBe(0);
  const traces: Trace[] = [];
  const stitcher = new Stitcher({ onTrace: (t) => traces.push(t) });
  // As the consumer gets them: one EventBatch, encoded and decoded.
  const batch = decodeBatch(encodeBatch({ node: "node-1", bootId: "boot", agentStartUs: 1 }, published));
  stitcher.ingest(batch.node, batch.events);
  stitcher.flush();
  return traces;
}

describe("folded openings", () => {
  test("a child accepted before its dialer's connect() returned pairs with the dialer, by their noted births", async () => {
    const traces = await stitch(lines(true));
    expect(traces).toHaveLength(1);
    const [hop] = traces[0]!.hops;
    expect(traces[0]!.hops).toHaveLength(1);
    expect(hop!.client).toMatchObject({ comm: "client", pid: 10, port: 40000 });
    expect(hop!.server).toMatchObject({ comm: "server", pid: 20, port: 8080 });
    expect(hop!.client!.socketId).toBe("node-1/ffffb/1500000");
    expect(hop!.server!.socketId).toBe("node-1/ffffc/1500100");
    expect(hop!.firstFinBy).toBe("server");
    expect(hop!.outcome).toBe(Outcome.OUTCOME_COMPLETED);
  });

  test("without the noted times (births at the syscalls' return) the same connection does not pair", async () => {
    // What the probe's line would give if it did not note when the folded births happened.
    const traces = await stitch(lines(false));
    const paired = traces.flatMap((t) => t.hops).filter((h) => h.client?.socketId && h.server?.socketId);
    expect(paired).toEqual([]);
  });
});
