// Stops a long-running command cleanly on SIGINT/SIGTERM: every stop hook
// runs (bpftrace detaches, queues drain, child servers exit) before the
// process does. A second signal forces the exit.
import type { Logger } from "../log/logger.js";

export function onShutdown(log: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, "second signal: exiting now");
        process.exit(130);
      }
      stopping = true;
      log.info({ signal }, "stopping");
      stop()
        .catch((err: unknown) => log.error({ err }, "error while stopping"))
        .finally(() => {
          process.off("SIGINT", handler);
          process.off("SIGTERM", handler);
          resolve();
        });
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}
