// The probe's positional parameters in one place: what is ours ($1..$6, see
// self-exclusion.ts) and the UID whose threads' reads and sends are linked
// ($7: a sidecar's pooled upstreams, issue 10). bpftrace numbers them, so a
// link UID with no self-exclusion still needs the six before it (zeros).
import { InvalidArgumentError } from "../errors/mod.js";
import { MAX_SELF_PORTS, selfExclusionArgs, type SelfExclusion } from "./self-exclusion.js";

/** $1..$6 when nothing is ours: pid, the ports, netns all 0 (none). */
const NOTHING_OURS: readonly string[] = Array.from({ length: 2 + MAX_SELF_PORTS }, () => "0");

export interface ProgramArgsOptions {
  /** tcptrail's own sockets, skipped in the kernel; undefined traces everything. */
  exclude: SelfExclusion | undefined;
  /** The sidecar's UID: its threads' sends are linked to what they read (L lines). 0: no links. */
  linkUid: number;
}

/** The positional parameters for tcptrail.bt; none at all when there is nothing to say. */
export function programArgs(o: ProgramArgsOptions): string[] {
  if (!Number.isInteger(o.linkUid) || o.linkUid < 0 || o.linkUid > 2 ** 32 - 1) {
    throw InvalidArgumentError.format("link uid", "must be an integer 0..4294967295");
  }
  const self = selfExclusionArgs(o.exclude);
  if (o.linkUid === 0) return self;
  return [...(self.length > 0 ? self : NOTHING_OURS), String(o.linkUid)];
}
