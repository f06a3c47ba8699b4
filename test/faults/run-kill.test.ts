// Issue 12 part 9: `tcptrail run` dies (kill -9) right after a burst of
// connections and is started again on the same state dir. Its children die
// with it; the next start publishes a GAP for what the dead run read and never
// published; the consumer resumes from its checkpoint. Every connection before
// and after is traced exactly once or lies inside that GAP: no duplicate from
// the replay. (Connections while no tracer runs at all are not made: nothing
// could see them.) Root: a real `tcptrail run` with bpftrace.
import { expect, it } from "vitest";
import { describeRoot, isProcessAlive, waitFor } from "../helpers/mod.js";
import { withScenario } from "./helpers/scenario.js";
import { childPid, killHard } from "./helpers/tcptrail-run.js";

const BEFORE = 400;
const AFTER = 200;

describeRoot("fault: tcptrail run kill -9 and restart (root)", () => {
  it("the restarted run reports what the dead one never published; no duplicate trace", { timeout: 150_000 }, async () => {
    await withScenario("run", async (s) => {
      const nats = await childPid(s.run.proc.pid, "nats-server");
      const bpftrace = await childPid(s.run.proc.pid, "bpftrace");
      await s.workload.run(BEFORE);
      // Killed at once: the last connections' events are still in the reorder window, the queue or in flight.
      await killHard(s.run.proc.pid, "tcptrail run");
      await waitFor(() => !isProcessAlive(nats) && !isProcessAlive(bpftrace), { what: "its nats-server and bpftrace to die with it" });
      await s.restart();
      await s.workload.run(AFTER);
      expect(s.workload.failures).toEqual([]);
      expect(s.workload.done).toHaveLength(BEFORE + AFTER);
      const { verdict, gaps } = await s.settle(60_000);
      // Whatever a GAP excuses, it says so with an exact count.
      for (const g of gaps) expect(g.estimatedLost).toBeNull();
      if (verdict.inGap.length > 0) expect(gaps.reduce((n, g) => n + g.lost, 0)).toBeGreaterThan(0);
      expect(verdict.traced + verdict.inGap.length).toBe(BEFORE + AFTER);
    });
  });
});
