// A nats-server left behind by a tcptrail run that died without stopping it
// (before servers got a death signal, or when setpriv is missing) still holds
// the port and the JetStream directory, and the next run failed with "address
// already in use". The server writes its pid file into our state directory, so
// at start we can tell it is ours and replace it.
import { readFile, rm } from "node:fs/promises";

export interface StaleServer {
  pid: number;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but not ours to signal.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The command line of pid, "" when it is gone or unreadable. */
async function cmdline(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ");
  } catch {
    return "";
  }
}

/**
 * Stop the nats-server named by pidFile if it still runs on storeDir; remove
 * a pid file that names anything else (a reused pid is not ours to kill).
 * @returns the server stopped, or null when there was none.
 */
export async function replaceStaleServer(pidFile: string, storeDir: string, graceMs: number): Promise<StaleServer | null> {
  let text: string;
  try {
    text = await readFile(pidFile, "utf8");
  } catch {
    return null;
  }
  await rm(pidFile, { force: true });
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return null;
  const cmd = await cmdline(pid);
  if (!cmd.includes("nats-server") || !cmd.includes(storeDir)) return null;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  // SIGKILL cannot be refused; init reaps the orphan within moments. Bounded anyway.
  const killDeadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 10));
  return { pid };
}
