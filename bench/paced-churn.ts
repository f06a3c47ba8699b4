// The paced loopback churn (bench/paced-churn.c): built with the system's C
// compiler into a temp dir, run, and its one JSON line read back checked, so
// a changed program fails here with what it printed instead of as NaN rates.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { findExecutable } from "../src/probes/mod.js";

// Next to this module when run from source (vitest), two levels up from dist/bench when built.
const PACED_CHURN_SRC = [new URL("./paced-churn.c", import.meta.url), new URL("../../bench/paced-churn.c", import.meta.url)]
  .map((u) => u.pathname)
  .find((p) => existsSync(p));

/** Dial threads: enough that one connection's round trip does not cap a paced rate on a 2-core machine. */
export const DEFAULT_CHURN_DIALERS = 4;
/** Accept threads: the server does half of each connection's work (read, reply, close). */
export const DEFAULT_CHURN_ACCEPTORS = 2;

export interface ChurnOptions {
  /** Offered connections/s; 0 runs at full speed. */
  rate: number;
  seconds: number;
  /** Default DEFAULT_CHURN_DIALERS. */
  dialers?: number;
  /** Default DEFAULT_CHURN_ACCEPTORS. */
  acceptors?: number;
}

/** What one churn run offered and achieved, as the program prints it. */
export interface ChurnRun {
  /** Offered connections/s; 0 for full speed. */
  offered: number;
  seconds: number;
  dialers: number;
  acceptors: number;
  /** From the start to the last connection in flight at the end finishing. */
  elapsed: number;
  /** Connections that ended as intended: aborted + graceful. */
  completed: number;
  /** Ended by the server's RST (SO_LINGER 0). */
  aborted: number;
  /** Ended by the server's FIN before the client closed. */
  graceful: number;
  /** Anything else: a connect error, a short read, the wrong kind of close. */
  failed: number;
  /** completed / elapsed. */
  achieved: number;
  /** Connections completed in each whole second of the run. */
  perSecond: number[];
  /** The churn's own CPU seconds (user + system, all threads): a tracer's kernel-side work shows up here. */
  cpuSeconds?: number;
}

const NUMBER_FIELDS = ["offered", "seconds", "dialers", "acceptors", "elapsed", "completed", "aborted", "graceful", "failed", "achieved"] as const;

export function isChurnRun(v: unknown): v is ChurnRun {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    NUMBER_FIELDS.every((k) => typeof o[k] === "number" && Number.isFinite(o[k])) &&
    Array.isArray(o.perSecond) &&
    o.perSecond.every((n) => typeof n === "number") &&
    (o.cpuSeconds === undefined || (typeof o.cpuSeconds === "number" && Number.isFinite(o.cpuSeconds)))
  );
}

/** Parse the program's output: its last non-empty line is the result. */
export function parseChurnOutput(stdout: string): ChurnRun {
  const last = stdout.trim().split("\n").at(-1) ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(last);
  } catch (e) {
    throw new Error(`paced-churn printed no JSON result: ${JSON.stringify(last.slice(0, 200))}`, { cause: e });
  }
  if (!isChurnRun(parsed)) throw new Error(`paced-churn printed an unexpected result: ${last.slice(0, 200)}`);
  return parsed;
}

/** Compile bench/paced-churn.c into `dir`. Throws when there is no C compiler. */
export async function buildPacedChurn(dir: string): Promise<string> {
  const cc = findExecutable("gcc") ?? findExecutable("cc");
  if (!cc) throw new Error("gcc is needed to build the loopback churn (deploy/setup.sh installs it)");
  if (!PACED_CHURN_SRC) throw new Error("bench/paced-churn.c is missing from this installation");
  const out = join(dir, "paced-churn");
  await execa(cc, ["-O2", "-Wall", "-pthread", "-o", out, PACED_CHURN_SRC]);
  return out;
}

export async function runChurn(bin: string, o: ChurnOptions): Promise<ChurnRun> {
  const args = [o.rate, o.seconds, o.dialers ?? DEFAULT_CHURN_DIALERS, o.acceptors ?? DEFAULT_CHURN_ACCEPTORS].map(String);
  const r = await execa(bin, args);
  return parseChurnOutput(String(r.stdout));
}
