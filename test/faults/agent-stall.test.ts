// Issue 12 parts 2 and 9: the agent stalls (SIGSTOP for seconds, as a long GC
// or an overloaded node would) while connections come and go, then goes on
// (SIGCONT). Nothing was lost, so every connection is traced exactly once:
// none split into a client half and a server half, none called PROCESS_EXIT
// or INCOMPLETE because the node went quiet. Root: a real `tcptrail run`.
import { expect, it } from "vitest";
import { describeRoot, waitFor } from "../helpers/mod.js";
import { withScenario } from "./helpers/scenario.js";

const BEFORE = 200;
const DURING = 800;
/** Longer than the stitcher's settle (1 s) and linger (2 s) times: a stall past them is what split traces. */
const STALL_MS = 4000;

describeRoot("fault: SIGSTOP/SIGCONT of the agent under load (root)", () => {
  it("no split trace, no false PROCESS_EXIT: every connection traced exactly once", { timeout: 120_000 }, async () => {
    await withScenario("stall", async (s) => {
      await s.workload.run(BEFORE);
      const load = s.workload.run(DURING);
      await waitFor(() => s.workload.done.length >= BEFORE + 50, { what: "the workload under way" });
      const stoppedAt = s.workload.done.length;
      process.kill(s.run.proc.pid, "SIGSTOP");
      try {
        // The workload goes on meanwhile; the stall is measured by its progress, not only by the clock.
        await waitFor(() => s.workload.done.length >= stoppedAt + 200, { what: "connections during the stall" });
        await new Promise((r) => setTimeout(r, STALL_MS)); // the fault itself is a duration: nothing to wait for
      } finally {
        process.kill(s.run.proc.pid, "SIGCONT");
      }
      await load;
      expect(s.workload.failures).toEqual([]);
      expect(s.workload.done).toHaveLength(BEFORE + DURING);
      const { verdict, gaps } = await s.settle(60_000);
      // Nothing was lost: no GAP may excuse anything.
      expect(gaps).toEqual([]);
      expect(verdict.inGap).toEqual([]);
      expect(verdict.traced).toBe(BEFORE + DURING);
    });
  });
});
