// What a proxy's retries add to a trace's sentence. Only the last connect
// attempt decides the trace's outcome, so the earlier ones would vanish from
// the explanation: name how many times the proxy dialed and how each ended.
import { formatEndpoint, Outcome } from "../model/mod.js";
import type { HopClass } from "./classify.js";
import type { HopView, SockView } from "./hop-view.js";

export interface AttemptsNote {
  /** The last attempt's HopView.index (as TraceClass.originHop counts): the note belongs with that hop's story. */
  hop: number;
  /** "sidecar tt-b tried 3 times to connect to 10.88.0.3:8080 (all refused)". */
  text: string;
}

const WORDS: Partial<Record<Outcome, string>> = {
  [Outcome.OUTCOME_REFUSED]: "refused",
  [Outcome.OUTCOME_RESET_UNTRACED]: "reset by a RST no traced socket sent",
  [Outcome.OUTCOME_RESET_BY_CLIENT]: "reset by the client",
  [Outcome.OUTCOME_RESET_BY_SERVER]: "reset by the server",
  [Outcome.OUTCOME_TIMEOUT]: "timed out",
  [Outcome.OUTCOME_PROCESS_EXIT]: "ended by a process exit",
  [Outcome.OUTCOME_INCOMPLETE]: "not fully seen",
  [Outcome.OUTCOME_OPEN]: "connected, still open",
  [Outcome.OUTCOME_COMPLETED]: "connected",
};

function summary(words: string[]): string {
  const same = words.every((w) => w === words[0]);
  if (!same) return words.join(", ");
  return `${words.length === 2 ? "both" : "all"} ${words[0]}`;
}

/**
 * One note per group of attempts still on the chain (its last attempt was not
 * itself retried); `name` is the explanation's short name of a socket.
 */
export function attemptsNotes(
  hops: readonly HopView[],
  classes: readonly HopClass[],
  name: (v: SockView | null, fallback: string) => string,
): AttemptsNote[] {
  const notes: AttemptsNote[] = [];
  for (const last of hops) {
    if (last.retried || last.attempts < 2) continue;
    const group = hops
      .map((h, j) => ({ h, j }))
      .filter(({ h }) => h.parent === last.parent)
      .sort((a, b) => a.h.attempt - b.h.attempt);
    const words = group.map(({ j }) => WORDS[classes[j]!.outcome] ?? "ended");
    const c = last.client;
    const target = c?.connectTarget ?? (c ? { ip: c.remoteIp, port: c.remotePort } : null);
    const proxy = name(c, "a proxy");
    const to = target ? ` to connect to ${formatEndpoint(target)}` : "";
    notes.push({ hop: last.index, text: `${proxy} tried ${group.length} times${to} (${summary(words)})` });
  }
  return notes;
}
