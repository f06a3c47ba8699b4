// The real probe links a pooled proxy's reads and sends (issue 10), on every
// bpftrace this machine has: a tiny proxy running as the sidecar UID serves
// clients A, B, C, D in turn over ONE upstream connection. The agent must say
// upstream <- A, A <- upstream, then upstream <- B (the pooled reuse, even
// when B's socket takes A's freed address, as it mostly does here),
// B <- upstream, and so on; the same proxy under another UID, and this (root)
// process's own reads and sends, nothing.
// Root: bpftrace loads eBPF programs, setpriv changes the proxy's UID.
import { existsSync, realpathSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { describe, expect, test } from "vitest";
import { Agent } from "../../src/agent/mod.js";
import { EventKind, type ConnEventInit } from "../../src/model/mod.js";
import { BPFTRACE_ENV, DEFAULT_BPFTRACE_PREFIX, findExecutable } from "../../src/probes/mod.js";
import { isRoot, waitFor } from "../helpers/mod.js";

const PROXY = fileURLToPath(new URL("./fixtures/pooled-proxy.py", import.meta.url));
// UIDs no account uses: not 1337, which a lab's HAProxy sidecars may be running as meanwhile.
const SIDECAR_UID = 61_337;
const OTHER_UID = 61_338;

/** Every distinct bpftrace here: the one on PATH (0.17), deploy/setup.sh's (0.23), $TCPTRAIL_BPFTRACE. */
function bpftraces(): Array<{ label: string; bin: string }> {
  const found = [
    { label: "on PATH", bin: findExecutable("bpftrace") },
    { label: "private install", bin: join(DEFAULT_BPFTRACE_PREFIX, "bin", "bpftrace") },
    { label: `$${BPFTRACE_ENV}`, bin: process.env[BPFTRACE_ENV] },
  ];
  const seen = new Set<string>();
  return found.filter((c): c is { label: string; bin: string } => {
    if (!c.bin || !existsSync(c.bin)) return false;
    const real = realpathSync(c.bin);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** An upstream that answers every chunk with "resp:" and the chunk; counts its connections. */
async function upstream(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.on("data", (d) => s.write(`resp:${d.toString()}`)).on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, connections: () => n };
}

interface Proxy {
  child: ResultPromise;
  pid: number;
  listenPort: number;
  upstreamLocalPort: number;
  /** The clients' ports, as the proxy saw them, in the order it served them. */
  served: number[];
}

/** The pooled proxy as `uid`, serving `clients` clients over one upstream connection. */
async function startProxy(uid: number, upstreamPort: number, clients: number, children: ResultPromise[]): Promise<Proxy> {
  const child = execa("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "python3", "-S", PROXY, String(upstreamPort), String(clients)], {
    reject: false,
    buffer: false,
    stdin: "ignore",
    // The system's python: root's PATH may lead to an interpreter under /root, which the proxy's UID cannot run.
    env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
    extendEnv: false,
  });
  children.push(child);
  const proxy = { child, pid: child.pid!, listenPort: 0, upstreamLocalPort: 0, served: [] as number[] };
  let text = "";
  child.stdout!.on("data", (c: Buffer) => {
    text += c.toString();
    const lines = text.split("\n").filter(Boolean).map((l) => l.trim());
    const [ports, ...served] = lines;
    const [listen, up] = (ports ?? "").split(" ").map(Number);
    proxy.listenPort = listen ?? 0;
    proxy.upstreamLocalPort = up ?? 0;
    proxy.served = served.map(Number);
  });
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the proxy exited (${child.exitCode}) before listening`);
      return proxy.listenPort > 0;
    },
    { what: `the proxy (uid ${uid}) to listen` },
  );
  return proxy;
}

/** One client: a request, its answer, then the client closes first. Returns its local port. */
async function request(port: number, body: string): Promise<number> {
  const s: Socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => s.once("connect", resolve).once("error", reject));
  const local = s.localPort!;
  const answer = new Promise<string>((resolve, reject) => s.once("data", (d) => resolve(d.toString())).once("error", reject));
  s.write(body);
  expect(await answer).toBe(`resp:${body}`);
  await new Promise<void>((resolve) => s.end(resolve));
  return local;
}

// Clients one after another: a closed client's struct sock is often reused for
// the next (the slab is LIFO per CPU), which is when telling sources apart by
// address alone would miss the pooled reuse. Four make that likely.
const CLIENTS = ["A", "B", "C", "D"];

/** A pooled proxy as `uid` serves the clients in turn; returns it and their ports once it has served them all. */
async function serveClients(uid: number, upstreamPort: number, children: ResultPromise[]): Promise<{ proxy: Proxy; clients: number[] }> {
  const proxy = await startProxy(uid, upstreamPort, CLIENTS.length, children);
  const clients: number[] = [];
  for (const [i, name] of CLIENTS.entries()) {
    clients.push(await request(proxy.listenPort, name));
    await waitFor(() => proxy.served.length > i, { what: `the proxy to be done with client ${name}` });
  }
  return { proxy, clients };
}

const bins = bpftraces();

describe.skipIf(!isRoot() || bins.length === 0)("socket links from the real probe", () => {
  test.each(bins)("bpftrace $label ($bin): a pooled upstream reused for a second client is linked to both, for the sidecar UID only", async ({ bin }) => {
    const events: ConnEventInit[] = [];
    const children: ResultPromise[] = [];
    const up = await upstream();
    const agent = new Agent({
      node: "socket-link-test",
      sink: (evs) => events.push(...evs),
      bpftrace: bin,
      mesh: { sidecarUid: SIDECAR_UID },
      pods: { resolve: () => "" },
    });
    try {
      await agent.start();
      // Another UID first: once the sidecar's links (later) are in, its would be too.
      const other = await serveClients(OTHER_UID, up.port, children);
      const side = await serveClients(SIDECAR_UID, up.port, children);
      const n = CLIENTS.length;
      const linksOf = (pid: number) => events.filter((e) => e.kind === EventKind.EVENT_KIND_SOCKET_LINK && e.process?.pid === pid);
      await waitFor(() => linksOf(side.proxy.pid).length >= 2 * n, { what: `the sidecar proxy's ${2 * n} links`, timeoutMs: 20_000 });
      // The other proxy was traced (its accepts are in), it just printed no link.
      await waitFor(() => events.filter((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_ACCEPT && e.process?.pid === other.proxy.pid).length === n, {
        what: "the other UID's proxy's accepts",
      });
      expect(linksOf(other.proxy.pid)).toEqual([]);
      // Nor did anyone else (this root process reads and writes too).
      expect(events.filter((e) => e.kind === EventKind.EVENT_KIND_SOCKET_LINK && e.process?.pid !== side.proxy.pid)).toEqual([]);

      expect(up.connections()).toBe(2); // one upstream connection per proxy: pooled
      const accepts = events.filter((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_ACCEPT && e.process?.pid === side.proxy.pid);
      const upSock = events.find((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_CONNECT && e.process?.pid === side.proxy.pid)?.sock;
      const downSocks = side.clients.map((port) => accepts.find((e) => e.remote?.port === port)?.sock);
      expect(upSock).toBeTruthy();
      expect(downSocks.every(Boolean)).toBe(true);
      const links = linksOf(side.proxy.pid);
      // Per client: its request out on the upstream, then the answer back to it.
      // From the second client on, the upstream is the SAME socket: the pooled reuse.
      expect(links.map((e) => [e.sock, e.linkedSock])).toEqual(downSocks.flatMap((d) => [[upSock, d], [d, upSock]]));
      // Each send followed a read of exactly one socket.
      expect(links.map((e) => e.linkSources)).toEqual(Array(2 * n).fill(1));
      // Attributed as its socket: the upstream's tuple on its links, each client's on its own.
      expect(links.map((e) => (e.sock === upSock ? e.local?.port : e.remote?.port))).toEqual(side.clients.flatMap((c) => [side.proxy.upstreamLocalPort, c]));
      expect(links.every((e) => e.uid === SIDECAR_UID && e.owner?.pid === side.proxy.pid)).toBe(true);
    } finally {
      for (const c of children) c.kill("SIGKILL");
      await agent.stop();
      await new Promise<void>((r) => up.server.close(() => r()));
    }
  }, 90_000);
});
