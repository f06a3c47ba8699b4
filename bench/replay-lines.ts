// A recording of probe output stretched to a replay of a given length: the
// recording is repeated, each copy shifted later by the recording's span, so
// the replay looks like one long run to the agent (the reorder buffer and
// the socket table would otherwise see time go backwards). Every kernel time
// of a line moves, not only its ts: a folded birth left behind would make
// each copy's openings arrive seconds late.

/** Fields (0 = tag) holding kernel ns, per tag (probes/README.md); 0 in born/est means "none" and stays 0. */
const TIME_FIELDS: Readonly<Record<string, readonly number[]>> = {
  O: [1, 13, 14],
  S: [1],
  E: [1],
  Y: [1],
  R: [1],
  r: [1, 13, 14],
  K: [1],
  C: [1, 12, 13],
  A: [1, 8, 9],
  X: [1],
  H: [1],
  D: [1],
};

/**
 * The event lines of `recorded` (not B: one clock calibration is enough, nor
 * bpftrace's own lines) repeated to at least `minLines`, each copy shifted;
 * with `startNs`, the whole replay is moved to begin there. Kernel ns stay
 * exact (bigint): a recording from a machine up 104+ days is past 2^53.
 */
export function replayLines(recorded: readonly string[], minLines: number, startNs?: bigint): string[] {
  const events = recorded.filter((l) => TIME_FIELDS[l.charAt(0)] !== undefined && /^. \d+ /.test(l));
  if (events.length === 0) return [];
  let min = -1n;
  let max = -1n;
  for (const l of events) {
    const ts = BigInt(l.slice(2, l.indexOf(" ", 2)));
    if (min < 0n || ts < min) min = ts;
    if (ts > max) max = ts;
  }
  const span = max - min + 1000n;
  const lines: string[] = [];
  const from = startNs === undefined ? 0n : startNs - min;
  for (let rep = 0n; lines.length < minLines; rep++) {
    const by = from + rep * span;
    for (const l of events) lines.push(by === 0n ? l : shifted(l, by));
  }
  return lines;
}

function shifted(line: string, by: bigint): string {
  const fields = line.split(" ");
  for (const i of TIME_FIELDS[line.charAt(0)]!) {
    const f = fields[i];
    if (f !== undefined && f !== "0" && /^\d+$/.test(f)) fields[i] = String(BigInt(f) + by);
  }
  return fields.join(" ");
}
