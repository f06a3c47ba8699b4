// The agent part's options: where the replayed probe output comes from. By
// default it is recorded from bpftrace during a loopback churn; `--replay`
// takes a saved recording instead (`--replay synthetic`: one made from the
// churn's line shapes, bench/synthetic-churn.ts), for a machine or a moment
// where bpftrace must not run. Only the replay is measured then: the other
// agent measurements need bpftrace.

export const AGENT_FLAGS = ["replay", "save-recording"] as const;

/** `--replay synthetic`: the generated churn recording. */
export const SYNTHETIC_REPLAY = "synthetic";

export type ReplaySource = { kind: "bpftrace" } | { kind: "synthetic" } | { kind: "file"; path: string };

export interface AgentBenchOptions {
  replay: ReplaySource;
  /** Where to save the recording replayed (to replay it again with --replay FILE). */
  saveRecording: string | undefined;
}

export function agentOptions(flags: ReadonlyMap<string, string>): AgentBenchOptions {
  const replay = flags.get("replay");
  const save = flags.get("save-recording");
  if (replay !== undefined && replay.trim() === "") throw new Error(`--replay takes a file or "${SYNTHETIC_REPLAY}", got ""`);
  if (save !== undefined && save.trim() === "") throw new Error("--save-recording takes a file");
  return {
    replay: replay === undefined ? { kind: "bpftrace" } : replay === SYNTHETIC_REPLAY ? { kind: "synthetic" } : { kind: "file", path: replay },
    saveRecording: save,
  };
}
