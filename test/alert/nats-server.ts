// A private nats-server with JetStream for one test file: random free port,
// its own store directory, stopped by PID and cleaned up by stop().
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";

export interface TestNatsServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function startNatsServer(): Promise<TestNatsServer> {
  const dir = await mkdtemp(join(tmpdir(), "tcptrail-alert-nats-"));
  const port = await freePort();
  let proc: ResultPromise | undefined;
  const stop = async (): Promise<void> => {
    if (proc?.pid !== undefined && proc.exitCode === null) {
      process.kill(proc.pid, "SIGTERM");
      await proc.catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    proc = execa("/usr/sbin/nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir], {
      reject: false,
      buffer: false,
      stdout: "ignore",
      stderr: "pipe",
    });
    const pid = proc.pid;
    if (pid === undefined) throw new Error("nats-server did not start");
    await new Promise<void>((resolve, reject) => {
      let log = "";
      const timer = setTimeout(() => reject(new Error(`nats-server not ready after 10 s:\n${log}`)), 10_000);
      proc!.stderr!.on("data", (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes("Server is ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
      void proc!.then(() => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited:\n${log}`));
      });
    });
    return { url: `nats://127.0.0.1:${port}`, pid, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
