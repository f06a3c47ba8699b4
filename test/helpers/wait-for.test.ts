import { describe, expect, it } from "vitest";
import { isWaitTimeoutError, waitFor } from "./wait-for.js";

describe("waitFor", () => {
  it("resolves as soon as the condition holds, with the value that made it hold", async () => {
    let calls = 0;
    const found = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { what: "the third call", intervalMs: 1 });
    expect(found).toEqual({ calls: 3 });
    expect(calls).toBe(3);
  });

  it("awaits async conditions and treats false and null as not yet", async () => {
    const answers: (boolean | null | number)[] = [false, null, 0];
    const got = await waitFor(async () => answers.shift(), { what: "a number", intervalMs: 1 });
    // 0 is a value, not "not yet": a find() that returns a port or a count must not be skipped.
    expect(got).toBe(0);
  });

  it("fails after timeoutMs with a message naming what it waited for", async () => {
    const started = performance.now();
    const err = await waitFor(() => false, { what: "the moon to turn blue", timeoutMs: 80, intervalMs: 10 }).catch((e: unknown) => e);
    expect(isWaitTimeoutError(err)).toBe(true);
    expect((err as Error).message).toBe("timed out after 80 ms waiting for the moon to turn blue");
    expect(performance.now() - started).toBeGreaterThanOrEqual(79);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("bounds a check that never settles by the same deadline", async () => {
    const err = await waitFor(() => new Promise<boolean>(() => undefined), { what: "a hung check", timeoutMs: 50 }).catch((e: unknown) => e);
    expect(isWaitTimeoutError(err)).toBe(true);
    expect((err as Error).message).toMatch(/waiting for a hung check$/);
  });

  it("fails at once when the condition throws, with its error", async () => {
    let calls = 0;
    const err = await waitFor(
      () => {
        calls++;
        throw new Error("broken check");
      },
      { what: "anything", timeoutMs: 5000 },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toBe("broken check");
    expect(calls).toBe(1);
  });

  it("rejects a negative or non-finite timeout", async () => {
    await expect(waitFor(() => true, { what: "x", timeoutMs: -1 })).rejects.toThrow(RangeError);
    await expect(waitFor(() => true, { what: "x", intervalMs: Number.NaN })).rejects.toThrow(/intervalMs/);
  });
});
