// Run a system command to completion, without a shell, optionally inside a
// named network namespace. Every lab mutation of the system goes through here.
import { execa } from "execa";
import { LabCommandError } from "./errors.js";

export interface RunOptions {
  /** Run inside this named netns (`ip netns exec <netns> ...`). Default: the caller's namespace. */
  netns?: string;
  /** Text fed on stdin (iptables-restore reads its rules there). Default: none. */
  input?: string;
  /** Return the failure instead of throwing (for idempotent teardown). Default: false. */
  allowFailure?: boolean;
  /** Kill the command after this many ms. Default: 15000. */
  timeoutMs?: number;
}

export interface RunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** `argv` prefixed with `ip netns exec <netns>` when a namespace is given. */
export function inNetns(netns: string | undefined, file: string, args: readonly string[]): [string, string[]] {
  return netns ? ["ip", ["netns", "exec", netns, file, ...args]] : [file, [...args]];
}

export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [bin, argv] = inNetns(opts.netns, file, args);
  const r = await execa(bin, argv, {
    reject: false,
    timeout: opts.timeoutMs ?? 15_000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: "ignore" as const }),
  });
  const res = { ok: r.exitCode === 0 && !r.failed, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
  if (!res.ok && !opts.allowFailure) {
    throw LabCommandError.failed([bin, ...argv].join(" "), res.stderr || r.shortMessage || "", { cause: r });
  }
  return res;
}
