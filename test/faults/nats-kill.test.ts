// Issue 12 part 9: the embedded nats-server dies (kill -9) while connections
// come and go. `run` restarts it; the agent's bounded queue holds the events
// meanwhile and publishes them after, deduplicated by msgID: every connection
// traced exactly once, no duplicate. Root: a real `tcptrail run` with bpftrace.
import { expect, it } from "vitest";
import { describeRoot, waitFor } from "../helpers/mod.js";
import { withScenario } from "./helpers/scenario.js";
import { childPid, killHard } from "./helpers/tcptrail-run.js";

const BEFORE = 200;
const DURING = 600;

describeRoot("fault: nats-server kill -9 and restart (root)", () => {
  it("restarts nats-server; every connection traced exactly once, none twice", { timeout: 120_000 }, async () => {
    await withScenario("nats", async (s) => {
      await s.workload.run(BEFORE);
      const first = await childPid(s.run.proc.pid, "nats-server");
      const load = s.workload.run(DURING);
      await waitFor(() => s.workload.done.length >= BEFORE + 50, { what: "the workload under way" });
      await killHard(first, "nats-server");
      await waitFor(async () => ((await childPid(s.run.proc.pid, "nats-server")) !== first ? true : undefined), { what: "a new nats-server", timeoutMs: 30_000 });
      await load;
      expect(s.workload.failures).toEqual([]);
      expect(s.workload.done).toHaveLength(BEFORE + DURING);
      const { verdict, gaps } = await s.settle(60_000);
      // The queue held everything (a few thousand events): nothing dropped, so no GAP.
      expect(gaps).toEqual([]);
      expect(verdict.traced).toBe(BEFORE + DURING);
    });
  });
});
