// Whether a process still exists, for tests that check nothing was left
// running. Signal 0 performs the existence and permission checks only; it
// throws ESRCH once the process is gone (and reaped).
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
