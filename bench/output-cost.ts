// What bpftrace's text output costs, against a libbpf ring-buffer reader, on
// the same tracepoints (issue 8). The capacity sweep showed the tracer, not
// the kernel, is what a busy 2-core node runs out of; this part asks how much
// of that is the output path itself. Three tracers attach the same three
// tracepoints (every TCP state change, every RST sent and received) and hand
// every hit to user space with the same fields:
// - bpftrace 0.21+ printf (bench/output-cost/state-printf.bt), as
//   probes/tcptrail.bt prints its lines;
// - a libbpf collector (bench/output-cost/collector{.bpf,}.c) writing
//   fixed 72-byte records into a ring buffer drained on a 5 ms timer, then
//   formatted as the same text in C ("libbpf text") or passed on as raw
//   records ("libbpf binary").
// Each runs beside the same paced churn as the sweep; the table shows the
// churn's achieved rate, the tracer's own CPU per record (user + system, from
// /proc), and the churn's CPU per connection, where the tracepoints' kernel
// side shows up. Runs only when named: it builds a BPF object with clang.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { findExecutable } from "../src/probes/mod.js";
import { benchBpftrace } from "./agent-bench.js";
import { runChurn, type ChurnRun } from "./paced-churn.js";

/** The rate each tracer is measured at when none is given: about what the agent still keeps up with (sweep). */
export const DEFAULT_OUTPUT_COST_RATES: readonly number[] = [20_000];
/** How long a tracer may take to attach before the run fails. */
const READY_TIMEOUT_MS = 30_000;
/** Output that has not grown for this long is taken as drained. */
const DRAIN_QUIET_MS = 600;

const here = (name: string) =>
  [new URL(`./output-cost/${name}`, import.meta.url), new URL(`../../bench/output-cost/${name}`, import.meta.url)]
    .map((u) => u.pathname)
    .find((p) => existsSync(p));

export type Tracer = "bpftrace printf" | "libbpf text" | "libbpf binary";
export const TRACERS: readonly Tracer[] = ["bpftrace printf", "libbpf text", "libbpf binary"];

export interface TracerRun {
  tracer: Tracer;
  churn: ChurnRun;
  /** Records the tracer handed to its reader (lines, or binary records). */
  records: number;
  /** The tracer process's CPU seconds over the churn and its drain. */
  cpuSeconds: number;
  /** Records the kernel side could not hand over (bpftrace's "Lost", the collector's lost map). */
  lost: number;
}

export interface OutputCostRun {
  /** Offered conns/s; 0 is full speed. */
  offered: number;
  untraced: ChurnRun;
  tracers: TracerRun[];
}

export interface OutputCostResult {
  bpftrace: string;
  runs: OutputCostRun[];
}

export interface Collector {
  bin: string;
  object: string;
}

