// What the socket-link probes (issue 10: sock_recv_length/sock_send_length,
// "L" lines) cost a busy node, side by side in one run: the full-speed churn
// untraced, under bpftrace alone with the probe as it was before links (the
// two link probes cut out of tcptrail.bt) and with the probe as it is (links
// on for the sidecar UID). Each twice: the churn as the caller (root: every
// send and receive is stopped by the probes' UID filter) and as the sidecar
// UID (the worst case: every send and receive passes the filter and pays the
// map lookups). Lines per connection pair come from bpftrace's own output.
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { defaultProgramPath, programArgs } from "../src/probes/mod.js";
import { benchBpftrace } from "./agent-bench.js";
import { DEFAULT_CHURN_ACCEPTORS, DEFAULT_CHURN_DIALERS, parseChurnOutput, type ChurnOptions, type ChurnRun } from "./paced-churn.js";

/** Where the link probes start in tcptrail.bt: each is a top-level block ending at a "}" alone on its line. */
export const LINK_PROBES = ["tracepoint:sock:sock_recv_length", "tracepoint:sock:sock_send_length", "tracepoint:sched:sched_process_exit"] as const;
/**
 * What tells a link probe from another block on the same tracepoint (the
 * process-exit "P" line also attaches sched_process_exit): every link probe's
 * predicate starts by asking for a sidecar UID.
 */
export const LINK_PREDICATE = "/$7 != 0";

/** Maps only the link probes use: the program without them must not name them. */
const LINK_MAPS = ["@lnk", "@rsrc", "@rid", "@rcnt"];

/**
 * The program as it was before links: the link probes' blocks (and the
 * comment right above each) removed, and what else names their maps (the
 * `$7 != 0`-guarded forgetting of @lnk, END's clears). Throws when the
 * program changed so that some of it is left: the comparison would be wrong.
 */
export function withoutLinkProbes(program: string): string {
  let text = program
    .replace(/\n\t*if \(\$7 != 0 && @lnk\[\$key\]\) \{\n\t*delete\(@lnk\[\$key\]\);\n\t*\}/g, "")
    .replace(/\n\tclear\(@(?:lnk|rsrc|rid|rcnt)\);/g, "");
  for (const head of LINK_PROBES) {
    const start = text.indexOf(`\n${head}\n${LINK_PREDICATE}`);
    if (start < 0) throw new Error(`${head} is not in the probe program: the link-cost bench cannot make the probe without links`);
    const end = text.indexOf("\n}\n", start);
    if (end < 0) throw new Error(`the block of ${head} does not end with a "}" line`);
    // The comment block just above the probe goes with it.
    const commentEnd = text.lastIndexOf("*/", start);
    const commentStart = commentEnd >= 0 && text.slice(commentEnd + 2, start).trim() === "" ? text.lastIndexOf("\n/*", commentEnd) : -1;
    text = text.slice(0, commentStart >= 0 ? commentStart : start) + text.slice(end + 2);
  }
  // Only the header comment may still speak of them.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "");
  const left = [...LINK_MAPS, "$7"].filter((name) => code.includes(name));
  if (left.length > 0) throw new Error(`the probe without links still uses ${left.join(", ")}: update withoutLinkProbes for tcptrail.bt's changes`);
  return text;
}

/** Run the churn as `uid` (undefined: as the caller). The binary must be where that UID can run it. */
export async function runChurnAs(bin: string, o: ChurnOptions, uid: number | undefined): Promise<ChurnRun> {
  const args = [o.rate, o.seconds, o.dialers ?? DEFAULT_CHURN_DIALERS, o.acceptors ?? DEFAULT_CHURN_ACCEPTORS].map(String);
  const r = uid === undefined ? await execa(bin, args) : await execa("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", bin, ...args]);
  return parseChurnOutput(String(r.stdout));
}

/**
 * A copy of the churn binary a non-root UID can run: the bench's temp dirs
 * are 0700. Returns its path and how to remove it.
 */
