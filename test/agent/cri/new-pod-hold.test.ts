// A pod's first events are published named: an unknown namespace inode makes
// the CRI resolver resync as the event arrives, and the pipeline holds the
// release (bounded) until that resync answers. Against a CRI server from the
// same proto (fake-runtime.ts), with a real network namespace for the inode,
// a pod that appears after the resolver's first resync. Root only.
import { statSync } from "node:fs";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterEach, beforeEach, expect, test } from "vitest";
import { synthesizeChurnRecording } from "../../../bench/synthetic-churn.js";
import { CriPodResolver } from "../../../src/agent/cri/mod.js";
import { EventPipeline } from "../../../src/agent/mod.js";
import { DEFAULT_NEW_POD_HOLD_MS } from "../../../src/agent/pod-resolver.js";
import { monotonicNs, type ConnEventInit } from "../../../src/model/mod.js";
import { describeRoot, makeTempDir, waitFor, type TempDir } from "../../helpers/mod.js";
import { FakeRuntime } from "./fake-runtime.js";

let tmp: TempDir;
let fake: FakeRuntime;
let holder: ResultPromise | undefined;

beforeEach(async () => {
  tmp = await makeTempDir("cri-hold");
  fake = new FakeRuntime();
  await fake.listen(join(tmp.path, "cri.sock"));
});

afterEach(async () => {
  holder?.kill("SIGKILL");
  await fake.close();
  await tmp.remove();
});

/** The synthetic churn's probe lines, moved to a second ago (past the reorder window) and into namespace `ino`. */
function linesIn(ino: number): string[] {
  const lines = [...synthesizeChurnRecording({ pairs: 3, rstShare: 0.5 })];
  const first = BigInt(/^\S+ (\d+)/.exec(lines[0]!)![1]!);
  const shift = monotonicNs() - 1_000_000_000n - first;
  return lines.map((l) =>
    l
      .split(" ")
      .map((f) => (/^\d{13,}$/.test(f) && BigInt(f) >= first - 1_000_000_000n ? String(BigInt(f) + shift) : f === "4026531833" ? String(ino) : f))
      .join(" "),
  );
}

describeRoot("a new pod's first events (CRI resolver, pipeline hold)", () => {
  test("are held while the resolver asks the runtime, then published with the pod's name and labels", async () => {
    const resolver = new CriPodResolver({ socket: join(tmp.path, "cri.sock"), hostName: "node-1", resyncMs: 3_600_000 });
    try {
      await resolver.ready();
      holder = execa("unshare", ["--net", "sh", "-c", "echo ready; exec sleep 600"], { reject: false });
      await new Promise<void>((resolve) => holder!.stdout!.once("data", () => resolve()));
      const path = `/proc/${holder.pid}/ns/net`;
      const ino = statSync(path).ino;
      // Started after the resolver's last resync: only an event's inode can make it known.
      fake.add({ id: "s-new", namespace: "shop", name: "new", uid: "u-new", labels: { app: "new" }, netnsPath: path });

      const out: ConnEventInit[] = [];
      const p = new EventPipeline({ settings: { node: "node-1" }, sink: (evs) => out.push(...evs), pods: resolver });
      for (const l of linesIn(ino)) p.feedLine(l);
      const fedAt = Date.now();
      p.tick();
      await waitFor(() => {
        p.tick();
        return out.some((e) => e.netns === ino);
      }, { what: "the new pod's events released" });
      p.stopSync();
      const inPod = out.filter((e) => e.netns === ino);
      expect(inPod.length).toBeGreaterThan(10);
      expect(inPod.filter((e) => e.pod !== "shop/new").map((e) => `${e.seq} kind ${e.kind} pod "${e.pod}"`)).toEqual([]);
      expect(inPod.every((e) => e.podLabels?.app === "new")).toBe(true);
      // Held for the resync, not for the bound.
      expect(Date.now() - fedAt).toBeLessThan(DEFAULT_NEW_POD_HOLD_MS * 4);
    } finally {
      resolver.close();
    }
  });

  test("when the runtime fails to answer, the events are published unnamed without waiting out the bound", async () => {
    const resolver = new CriPodResolver({ socket: join(tmp.path, "cri.sock"), hostName: "node-1", resyncMs: 3_600_000 });
    try {
      await resolver.ready();
      holder = execa("unshare", ["--net", "sh", "-c", "echo ready; exec sleep 600"], { reject: false });
      await new Promise<void>((resolve) => holder!.stdout!.once("data", () => resolve()));
      const ino = statSync(`/proc/${holder.pid}/ns/net`).ino;
      const out: ConnEventInit[] = [];
      const p = new EventPipeline({ settings: { node: "node-1" }, sink: (evs) => out.push(...evs), pods: resolver });
      // The runtime refuses (restarting): the resync fails and nothing is held for it.
      fake.down = true;
      for (const l of linesIn(ino)) p.feedLine(l);
      const fedAt = Date.now();
      await waitFor(() => {
        p.tick();
        return out.some((e) => e.netns === ino);
      }, { what: "the events released after the bound" });
      p.stopSync();
      expect(Date.now() - fedAt).toBeLessThan(DEFAULT_NEW_POD_HOLD_MS);
      expect(out.filter((e) => e.netns === ino).every((e) => e.pod === "")).toBe(true);
    } finally {
      resolver.close();
    }
  });
});
