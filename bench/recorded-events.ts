// Recorded event streams as JSON (test/trace/fixtures/, the lab recordings
// the store bench replays): arrays of { node, event } where event is
// ConnEvent-shaped: enum values as numbers, full names ("TCP_STATE_CLOSE") or
// short names ("CLOSE"); uint64 fields as numbers or decimal strings. Kernel
// times (ts_ns, gap_start_ns) are written as plain numbers or decimal strings
// and become exact bigints at load time. One parser for the benches and the
// tests (test/trace/helpers/load-fixture.ts re-exports it).
import { readFileSync } from "node:fs";
import { v1, type ConnEvent, type KernelNs } from "../src/model/mod.js";

export interface FixtureRecord {
  node: string;
  event: ConnEvent;
}

const ENUM_PREFIX: Record<string, string> = {
  kind: "EVENT_KIND_",
  oldState: "TCP_STATE_",
  newState: "TCP_STATE_",
  resetReason: "RESET_REASON_",
  role: "ROLE_",
  leg: "SIDECAR_LEG_",
};

function snakeToCamel(k: string): string {
  return k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** A kernel time as written in a fixture (number, decimal string or bigint), exact. */
function kernelNs(v: unknown): KernelNs {
  if (v === undefined || v === null) return 0n;
  if (typeof v === "bigint") return v;
  if ((typeof v === "number" && Number.isInteger(v)) || (typeof v === "string" && /^\d+$/.test(v))) return BigInt(v);
  throw new TypeError(`fixture: kernel time ${JSON.stringify(v)} is not an integer`);
}

/**
 * One JSON event object → a ConnEvent with numeric uint64 fields and bigint
 * kernel times. `shiftNs` is added to every kernel time that is set (a
 * recording replayed as if the machine had been up longer).
 */
export function toConnEvent(raw: Record<string, unknown>, shiftNs = 0n): ConnEvent {
  const o: Record<string, unknown> = {};
  for (const [k0, v] of Object.entries(raw)) {
    const k = snakeToCamel(k0);
    const prefix = ENUM_PREFIX[k];
    o[k] = prefix && typeof v === "string" && !v.startsWith(prefix) ? prefix + v.toUpperCase() : v;
  }
  const ts = kernelNs(o.tsNs);
  const gapStart = kernelNs(o.gapStartNs);
  delete o.tsNs;
  delete o.gapStartNs;
  // uint64 fields given as decimal strings become numbers (src/model keeps Long out of protobufjs).
  const ev = v1.ConnEvent.fromObject(o) as unknown as ConnEvent;
  ev.tsNs = ts === 0n ? 0n : ts + shiftNs;
  ev.gapStartNs = gapStart === 0n ? 0n : gapStart + shiftNs;
  return ev;
}

export function parseFixture(json: string, shiftNs = 0n): FixtureRecord[] {
  const data = JSON.parse(json) as unknown;
  if (!Array.isArray(data)) throw new TypeError("fixture: expected a JSON array of { node, event }");
  return data.map((r, i) => {
    const rec = r as { node?: unknown; event?: unknown };
    if (typeof rec.node !== "string" || typeof rec.event !== "object" || rec.event === null) {
      throw new TypeError(`fixture record ${i}: expected { node: string, event: object }`);
    }
    return { node: rec.node, event: toConnEvent(rec.event as Record<string, unknown>, shiftNs) };
  });
}

/** @param shiftNs added to every kernel time (see toConnEvent) */
export function loadFixture(path: string, shiftNs = 0n): FixtureRecord[] {
  return parseFixture(readFileSync(path, "utf8"), shiftNs);
}
