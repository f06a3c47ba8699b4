// The netns → name resolver against real named namespaces (`ip netns`), real
// bind mounts and a real inotify watch. Needs root for the namespace cases.
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { Agent, DEFAULT_TOMBSTONE_MS, NetnsDirResolver } from "../../src/agent/mod.js";
import type { ConnEventInit } from "../../src/model/mod.js";
import { describeRoot, makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";

const NETNS_DIR = "/run/netns";
let seq = 0;
const created: string[] = []; // namespace names, deleted after each test
const mounts: string[] = []; // bind mounts, unmounted after each test
const temps: TempDir[] = [];
const resolvers: NetnsDirResolver[] = [];

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** A fresh named namespace; returns its name and netns inode. */
function addNetns(): { name: string; ino: number } {
  const name = `ttpr-${process.pid}-${++seq}`;
  created.push(name);
  ip("netns", "add", name);
  return { name, ino: statSync(join(NETNS_DIR, name)).ino };
}

function bindMount(from: string, to: string): void {
  writeFileSync(to, "");
  execFileSync("mount", ["--bind", from, to]);
  mounts.push(to);
}

async function tempDir(): Promise<string> {
  const t = await makeTempDir("pod-resolver");
  temps.push(t);
  return t.path;
}

/** A controllable clock: only the test moves it. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function resolver(o: ConstructorParameters<typeof NetnsDirResolver>[0]): NetnsDirResolver {
  const r = new NetnsDirResolver(o);
  resolvers.push(r);
  return r;
}

// Inode numbers no namespace has (nsfs numbers start at 0xF0000000).
let fakeIno = 1000;
const unknownIno = () => ++fakeIno;

// Each step on its own: a failing one must not leave namespaces or mounts behind.
afterEach(async () => {
  for (const r of resolvers.splice(0)) {
    try {
      r.close();
    } catch {
      // the namespaces below matter more
    }
  }
  for (const m of mounts.splice(0).reverse()) {
    try {
      execFileSync("umount", [m], { stdio: "ignore" });
    } catch {
      // already gone (ip netns del unmounts its own)
    }
  }
  for (const name of created.splice(0)) {
    try {
      ip("netns", "del", name);
    } catch {
      // deleted by the test itself
    }
  }
  for (const t of temps.splice(0)) await t.remove();
});

describe("NetnsDirResolver (no root needed)", () => {
  test("an unknown inode rescans at once, then not again until its own wait is over; another unknown inode is not held up", async () => {
    const clock = fakeClock();
    const r = resolver({ hostName: "node-1", dir: await tempDir(), now: clock.now, missRetryMs: 50, maxMissRetryMs: 400 });
    expect(r.watching).toBe(true);
    const base = r.scans;
    const a = unknownIno();
    expect(r.resolve(a)).toBe("");
    expect(r.scans).toBe(base + 1);
    for (let i = 0; i < 100; i++) r.resolve(a);
    expect(r.scans).toBe(base + 1);
    // a different unknown inode: a new pod's first event must not wait for a's limit
    expect(r.resolve(unknownIno())).toBe("");
    expect(r.scans).toBe(base + 2);
    // a's wait (50 ms) is over: one rescan, then the wait doubles (100 ms)
    clock.advance(50);
    r.resolve(a);
    r.resolve(a);
    expect(r.scans).toBe(base + 3);
    clock.advance(99);
    r.resolve(a);
    expect(r.scans).toBe(base + 3);
    clock.advance(1);
    r.resolve(a);
    expect(r.scans).toBe(base + 4);
  });

  test("a known inode (the host's) is a lookup, never a rescan, while the directory is watched", async () => {
    const clock = fakeClock();
    const r = resolver({ hostName: "node-1", dir: await tempDir(), now: clock.now });
    expect(r.watching).toBe(true);
    const host = statSync("/proc/self/ns/net").ino;
    const base = r.scans;
    clock.advance(3_600_000);
    for (let i = 0; i < 1000; i++) expect(r.resolve(host)).toBe("node-1");
    expect(r.scans).toBe(base);
  });

  test("a plain file in the directory (an entry not yet bind-mounted) names nothing", async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, "not-mounted"), "");
    const r = resolver({ hostName: "node-1", dir });
    expect(r.resolve(statSync(join(dir, "not-mounted")).ino)).toBe("");
  });
});

describeRoot("NetnsDirResolver with real namespaces (root)", () => {
  test("a namespace added a moment ago resolves on its first lookup, and so does the next one", () => {
    const r = resolver({ hostName: "node-1" });
    // No sleep, no watch event delivered yet (all synchronous): only the lookup itself can find them.
    const x = addNetns();
    expect(r.resolve(x.ino)).toBe(x.name);
    const y = addNetns();
    expect(r.resolve(y.ino)).toBe(y.name);
    expect(r.resolve(x.ino)).toBe(x.name);
  });

  test("a deleted namespace keeps its name as a tombstone, until it expires", () => {
    const clock = fakeClock();
    const r = resolver({ hostName: "node-1", now: clock.now });
    const x = addNetns();
    expect(r.resolve(x.ino)).toBe(x.name);
    ip("netns", "del", x.name);
    const before = r.scans;
    r.resolve(unknownIno()); // a rescan, which no longer sees x
    expect(r.scans).toBe(before + 1);
    expect(r.resolve(x.ino)).toBe(x.name);
    clock.advance(DEFAULT_TOMBSTONE_MS - 1);
    r.resolve(unknownIno());
    expect(r.resolve(x.ino)).toBe(x.name);
    clock.advance(1);
    r.resolve(unknownIno()); // the rescan that drops the expired tombstone
    expect(r.resolve(x.ino)).toBe("");
  });

  test("an inode found under a new name wins over its tombstone (the kernel reuses inode numbers)", async () => {
    const clock = fakeClock();
    const r = resolver({ hostName: "node-1", now: clock.now, missRetryMs: 50 });
    const old = addNetns();
    // Keep the namespace alive outside /run/netns so that it can come back under another name:
    // to the resolver, exactly what a new namespace reusing the inode looks like.
    const holder = join(await tempDir(), "holder");
    bindMount(join(NETNS_DIR, old.name), holder);
    expect(r.resolve(old.ino)).toBe(old.name);
    ip("netns", "del", old.name);
    r.resolve(unknownIno());
    expect(r.resolve(old.ino)).toBe(old.name); // tombstone
    const renamed = `ttpr-${process.pid}-${++seq}`;
    created.push(renamed);
    bindMount(holder, join(NETNS_DIR, renamed));
    expect(statSync(join(NETNS_DIR, renamed)).ino).toBe(old.ino);
    clock.advance(50); // the inode's own wait; the watch may or may not have reported the change yet
    expect(r.resolve(old.ino)).toBe(renamed);
  });

  test("with the directory watched, a known inode that changed names is renamed without a clock tick", async () => {
    const clock = fakeClock(); // never advanced: only the watch can trigger the rescan
    const r = resolver({ hostName: "node-1", now: clock.now });
    expect(r.watching).toBe(true);
    const a = addNetns();
    expect(r.resolve(a.ino)).toBe(a.name);
    const holder = join(await tempDir(), "holder");
    bindMount(join(NETNS_DIR, a.name), holder);
    ip("netns", "del", a.name);
    const b = `ttpr-${process.pid}-${++seq}`;
    created.push(b);
    bindMount(holder, join(NETNS_DIR, b));
    // a is still the live name in the map; nothing but the watch says it is stale
    await waitFor(() => r.resolve(a.ino) === b, { what: `inode ${a.ino} renamed to ${b}`, timeoutMs: 5000 });
  });

  test("a directory that does not exist yet: found on the first lookup once it does, then watched", async () => {
    const dir = join(await tempDir(), "netns");
    const r = resolver({ hostName: "node-1", dir });
    expect(r.watching).toBe(false);
    const x = addNetns();
    mkdirSync(dir);
    bindMount(join(NETNS_DIR, x.name), join(dir, "late"));
    expect(r.resolve(x.ino)).toBe("late");
    expect(r.watching).toBe(true);
  });
});

describeRoot("the agent and a namespace named after its socket was first seen (root)", () => {
  // Kernel times far ahead of this process's monotonic clock: with no reorder
  // window, tick() releases everything fed so far.
  const T = 1n << 53n;

  test("a socket's pod is resolved again while it is \"\", so its later events get the name", async () => {
    const clock = fakeClock();
    const dir = await tempDir();
    const pods = resolver({ hostName: "node-1", dir, now: clock.now, missRetryMs: 50 });
    const out: ConnEventInit[] = [];
    const agent = new Agent({ node: "node-1", sink: (evs) => out.push(...evs), pods, reorderWindowMs: 0 });
    const x = addNetns(); // a real namespace, not (yet) named in dir
    // A non-blocking connect announces the socket (its CLOSE>SYN_SENT birth replayed from bits 4), then the syscall.
    agent.feed(`C ${T + 1000n} ffff1 7 7 -115 4 4 10.0.0.2 80 2 4 0 0 4 10.0.0.1 40000 10.0.0.2 80 ${x.ino} 0 curl`);
    agent.tick();
    expect(out.map((e) => e.pod)).toEqual(["", ""]);
    bindMount(join(NETNS_DIR, x.name), join(dir, "pod-late")); // e.g. a CNI naming the sandbox's netns
    clock.advance(50);
    agent.feed(`S ${T + 2000n} ffff1 2 1`); // ESTABLISHED
    agent.feed(`S ${T + 3000n} ffff1 1 8`); // CLOSE_WAIT
    agent.tick();
    await agent.stop();
    expect(out.map((e) => e.pod)).toEqual(["", "", "pod-late", "pod-late"]);
  });
});
