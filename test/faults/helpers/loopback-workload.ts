// A known number of loopback connections, each one remembered by its client
// port and the kernel-clock interval it lived in, so that a fault test can
// say of every single connection whether it was traced, and if not, whether
// a GAP covers it. Runs in the test process: the tracer under test is another
// process, and its faults (kill, SIGSTOP) must not slow the workload down.
// Each connection: connect, one byte each way, the server closes first (FIN),
// the client answers with its own close.
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

/** Offered connections per second: enough to be "under load" for a 2-core agent, few enough to count one by one. */
export const DEFAULT_WORKLOAD_RATE = 200;
/** Connections in flight at most: a stalled peer must not make the workload open thousands. */
export const DEFAULT_WORKLOAD_CONCURRENCY = 32;

export interface WorkloadConnection {
  clientPort: number;
  /** Kernel clock (ns since boot, what bpftrace's nsecs reads) before connect(). */
  openNs: bigint;
  /** Kernel clock after the client's close. */
  closeNs: bigint;
}

export interface Workload {
  readonly port: number;
  /** Connections finished so far. */
  readonly done: readonly WorkloadConnection[];
  /** Connections that failed (connect error, short read): a test expects none. */
  readonly failures: readonly string[];
  /** Start `count` connections at `rate`/s; resolves when all have finished. */
  run(count: number, rate?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Node's hrtime is CLOCK_MONOTONIC, bpftrace's nsecs is ktime_get_ns (the
 * same clock): the intervals compare with event times directly.
 */
const kernelNow = (): bigint => process.hrtime.bigint();

export async function startWorkload(concurrency = DEFAULT_WORKLOAD_CONCURRENCY): Promise<Workload> {
  const server: Server = createServer((s: Socket) => {
    s.once("data", () => s.end("y"));
    s.on("error", () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const done: WorkloadConnection[] = [];
  const failures: string[] = [];

  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const openNs = kernelNow();
      const c = connect({ host: "127.0.0.1", port });
      let clientPort = 0;
      let got = false;
      c.once("connect", () => {
        clientPort = c.localPort ?? 0;
        c.write("x");
      });
      c.once("data", () => (got = true));
      c.once("end", () => c.end());
      c.once("error", (e) => failures.push(`${clientPort}: ${e.message}`));
      c.once("close", () => {
        if (got && clientPort) done.push({ clientPort, openNs, closeNs: kernelNow() });
        else if (!failures.some((f) => f.startsWith(`${clientPort}:`))) failures.push(`${clientPort}: closed without an answer`);
        resolve();
      });
    });

  const run = async (count: number, rate = DEFAULT_WORKLOAD_RATE): Promise<void> => {
    const t0 = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let k = 0; k < count; k++) {
      // Paced on one schedule: connection k is due at t0 + k/rate.
      const due = t0 + (k * 1000) / rate - performance.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      const p = one().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  };

  return {
    port,
    done,
    failures,
    run,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