/** Build the libbpf collector into `dir`: vmlinux.h from the running kernel's BTF, the BPF object with clang, the reader with gcc and libbpf. */
export async function buildCollector(dir: string): Promise<Collector> {
  const tools = { bpftool: findExecutable("bpftool"), clang: findExecutable("clang"), gcc: findExecutable("gcc") };
  const missing = Object.entries(tools).filter(([, p]) => !p).map(([n]) => n);
  if (missing.length > 0) throw new Error(`the output-cost part needs ${missing.join(", ")} (deploy/setup.sh installs them with libbpf-dev)`);
  if (!existsSync("/usr/include/bpf/libbpf.h")) throw new Error("the output-cost part needs libbpf-dev (deploy/setup.sh installs it)");
  const bpfSrc = here("collector.bpf.c");
  const userSrc = here("collector.c");
  if (!bpfSrc || !userSrc) throw new Error("bench/output-cost/collector*.c are missing from this installation");
  const vmlinux = await execa(tools.bpftool!, ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"], { stripFinalNewline: false });
  writeFileSync(join(dir, "vmlinux.h"), vmlinux.stdout);
  const object = join(dir, "collector.bpf.o");
  const bin = join(dir, "output-cost-collector");
  await execa(tools.clang!, ["-O2", "-g", "-Wall", "-target", "bpf", "-I", dir, "-c", bpfSrc, "-o", object]);
  await execa(tools.gcc!, ["-O2", "-Wall", "-o", bin, userSrc, "-lbpf"]);
  return { bin, object };
}

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat, counted after the command name). */
export function processCpuSeconds(stat: string, ticksPerSecond = 100): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 120)}`);
  return (utime + stime) / ticksPerSecond;
}

const cpuOf = (pid: number) => processCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8"));

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Child = ResultPromise<{ stdin: "ignore"; reject: false; buffer: false; forceKillAfterDelay: 5000; env: Record<string, string> }>;

async function traced(tracer: Tracer, churnBin: string, offered: number, seconds: number, collector: Collector, bpftrace: { path: string; env: Record<string, string> }): Promise<TracerRun> {
  const script = here("state-printf.bt");
  if (!script) throw new Error("bench/output-cost/state-printf.bt is missing from this installation");
  const [file, args, ready] =
    tracer === "bpftrace printf"
      ? [bpftrace.path, [script], /Attaching \d+ probe/]
      : [collector.bin, [collector.object, tracer === "libbpf text" ? "text" : "bin"], /attached record=\d+/];
  const child: Child = execa(file, args, { stdin: "ignore", reject: false, buffer: false, forceKillAfterDelay: 5000, env: bpftrace.env });
  let stderr = "";
  // bpftrace says "Attaching N probes..." on stdout, the collector on stderr.
  let head = "";
  let bytes = 0;
  let newlines = 0;
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  // bpftrace reports what its ring buffer dropped as "Lost N events" lines among its output.
  let carry = "";
  let bpftraceLost = 0;
  let lostLines = 0;
  child.stdout.on("data", (d: Buffer) => {
    if (head.length < 200) head += d.toString("latin1", 0, Math.min(d.length, 200));
    bytes += d.length;
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) newlines++;
    if (tracer === "bpftrace printf") {
      const text = carry + d.toString("latin1");
      for (const m of text.matchAll(/(?:^|\n)Lost (\d+) events\n/g)) {
        bpftraceLost += Number(m[1]);
        lostLines++;
      }
      carry = text.slice(text.lastIndexOf("\n") + 1);
    }
  });
  try {
    await waitFor(`${tracer} to attach (stderr: ${stderr.slice(0, 200)})`, () => ready.test(stderr) || ready.test(head) || child.exitCode !== null, READY_TIMEOUT_MS);
    if (child.exitCode !== null) throw new Error(`${tracer} exited at start: ${stderr.slice(0, 500)}`);
    const pid = child.pid!;
    const cpu0 = cpuOf(pid);
    const churn = await runChurn(churnBin, { rate: offered, seconds });
    // Drained: the reader saw no new output for a while (bpftrace may still be formatting a backlog).
    let last = -1;
    let quietSince = Date.now();
    await waitFor(`${tracer} to drain`, () => {
      if (bytes !== last) {
        last = bytes;
        quietSince = Date.now();
      }
      return Date.now() - quietSince >= DRAIN_QUIET_MS;
    }, 120_000);
    const cpuSeconds = cpuOf(pid) - cpu0;
    child.kill("SIGINT");
    await child;
    const recordBytes = Number(/attached record=(\d+)/.exec(stderr)?.[1] ?? NaN);
    // bpftrace's "Attaching" line is not a record.
    const records = tracer === "libbpf binary" ? Math.floor(bytes / recordBytes) : newlines - lostLines - (ready.test(head) ? 1 : 0);
    const lost =
      tracer === "bpftrace printf"
        ? bpftraceLost + [...stderr.matchAll(/Lost (\d+) events/g)].reduce((n, m) => n + Number(m[1]), 0)
        : Number(/records \d+ lost (\d+)/.exec(stderr)?.[1] ?? NaN);
    return { tracer, churn, records, cpuSeconds, lost };
  } finally {
    if (child.exitCode === null) {
      child.kill("SIGKILL");
      await child;
    }
  }
}

export async function benchOutputCost(
  churnBin: string,
  dir: string,
  o: { rates: readonly number[]; seconds: number },
  progress: (step: string) => void = () => {},
): Promise<OutputCostResult> {
  const collector = await buildCollector(dir);
  const b = await benchBpftrace();
  if (!b.version || (b.version.major === 0 && b.version.minor < 21)) {
    throw new Error(`the output-cost part compares ring buffers: it needs bpftrace 0.21+, found ${b.version?.text ?? "an unknown version"} at ${b.path}`);
  }
  const runs: OutputCostRun[] = [];
  for (const offered of [...o.rates, 0]) {
    const label = offered === 0 ? "full speed" : `${offered.toLocaleString("en-US")}/s`;
    progress(`${label}: untraced`);
    const untraced = await runChurn(churnBin, { rate: offered, seconds: o.seconds });
    const tracers: TracerRun[] = [];
    for (const t of TRACERS) {
      progress(`${label}: ${t}`);
      tracers.push(await traced(t, churnBin, offered, o.seconds, collector, b));
    }
    runs.push({ offered, untraced, tracers });
  }
  return { bpftrace: `${b.version.text} at ${b.path}`, runs };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const pad = (s: string, n: number) => s.padStart(n);

export function formatOutputCost(r: OutputCostResult): string[] {
  const out = [
    `bpftrace ${r.bpftrace}; the libbpf collector drains its ring buffer every 5 ms (no wakeup per record)`,
    "ratio: achieved / untraced at the same offered rate; churn CPU: the churn's own CPU per connection (user + system), where the tracepoints' kernel side shows up",
    "",
    `${"tracer".padEnd(16)}${pad("offered/s", 11)}${pad("achieved/s", 12)}${pad("ratio", 7)}${pad("records", 11)}${pad("rec/conn", 10)}${pad("tracer µs/rec", 15)}${pad("churn µs/conn", 15)}${pad("lost", 10)}`,
  ];
  for (const run of r.runs) {
    const offered = run.offered === 0 ? "full" : fmt(run.offered);
    const perConn = (c: ChurnRun) => (c.cpuSeconds !== undefined && c.completed > 0 ? ((c.cpuSeconds * 1e6) / c.completed).toFixed(1) : "-");
    out.push(`${"untraced".padEnd(16)}${pad(offered, 11)}${pad(fmt(run.untraced.achieved), 12)}${pad("1.00", 7)}${pad("-", 11)}${pad("-", 10)}${pad("-", 15)}${pad(perConn(run.untraced), 15)}${pad("-", 10)}`);
    for (const t of run.tracers) {
      const ratio = run.untraced.achieved > 0 ? (t.churn.achieved / run.untraced.achieved).toFixed(2) : "-";
      const perRecord = t.records > 0 ? ((t.cpuSeconds * 1e6) / t.records).toFixed(2) : "-";
      const recPerConn = t.churn.completed > 0 ? (t.records / t.churn.completed).toFixed(1) : "-";
      out.push(
        `${t.tracer.padEnd(16)}${pad(offered, 11)}${pad(fmt(t.churn.achieved), 12)}${pad(ratio, 7)}${pad(fmt(t.records), 11)}${pad(recPerConn, 10)}${pad(perRecord, 15)}${pad(perConn(t.churn), 15)}${pad(Number.isFinite(t.lost) ? fmt(t.lost) : "?", 10)}`,
      );
    }
  }
  return out;
}
