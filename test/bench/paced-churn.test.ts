// The churn program itself (built with gcc, run briefly on loopback): it
// holds an offered rate, aborts half its connections with the server's RST,
// has the server close first, and reports what it did.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildPacedChurn, parseChurnOutput, runChurn } from "../../bench/paced-churn.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

let dir: TempDir;
let bin: string;

beforeAll(async () => {
  dir = await makeTempDir("paced-churn");
  bin = await buildPacedChurn(dir.path);
});

afterAll(async () => {
  await dir?.remove();
});

describe("paced churn", () => {
  test("holds the offered rate, half closed by the server's RST and half by its FIN", async () => {
    const r = await runChurn(bin, { rate: 1500, seconds: 1, dialers: 2, acceptors: 1 });
    expect(r.offered).toBe(1500);
    expect(r.failed).toBe(0);
    // Paced: never more than offered (full speed is ten times this or more), and
    // short of it by at most the few connections a late dialer no longer starts
    // once the run is over (the machine is shared).
    expect(r.completed).toBeLessThanOrEqual(1500);
    expect(r.completed).toBeGreaterThan(1500 * 0.95);
    expect(r.achieved).toBeGreaterThan(1500 * 0.95);
    expect(r.achieved).toBeLessThan(1500 * 1.05);
    // Every connection ended the way the server chose: its RST seen as ECONNRESET,
    // its FIN as EOF before the client closed (so the server closed first).
    expect(r.aborted + r.graceful).toBe(r.completed);
    expect(Math.abs(r.aborted - r.graceful)).toBeLessThanOrEqual(2);
    expect(r.perSecond).toHaveLength(1);
    expect(r.perSecond[0]).toBeGreaterThan(1400);
    // Its own CPU, where a tracer's kernel side shows up in the output-cost part.
    expect(r.cpuSeconds).toBeGreaterThan(0);
    expect(r.cpuSeconds).toBeLessThan(2 * 1.5 + 1);
  });

  test("spreads the schedule over the dialers: the rate does not depend on how many there are", async () => {
    const one = await runChurn(bin, { rate: 800, seconds: 0.5, dialers: 1, acceptors: 1 });
    const four = await runChurn(bin, { rate: 800, seconds: 0.5, dialers: 4, acceptors: 2 });
    for (const r of [one, four]) {
      expect(r.completed).toBeLessThanOrEqual(400);
      expect(r.completed).toBeGreaterThan(400 * 0.95);
    }
    expect(four.dialers).toBe(4);
  });

  test("rate 0 runs at full speed, past any paced rate above", async () => {
    const r = await runChurn(bin, { rate: 0, seconds: 0.5, dialers: 2, acceptors: 1 });
    expect(r.offered).toBe(0);
    expect(r.failed).toBe(0);
    expect(r.achieved).toBeGreaterThan(3000);
    expect(Math.abs(r.aborted - r.graceful)).toBeLessThanOrEqual(2);
  });

  test("its output is checked: a result without the expected fields is an error", () => {
    expect(() => parseChurnOutput("12345\n")).toThrow(/unexpected result/);
    expect(() => parseChurnOutput("listen: Address in use\n")).toThrow(/no JSON result/);
    expect(() => parseChurnOutput('{"offered":1,"seconds":1}')).toThrow(/unexpected result/);
  });
});
