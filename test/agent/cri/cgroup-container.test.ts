// Which container a process runs in, from /proc/<pid>/cgroup: both cgroup
// drivers' layouts (systemd scopes, cgroupfs paths), cgroup v1 and v2, and
// processes in no container; the per-process cache in front of it.
import { describe, expect, test } from "vitest";
import { ProcessContainers, containerIdOfCgroup, readContainerId } from "../../../src/agent/cri/mod.js";

const ID = "4c0a5a5b1e7c2f9d8e6b3a1f0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";
const POD = "pod6b7f1c2e_3d4a_4b5c_8d9e_0f1a2b3c4d5e";

describe("container id from /proc/<pid>/cgroup", () => {
  test.each([
    ["systemd driver, cgroup v2 (containerd)", `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-${POD}.slice/cri-containerd-${ID}.scope\n`],
    ["systemd driver, CRI-O", `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-${POD}.slice/crio-${ID}.scope\n`],
    ["systemd driver, a cgroup the container made below its scope", `0::/kubepods.slice/kubepods-${POD}.slice/cri-containerd-${ID}.scope/init\n`],
    [
      "cgroupfs driver, cgroup v1 (every controller names it)",
      `12:pids:/kubepods/burstable/${POD.replaceAll("_", "-")}/${ID}\n11:memory:/kubepods/burstable/${POD.replaceAll("_", "-")}/${ID}\n1:name=systemd:/kubepods/burstable/${POD.replaceAll("_", "-")}/${ID}\n0::/\n`,
    ],
    ["cgroupfs driver, no cgroup parent (containerd's namespace as parent)", `0::/k8s.io/${ID}\n`],
    ["cgroup v1 with a hybrid systemd: only the controllers' lines name it", `9:name=systemd:/\n4:memory:/k8s.io/${ID}\n1:cpu:/k8s.io/${ID}\n0::/\n`],
  ])("%s", (_, text) => {
    expect(containerIdOfCgroup(text)).toBe(ID);
  });

  test.each([
    ["a login session", "0::/user.slice/user-0.slice/session-3.scope\n"],
    ["a node service (containerd itself)", "0::/system.slice/containerd.service\n"],
    ["the root cgroup, v1 and v2", "9:name=systemd:/\n4:memory:/\n0::/\n"],
    ["the pod's cgroup, in no container of it", `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-${POD}.slice\n`],
    ["CRI-O's conmon, beside its container", `0::/kubepods.slice/kubepods-${POD}.slice/crio-conmon-${ID}.scope\n`],
    ["a 32-hex id (not a container's)", "4:memory:/process_api/e7c60e9e8981aa127883b2b44585db68\n0::/\n"],
    ["an empty file", ""],
  ])("%s is in no container", (_, text) => {
    expect(containerIdOfCgroup(text)).toBeUndefined();
  });

  test("a live process is read from the real /proc; a pid that does not exist is undefined", () => {
    const own = readContainerId(process.pid);
    expect(typeof own).toBe("string");
    // Whatever this test runs in, the parse of the real file is the answer.
    expect(readContainerId(2 ** 22 + 7)).toBeUndefined();
  });
});

describe("ProcessContainers: one /proc read per process", () => {
  function cache(o: { max?: number } = {}) {
    let now = 1000;
    const reads: number[] = [];
    const answers = new Map<number, string | undefined>();
    const c = new ProcessContainers({
      now: () => now,
      exitedKeepMs: 500,
      ...(o.max !== undefined ? { maxProcesses: o.max } : {}),
      read: (pid) => {
        reads.push(pid);
        return answers.get(pid);
      },
    });
    return { c, reads, answers, advance: (ms: number) => (now += ms) };
  }

  test("a pid seen again is answered without reading", () => {
    const { c, reads, answers } = cache();
    answers.set(10, ID).set(11, "");
    expect(c.note(10)).toBe(ID);
    expect(c.note(10)).toBe(ID);
    expect(c.note(11)).toBe("");
    expect(c.note(11)).toBe("");
    expect(c.containerOf(10)).toBe(ID);
    expect(reads).toEqual([10, 11]);
  });

  test("an exited process keeps its answer while its events are released, then a new process with its pid is read afresh", () => {
    const { c, reads, answers, advance } = cache();
    answers.set(10, ID);
    c.note(10);
    c.exited(10);
    expect(c.containerOf(10)).toBe(ID);
    advance(499);
    c.note(20);
    expect(c.containerOf(10)).toBe(ID);
    advance(1);
    c.note(21);
    expect(c.containerOf(10)).toBeUndefined();
    // The pid reused before the keep ran out: the new process is read, and the old exit does not drop it.
    answers.set(30, ID);
    c.note(30);
    c.exited(30);
    answers.set(30, "");
    expect(c.note(30)).toBe("");
    advance(1000);
    c.note(31);
    expect(c.containerOf(30)).toBe("");
    expect(reads.filter((p) => p === 30)).toHaveLength(2);
  });

  test("a process gone before it could be read is not cached; the cache is bounded, oldest out", () => {
    const { c, reads, answers } = cache({ max: 2 });
    expect(c.note(5)).toBeUndefined();
    expect(c.note(5)).toBeUndefined();
    expect(reads).toEqual([5, 5]);
    answers.set(1, "a").set(2, "b").set(3, "c");
    c.note(1);
    c.note(2);
    c.note(3);
    expect(c.size).toBe(2);
    expect(c.containerOf(1)).toBeUndefined();
    expect(c.containerOf(3)).toBe("c");
  });
});
