import { describe, expect, test } from "vitest";
import {
  DEFAULT_QUERY_RUNS,
  DEFAULT_SOAK_MINUTES,
  DEFAULT_SOAK_RATE,
  DEFAULT_STORE_SIZES,
  DEFAULT_STORE_TRAFFIC,
  SOAK_ENV,
  STORE_ENV,
  parseCount,
  soakOptions,
  storeOptions,
} from "../../bench/store-options.js";
import { count } from "../../bench/store-report.js";

describe("store bench sizes", () => {
  test("whole numbers, thousands and millions", () => {
    expect(parseCount("1M")).toBe(1_000_000);
    expect(parseCount("2.5m")).toBe(2_500_000);
    expect(parseCount("100k")).toBe(100_000);
    expect(parseCount(" 1234 ")).toBe(1234);
    expect(parseCount("0.0015M")).toBe(1500);
  });

  test("a size that is not a whole number of connections fails naming it", () => {
    for (const bad of ["0", "1.5", "-1M", "1G", "", "M", "1.0000005M"]) expect(() => parseCount(bad)).toThrow(`got "${bad}"`);
  });

  test("printed the way the flag spells them", () => {
    expect([1_000_000, 10_000_000, 100_000_000, 2_500_000, 100_000, 1234].map(count)).toEqual(["1M", "10M", "100M", "2.5M", "100k", "1234"]);
  });
});

describe("store options", () => {
  test("defaults: 1M and 10M, every kind of traffic (the recorded lab's too), 20 runs per query", () => {
    expect(storeOptions(new Map(), {})).toEqual({ sizes: [...DEFAULT_STORE_SIZES], traffic: [...DEFAULT_STORE_TRAFFIC], runs: DEFAULT_QUERY_RUNS });
    expect(DEFAULT_STORE_SIZES).toEqual([1_000_000, 10_000_000]);
    expect(DEFAULT_STORE_TRAFFIC).toEqual(["mesh", "churn", "lab"]);
  });

  test("the environment sets them, a flag wins over it", () => {
    const env = { [STORE_ENV.sizes]: "100k", [STORE_ENV.traffic]: "churn", [STORE_ENV.runs]: "5" };
    expect(storeOptions(new Map(), env)).toEqual({ sizes: [100_000], traffic: ["churn"], runs: 5 });
    expect(storeOptions(new Map([["sizes", "1M,10M,100M"], ["traffic", "mesh,churn"]]), env)).toEqual({
      sizes: [1e6, 1e7, 1e8],
      traffic: ["mesh", "churn"],
      runs: 5,
    });
  });

  test("lab: the recorded lab scenarios, by name", () => {
    expect(storeOptions(new Map([["traffic", "lab,churn"]]), {}).traffic).toEqual(["lab", "churn"]);
  });

  test("bad values fail naming what was wrong", () => {
    expect(() => storeOptions(new Map([["traffic", "mesh,grpc"]]), {})).toThrow(/traffic is mesh, churn or lab, got "grpc"/);
    expect(() => storeOptions(new Map([["sizes", ","]]), {})).toThrow(/no sizes/);
    expect(() => storeOptions(new Map([["runs", "0"]]), {})).toThrow(/runs must be a whole number/);
  });
});

describe("soak options", () => {
  test("10 minutes at 1,000 conns/s unless told otherwise; fractions of a minute for a dry run", () => {
    expect(soakOptions(new Map(), {})).toEqual({ minutes: DEFAULT_SOAK_MINUTES, rate: DEFAULT_SOAK_RATE });
    expect(soakOptions(new Map([["minutes", "0.2"]]), { [SOAK_ENV.rate]: "2k" })).toEqual({ minutes: 0.2, rate: 2000 });
    expect(() => soakOptions(new Map([["minutes", "0"]]), {})).toThrow(/minutes must be a number/);
    expect(() => soakOptions(new Map([["rate", "fast"]]), {})).toThrow(/rate/);
    // Small store limits, so that a soak crosses them.
    expect(soakOptions(new Map([["traces-max-size", "4MiB"]]), { [SOAK_ENV["events-max-size"]]: "16MiB" })).toMatchObject({
      tracesMaxSize: 4 * 1024 ** 2,
      eventsMaxSize: 16 * 1024 ** 2,
    });
    expect(() => soakOptions(new Map([["events-max-size", "16"]]), {})).toThrow(/--events-max-size/);
  });
});
