import { describe, expect, test } from "vitest";
import { parseBenchArgs } from "../../bench/bench-args.js";
import { DEFAULT_CHURN_DIALERS } from "../../bench/paced-churn.js";
import { DEFAULT_SWEEP_RATES, DEFAULT_SWEEP_SECONDS, SWEEP_ENV, parseRate, sweepOptions } from "../../bench/sweep-options.js";

describe("bench arguments", () => {
  test("parts and flags, in either flag spelling, in any order", () => {
    const a = parseBenchArgs(["sweep", "--rates", "2k,5000", "agent", "--seconds=1"]);
    expect([...a.parts]).toEqual(["sweep", "agent"]);
    expect(Object.fromEntries(a.flags)).toEqual({ rates: "2k,5000", seconds: "1" });
  });

  test("a flag without its value is an error, not a part", () => {
    expect(() => parseBenchArgs(["sweep", "--rates"])).toThrow(/--rates needs a value/);
    expect(() => parseBenchArgs(["--rates", "--seconds", "1"])).toThrow(/--rates needs a value/);
  });
});

describe("sweep options", () => {
  test("defaults when nothing is given", () => {
    expect(sweepOptions(new Map(), {})).toMatchObject({ rates: [...DEFAULT_SWEEP_RATES], seconds: DEFAULT_SWEEP_SECONDS, dialers: DEFAULT_CHURN_DIALERS });
  });

  test("the environment sets them, a flag wins over it", () => {
    const env = { [SWEEP_ENV.rates]: "1000,3k", [SWEEP_ENV.seconds]: "2", [SWEEP_ENV.dialers]: "3" };
    expect(sweepOptions(new Map(), env)).toMatchObject({ rates: [1000, 3000], seconds: 2, dialers: 3 });
    expect(sweepOptions(new Map([["rates", "2.5k"], ["seconds", "0.5"]]), env)).toMatchObject({ rates: [2500], seconds: 0.5, dialers: 3 });
  });

  test("bad values fail naming what was wrong", () => {
    expect(() => parseRate("0")).toThrow(/got "0"/);
    expect(() => parseRate("5x")).toThrow(/got "5x"/);
    expect(() => parseRate("1.2345k")).toThrow(/whole number/);
    expect(() => sweepOptions(new Map([["rates", ","]]), {})).toThrow(/no rates/);
    expect(() => sweepOptions(new Map([["seconds", "0"]]), {})).toThrow(/seconds must be/);
    expect(() => sweepOptions(new Map([["dialers", "1.5"]]), {})).toThrow(/dialers must be a whole number/);
    expect(() => sweepOptions(new Map(), { [SWEEP_ENV.acceptors]: "" })).toThrow(/acceptors/);
  });
});