export function churnBinaryForAnyUid(bin: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-churn-"));
  chmodSync(dir, 0o755);
  const path = join(dir, "paced-churn");
  copyFileSync(bin, path);
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type LinkProbe = "none" | "without links" | "with links";

export interface LinkCostRun {
  probe: LinkProbe;
  /** The churn's UID; undefined: the caller's. */
  churnUid: number | undefined;
  churn: ChurnRun;
  /** bpftrace output lines from the churn's start until the output went quiet after it. */
  lines: number;
  /** Of which socket-link ("L") lines. */
  linkLines: number;
  /** Events bpftrace said it lost. */
  lost: number;
  /** 1-minute load average just before the run: other work on the machine moves the numbers. */
  loadBefore: number;
}

export interface LinkCostOptions {
  seconds: number;
  dialers: number;
  acceptors: number;
  /** The sidecar UID: the probe links its threads, and the worst-case churn runs as it. */
  churnUid: number;
}

export interface LinkCostResult {
  options: LinkCostOptions;
  bpftrace: { path: string; version: string };
  runs: LinkCostRun[];
}

/** Output went quiet for this long after the churn: everything it caused has been read. */
const QUIET_MS = 300;

/** bpftrace running `program` with `args`, its output lines counted and dropped, once BEGIN ran. */
async function startCounting(path: string, env: Record<string, string>, program: string, args: string[]) {
  const child = execa(path, [program, ...args], { env, stderr: "ignore", reject: false, buffer: false });
  const c = { lines: 0, linkLines: 0, lost: 0, lastDataAt: performance.now() };
  let begun = false;
  await new Promise<void>((resolve) => {
    child.stdout!.on("data", (b: Buffer) => {
      c.lastDataAt = performance.now();
      // memchr through the chunk: the count must not cost the churn's CPU more than bpftrace's reader does.
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) {
        c.lines++;
        if (b[i + 1] === 76 && b[i + 2] === 32) c.linkLines++; // "L " after a newline
      }
      if (b.includes("Lost ")) for (const m of b.toString("latin1").matchAll(/(?:^|\n)Lost (\d+) events/g)) c.lost += Number(m[1]);
      if (!begun && /(^|\n)B \d/.test(b.toString("latin1"))) {
        begun = true;
        resolve();
      }
    });
    void child.finally(() => resolve());
  });
  if (!begun) throw new Error(`bpftrace exited before attaching ${program}`);
  return {
    counts: c,
    async quiet(): Promise<void> {
      while (performance.now() - c.lastDataAt < QUIET_MS) await new Promise((r) => setTimeout(r, QUIET_MS / 3));
    },
    async stop(): Promise<void> {
      child.kill("SIGINT");
      await child;
    },
  };
}

/** Untraced, without links, with links; as the caller and as the sidecar UID. */
export async function benchLinkCost(churnBin: string, o: LinkCostOptions, progress: (step: string) => void = () => undefined): Promise<LinkCostResult> {
  const b = await benchBpftrace();
  const bin = churnBinaryForAnyUid(churnBin);
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-linkcost-"));
  const oldProgram = join(dir, "tcptrail-without-links.bt");
  writeFileSync(oldProgram, withoutLinkProbes(readFileSync(defaultProgramPath(), "utf8")));
  const runs: LinkCostRun[] = [];
  const churn = (uid: number | undefined) => runChurnAs(bin.path, { rate: 0, seconds: o.seconds, dialers: o.dialers, acceptors: o.acceptors }, uid);
  try {
    for (const churnUid of [undefined, o.churnUid]) {
      const who = churnUid === undefined ? "caller" : `uid ${churnUid}`;
      progress(`link cost: untraced churn as ${who}`);
      const loadBefore = loadavg()[0]!;
      runs.push({ probe: "none", churnUid, churn: await churn(churnUid), lines: 0, linkLines: 0, lost: 0, loadBefore });
      for (const probe of ["without links", "with links"] as const) {
        progress(`link cost: churn as ${who} under bpftrace ${probe}`);
        const program = probe === "with links" ? defaultProgramPath() : oldProgram;
        // No self-exclusion: nothing of tcptrail runs here. The old probe takes no $7.
        const args = programArgs({ exclude: undefined, linkUid: probe === "with links" ? o.churnUid : 0 });
        const bt = await startCounting(b.path, b.env, program, args);
        try {
          const loadBefore = loadavg()[0]!;
          const before = { ...bt.counts };
          const run = await churn(churnUid);
          await bt.quiet();
          runs.push({
            probe,
            churnUid,
            churn: run,
            lines: bt.counts.lines - before.lines,
            linkLines: bt.counts.linkLines - before.linkLines,
            lost: bt.counts.lost - before.lost,
            loadBefore,
          });
        } finally {
          await bt.stop();
        }
      }
    }
  } finally {
    bin.remove();
    rmSync(dir, { recursive: true, force: true });
  }
  return { options: o, bpftrace: { path: b.path, version: b.version?.text ?? "(unknown version)" }, runs };
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");

/** One table: each run's rate against the untraced churn of the same UID. */
export function formatLinkCost(r: LinkCostResult): string[] {
  const rows = r.runs.map((run) => {
    const base = r.runs.find((x) => x.probe === "none" && x.churnUid === run.churnUid)?.churn.achieved ?? NaN;
    const perConn = run.churn.completed > 0 ? run.lines / run.churn.completed : NaN;
    return [
      run.churnUid === undefined ? "caller" : `uid ${run.churnUid}`,
      run.probe,
      fmt(run.churn.achieved),
      (run.churn.achieved / base).toFixed(2),
      run.probe === "none" ? "-" : perConn.toFixed(2),
      run.probe === "none" ? "-" : fmt(run.linkLines),
      run.probe === "none" ? "-" : fmt(run.lost),
      fmt(run.churn.failed),
      run.loadBefore.toFixed(1),
    ];
  });
  const head = ["churn as", "bpftrace", "achieved/s", "ratio", "lines/conn", "L lines", "lost", "failed", "load"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [
    `socket links (issue 10): full-speed churn for ${r.options.seconds} s, untraced vs bpftrace ${r.bpftrace.version} alone with the probe without / with the link probes (links for uid ${r.options.churnUid})`,
    "ratio: achieved / the untraced churn as the same UID; lines/conn: bpftrace lines per connection pair (both ends); load: 1-min load average before the run",
    line(head),
    ...rows.map(line),
  ];
}
