// The socket-link cost bench (issue 10): the "without links" probe it builds
// is the probe as it was before links, the churn-uid option parses, and the
// table says what was measured. The measurement itself runs in `npm run bench
// sweep -- --churn-uid 1337` (root, bpftrace), not here.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { SWEEP_ENV, sweepOptions } from "../../bench/sweep-options.js";
import { LINK_PREDICATE, LINK_PROBES, formatLinkCost, withoutLinkProbes, type LinkCostResult } from "../../bench/sweep-link-cost.js";
import type { ChurnRun } from "../../bench/paced-churn.js";
import { defaultProgramPath } from "../../src/probes/mod.js";

const program = readFileSync(defaultProgramPath(), "utf8");
/** The probe's code: comments and blank lines out, so that a comment naming a map is no use of it. */
const code = (text: string) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .join("\n");

describe("the probe without links", () => {
  test("is tcptrail.bt with the link probes and everything naming their maps cut out, the rest untouched", () => {
    const old = withoutLinkProbes(program);
    for (const head of LINK_PROBES) {
      expect(program).toContain(`${head}\n${LINK_PREDICATE}`);
      expect(old).not.toContain(`${head}\n${LINK_PREDICATE}`);
    }
    expect(code(old)).not.toMatch(/@lnk|@rsrc|@rid|@rcnt|\$7/);
    // Each probe as its header and predicate: another block on a link probe's tracepoint (the P line's) stays.
    const probes = (text: string) =>
      text
        .split("\n")
        .map((l, i, all) => (/^(tracepoint|BEGIN|END)/.test(l) ? `${l}\n${all[i + 1]}` : undefined))
        .filter((p): p is string => p !== undefined);
    expect(probes(old)).toEqual(probes(program).filter((p) => !p.includes(`\n${LINK_PREDICATE}`)));
    expect(probes(old).some((p) => p.startsWith("tracepoint:sched:sched_process_exit"))).toBe(true);
    // Nothing else changed: its lines of code are the program's, in order, only some left out.
    const all = code(program).split("\n");
    let at = 0;
    for (const line of code(old).split("\n")) {
      while (at < all.length && all[at] !== line) at++;
      expect(at, `"${line}" is not the program's next line`).toBeLessThan(all.length);
      at++;
    }
  });

  test("fails loudly when the probe changed so that a link map would be left behind", () => {
    const changed = program.replace("END\n{", "tracepoint:syscalls:sys_enter_sendto\n{\n\t@lnk[tid] = 1;\n}\n\nEND\n{");
    expect(() => withoutLinkProbes(changed)).toThrow(/still uses @lnk/);
    expect(() => withoutLinkProbes(program.replace("tracepoint:sock:sock_send_length\n", "tracepoint:sock:sock_sendmsg\n"))).toThrow(/sock_send_length is not in/);
  });
});

describe("--churn-uid", () => {
  test("is a UID other than 0, from the flag or the environment; absent by default", () => {
    expect(sweepOptions(new Map(), {}).churnUid).toBeUndefined();
    expect(sweepOptions(new Map([["churn-uid", "1337"]]), {}).churnUid).toBe(1337);
    expect(sweepOptions(new Map(), { [SWEEP_ENV["churn-uid"]]: "61337" }).churnUid).toBe(61337);
    expect(() => sweepOptions(new Map([["churn-uid", "0"]]), {})).toThrow(/churn-uid must be/);
    expect(() => sweepOptions(new Map([["churn-uid", "x"]]), {})).toThrow(/churn-uid must be/);
  });
});

describe("the link-cost table", () => {
  const churn = (achieved: number, completed: number): ChurnRun => ({
    offered: 0, seconds: 5, dialers: 4, acceptors: 2, elapsed: 5, completed, aborted: completed / 2, graceful: completed / 2, failed: 0, achieved, perSecond: [],
  });
  test("each run against the untraced churn of the same UID, with lines per connection and link lines", () => {
    const r: LinkCostResult = {
      options: { seconds: 5, dialers: 4, acceptors: 2, churnUid: 1337 },
      bpftrace: { path: "/x/bpftrace", version: "v0.23.2" },
      runs: [
        { probe: "none", churnUid: undefined, churn: churn(90_000, 450_000), lines: 0, linkLines: 0, lost: 0, loadBefore: 0.5 },
        { probe: "with links", churnUid: undefined, churn: churn(63_000, 315_000), lines: 1_890_000, linkLines: 0, lost: 0, loadBefore: 0.6 },
        { probe: "none", churnUid: 1337, churn: churn(80_000, 400_000), lines: 0, linkLines: 0, lost: 0, loadBefore: 0.7 },
        { probe: "with links", churnUid: 1337, churn: churn(40_000, 200_000), lines: 1_300_000, linkLines: 12_345, lost: 7, loadBefore: 0.8 },
      ],
    };
    const [title, , head, ...rows] = formatLinkCost(r);
    expect(title).toContain("links for uid 1337");
    expect(head).toMatch(/churn as\s+bpftrace\s+achieved\/s\s+ratio\s+lines\/conn\s+L lines\s+lost\s+failed\s+load/);
    expect(rows[1]).toMatch(/^caller\s+with links\s+63,000\s+0\.70\s+6\.00\s+0\s+0\s+0\s+0\.6$/);
    expect(rows[3]).toMatch(/^uid 1337\s+with links\s+40,000\s+0\.50\s+6\.50\s+12,345\s+7\s+0\s+0\.8$/);
  });
});
