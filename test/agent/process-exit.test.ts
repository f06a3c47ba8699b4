// The probe reports the exit of a process it named in process context (a "P"
// line from sched:sched_process_exit), and only of those, so the agent can
// forget what it learned of a pid (its container) before the kernel reuses
// the number. The real agent (bpftrace, the in-thread pipeline) with a
// resolver that records what the pipeline tells it. Root only.
import { createServer, type Server } from "node:net";
import { execa } from "execa";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Agent, type PodResolver } from "../../src/agent/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { describeRoot, waitFor } from "../helpers/mod.js";

const CLIENT = ["import socket, sys", "c = socket.create_connection(('127.0.0.1', int(sys.argv[1]))); c.close()"].join("\n");

describeRoot("process exits (real bpftrace)", () => {
  const noted = new Set<number>();
  const exited: number[] = [];
  const recorder: PodResolver = {
    resolve: () => "",
    noteProcess: (pid) => {
      noted.add(pid);
      return false;
    },
    processExited: (pid) => void exited.push(pid),
  };
  let agent: Agent;
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    server = createServer((s) => s.on("data", () => undefined).on("error", () => undefined));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
    agent = new Agent({ node: "exit-test", sink: () => undefined, pods: recorder, logger: silentLogger });
    await agent.start();
  });

  afterAll(async () => {
    await agent?.stop();
    server?.close();
  });

  test("a process that connected is reported exited once, with its pid; one that made no socket is not", async () => {
    // No socket: never named by a C, A, X or Y line, so its exit is not printed.
    const quiet = execa("sh", ["-c", "exit 0"]);
    await quiet;
    const client = execa("python3", ["-S", "-c", CLIENT, String(port)]);
    await client;
    const pid = client.pid!;
    await waitFor(() => exited.includes(pid), { what: `the P line of the client (pid ${pid})` });
    expect(noted.has(pid)).toBe(true);
    expect(exited.filter((p) => p === pid)).toEqual([pid]);
    expect(exited).not.toContain(quiet.pid);
  });
});
