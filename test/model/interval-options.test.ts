// Every timer period a caller can set is checked where its module merges
// options with defaults: 0, negatives, NaN, fractions and values Node's timers
// cannot hold are refused with an error naming the option, instead of
// becoming a timer that fires every millisecond.
import { describe, expect, it } from "vitest";
import { Agent, DEFAULT_AGENT_TICK_MS } from "../../src/agent/mod.js";
import { InvalidArgumentError, isInvalidArgumentError } from "../../src/errors/mod.js";
import { MAX_TIMER_MS, positiveIntervalMs } from "../../src/model/mod.js";
import { DEFAULT_SSE_HEARTBEAT_MS, buildQueryApp, resolveSseOptions } from "../../src/query/server/mod.js";
import { DEFAULT_CHECKPOINT_MS, isConsumerOptionsError, startConsumerService } from "../../src/consumer/mod.js";
import { DEFAULT_RETENTION_INTERVAL_MS, scheduleRetention, type TraceStore } from "../../src/store/mod.js";
import { DEFAULT_MAX_BATCH_DELAY_MS, EventPublisher, type JetStreamClient } from "../../src/transport/mod.js";
import { waitFor } from "../helpers/mod.js";

const BAD = [0, -1, -1000, Number.NaN, Number.POSITIVE_INFINITY, 1.5, 0.5, MAX_TIMER_MS + 1];
const GOOD = [1, 20, MAX_TIMER_MS];

/** Run `make` with a bad value and return the error it threw (or its promise rejected with). */
async function errorOf(make: () => unknown): Promise<unknown> {
  try {
    await make();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("positiveIntervalMs", () => {
  it.each(BAD)("refuses %s with an InvalidArgumentError naming the option", async (v) => {
    const err = await errorOf(() => positiveIntervalMs("fooMs", v, 10));
    expect(isInvalidArgumentError(err) && err.property).toBe("fooMs");
    expect((err as Error).message).toMatch(/^fooMs must be a whole number of milliseconds/);
  });

  it.each(GOOD)("accepts %s", (v) => {
    expect(positiveIntervalMs("fooMs", v, 10)).toBe(v);
  });

  it("takes the default when the option is not given, and the module's own error class", () => {
    expect(positiveIntervalMs("fooMs", undefined, 10)).toBe(10);
    expect(positiveIntervalMs("fooMs", null, 10)).toBe(10);
    class OptionsError extends InvalidArgumentError {
      override readonly code = "ERR_TEST_INVALID_OPTION";
    }
    expect(() => positiveIntervalMs("fooMs", 0, 10, OptionsError)).toThrow(OptionsError);
  });
});

describe("Agent tickMs", () => {
  const make = (tickMs: number | undefined) => new Agent({ node: "t", sink: () => undefined, pods: { resolve: () => "" }, ...(tickMs === undefined ? {} : { tickMs }) });

  it.each(BAD)("refuses %s at construction", (v) => {
    expect(() => make(v)).toThrow(/^tickMs must be a whole number of milliseconds/);
  });

  it("accepts a whole positive period and has a default", () => {
    expect(DEFAULT_AGENT_TICK_MS).toBeGreaterThan(0);
    for (const v of [undefined, ...GOOD]) expect(make(v)).toBeInstanceOf(Agent);
  });
});

describe("EventPublisher timer options", () => {
  // Options are checked before the client is touched: no server needed.
  const js = {} as JetStreamClient;
  const origin = { js, node: "n", bootId: "b", agentStartUs: 1 };
  const options = ["maxBatchDelayMs", "publishTimeoutMs", "retryInitialMs", "retryMaxMs"] as const;

  it.each(options)("refuses a bad %s", (name) => {
    for (const v of BAD) {
      expect(() => new EventPublisher({ ...origin, [name]: v }), `${name}: ${v}`).toThrow(new RegExp(`^${name} must be a whole number`));
    }
  });

  it.each(["maxBatchEvents", "maxInFlight", "maxQueuedEvents"] as const)("refuses a %s below 1, naming it", async (name) => {
    for (const v of [0, -1, 1.5]) {
      const err = await errorOf(() => new EventPublisher({ ...origin, [name]: v }));
      expect(isInvalidArgumentError(err) && err.property, `${name}: ${v} gave ${String(err)}`).toBe(name);
    }
  });

  it.each(options)("accepts a whole positive %s", (name) => {
    for (const v of GOOD) expect(new EventPublisher({ ...origin, [name]: v })).toBeInstanceOf(EventPublisher);
    expect(DEFAULT_MAX_BATCH_DELAY_MS).toBeGreaterThan(0);
  });
});

describe("consumer service timer options", () => {
  const options = ["tickMs", "traceFlushMs", "checkpointMs", "alertFlushMs", "storeRetryMs"] as const;
  // Options are resolved before the store or NATS is used.
  const base = { natsUrl: "nats://127.0.0.1:1", store: {} as TraceStore };

  it.each(options)("refuses a bad %s with ConsumerOptionsError", async (name) => {
    for (const v of BAD) {
      const err = await errorOf(() => startConsumerService({ ...base, [name]: v }));
      expect(isConsumerOptionsError(err), `${name}: ${v} gave ${String(err)}`).toBe(true);
      expect(isConsumerOptionsError(err) && err.property).toBe(name);
      expect((err as Error).message).toMatch(new RegExp(`${name} must be a whole number of milliseconds`));
    }
    expect(DEFAULT_CHECKPOINT_MS).toBeGreaterThan(0);
  });
});

describe("retention schedule intervalMs", () => {
  it.each(BAD)("refuses %s before the first run", async (v) => {
    let runs = 0;
    const store = { retention: async () => void runs++ } as unknown as TraceStore;
    expect(() => scheduleRetention(store, { intervalMs: v })).toThrow(/intervalMs must be a whole number of milliseconds/);
    expect(runs).toBe(0);
  });

  it("runs at once with a valid or default interval", async () => {
    expect(DEFAULT_RETENTION_INTERVAL_MS).toBeGreaterThan(0);
    for (const intervalMs of [undefined, 60_000]) {
      let runs = 0;
      const store = { retention: async () => void runs++ } as unknown as TraceStore;
      const schedule = scheduleRetention(store, intervalMs === undefined ? {} : { intervalMs });
      try {
        await waitFor(() => runs === 1, { what: "the first retention run" });
      } finally {
        await schedule.stop();
      }
    }
  });
});

describe("SSE heartbeatMs", () => {
  it.each(BAD)("refuses %s when the query app is built", async (v) => {
    const err = await errorOf(() => buildQueryApp({ store: {} as TraceStore, sse: { heartbeatMs: v } }));
    expect(isInvalidArgumentError(err) && err.property).toBe("sse.heartbeatMs");
    expect((err as Error).message).toMatch(/^sse\.heartbeatMs must be a whole number of milliseconds/);
  });

  it("defaults and accepts a whole positive period", () => {
    expect(resolveSseOptions().heartbeatMs).toBe(DEFAULT_SSE_HEARTBEAT_MS);
    for (const v of GOOD) expect(resolveSseOptions({ heartbeatMs: v }).heartbeatMs).toBe(v);
  });
});
