// Tests that need root (bpftrace, network namespaces, iptables, setuid
// children) are skipped, not failed, for a developer without it: the lead and
// CI run them as root.
import { describe, it } from "vitest";

/** Whether this process runs as root (uid 0). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** `describe`, skipped unless running as root. */
export const describeRoot = describe.skipIf(!isRoot());

/** `it`, skipped unless running as root. */
export const itRoot = it.skipIf(!isRoot());
