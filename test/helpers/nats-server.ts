// The one nats-server for tests: the same launcher `tcptrail run` uses
// (startEmbeddedNats: the real binary, JetStream on, a free port picked at
// start), with its store in a private temp dir. close() stops the process by
// its pid and removes the dir; a start that fails cleans up after itself.
import { startEmbeddedNats, type EmbeddedNats } from "../../src/transport/mod.js";
import { makeTempDir } from "./temp-dir.js";

export interface TestNatsOptions {
  /** Names the temp dir (`tcptrail-<label>-XXXXXX`). Default "nats". */
  label?: string;
  /** nats-server binary. Default: the launcher's (/usr/sbin/nats-server, else PATH). */
  binary?: string;
}

export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  /** The pid of the running process (a new one after restart()). */
  readonly pid: number;
  /** The private directory holding the JetStream store. */
  readonly dir: string;
  /** Stop the process, keeping its store: an outage. Idempotent. */
  stop(): Promise<void>;
  /** Stop if running, then start again on the same port with the same store. */
  restart(): Promise<void>;
  /** Stop the process and remove the store dir. Idempotent; for afterAll/afterEach. */
  close(): Promise<void>;
}

export async function startNatsServer(o: TestNatsOptions = {}): Promise<TestNatsServer> {
  const dir = await makeTempDir(o.label ?? "nats");
  const launch = (port?: number) =>
    startEmbeddedNats({ stateDir: dir.path, ...(port !== undefined ? { port } : {}), ...(o.binary !== undefined ? { binary: o.binary } : {}) });
  let server: EmbeddedNats;
  try {
    server = await launch();
  } catch (e) {
    await dir.remove();
    throw e;
  }
  const { url, port } = server;
  let closed = false;
  return {
    url,
    port,
    get pid() {
      return server.pid;
    },
    dir: dir.path,
    stop: () => server.stop(),
    async restart() {
      if (closed) throw new Error("restart() after close()");
      await server.stop();
      server = await launch(port);
    },
    async close() {
      closed = true;
      try {
        await server.stop();
      } finally {
        await dir.remove();
      }
    },
  };
}
