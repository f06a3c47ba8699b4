// `tcptrail why`: a trace drawn as its chain of hops, then one sentence saying
// where the failure began and the kernel's reason for it. Hops are named by
// their number (HopJson.index, 1-based), the number the stitcher's own
// explanation (printed below the sentence) uses: both name the same endpoint
// and the same hop. A hop that is one of a retrying proxy's connect attempts
// also says which ("hop 5 (attempt 3 of 3)"): its number alone would not tell
// a retry from the next hop of the chain.
import { paintOutcome, plain, type Painter } from "./render-color.js";
import { formatColumns } from "./columns.js";
import { addr, attemptOf, hopName, isReplacedAttempt, who } from "./describe.js";
import { escapeControl, escapeStrings } from "../text/escape.js";
import { formatDurationUs } from "./time.js";
import { traceLabelsLine, type EndpointJson, type HopJson, type TraceJson } from "./trace-json.js";

function hopEnd(t: TraceJson, h: HopJson): string {
  const origin = t.reset_origin_hop === h.index;
  const reason = h.reset_reason ? ` (${h.reset_reason})` : "";
  if (h.reset_by === "none") return `${origin ? "✖ " : ""}RST from the network (no traced socket)`;
  if (h.reset_by) return `${origin ? "✖ " : ""}RST by ${h.reset_by}${reason}`;
  switch (h.outcome) {
    case "REFUSED":
      return `✖ refused${reason}`;
    case "RESET_UNTRACED":
      return "✖ RST from the network (no traced socket)";
    case "TIMEOUT":
      return "✖ timed out";
    case "INCOMPLETE":
      return "? events lost";
    case "OPEN":
      return "open";
  }
  const first = t.first_close_hop === h.index && t.first_close_by === h.first_fin_by ? " (first)" : "";
  return h.first_fin_by ? `FIN by ${h.first_fin_by}${first}` : "";
}

/** "app tt-b (node, pid 901)", "the untraced peer 10.0.0.9:80" */
function subject(ep: EndpointJson): string {
  if (!ep.role) return `the untraced peer ${addr(ep)}`;
  const p = ep.comm && ep.pid ? `${ep.comm}, pid ${ep.pid}` : ep.pid ? `pid ${ep.pid}` : (ep.comm ?? "");
  return [ep.role.toLowerCase(), ep.pod ?? "", p ? `(${p})` : ""].filter(Boolean).join(" ");
}

const list = (xs: number[]): string => (xs.length === 1 ? `hop ${xs[0]}` : `hops ${xs.join(", ")}`);

const hopNo = (n: number | null | undefined): string => (n ? String(n) : "?");

/** "hop 5 (attempt 3 of 3)" for a hop of the trace, "hop N" (or "hop ?") when only its number is known. */
const hopCalled = (h: HopJson | undefined, n?: number | null): string => (h ? hopName(h) : `hop ${hopNo(n)}`);

function endOf(h: HopJson | undefined, side: string | null): EndpointJson | null {
  if (!h) return null;
  return side === "client" ? h.client : side === "server" ? h.server : null;
}

/**
 * The keep-alive race: who closed the pooled connection idle, how long before
 * (or after) the sidecar reused it, the RST's reason, and whom the sidecar failed.
 */
function raceSentence(t: TraceJson): string {
  const r = t.race;
  const shared = t.hops.find((h) => h.index === r?.shared_hop);
  if (!r || !shared) return "a pooled upstream connection its peer had closed was reused for this request; the request met a RST.";
  const closerHop = t.hops.find((h) => h.index === r.first_close_hop);
  const closer = endOf(closerHop, r.first_close_by);
  const sidecar = shared.client;
  // The downstream the sidecar served over it: its hop's server is that sidecar's socket.
  const down = [...t.hops]
    .reverse()
    .find((h) => h.index < shared.index && h.server.pid === sidecar.pid && h.server.pod === sidecar.pod);
  const who = closer && closerHop ? `${subject(closer)} closed its idle keep-alive connection on ${hopName(closerHop)}` : `the peer on ${hopName(shared)} closed the idle connection`;
  const idle = r.idle_us ? ` (idle ${formatDurationUs(r.idle_us)})` : "";
  const when = r.gap_us >= 0 ? `${r.gap_us} µs before` : `${-r.gap_us} µs after`;
  const from = down ? ` for a request from ${subject(down.client)}` : "";
  const reason = r.reset_reason ? ` (kernel reason ${r.reset_reason})` : "";
  const error = down ? `; ${subject(sidecar)} returned an error on ${hopName(down)}` : "";
  return `${who}${idle} ${when} ${subject(sidecar)} reused it (${hopName(shared)})${from}; the request met a RST${reason}${error}.`;
}

/** One sentence: where it began, who, and the kernel's reason. */
export function whySentence(stored: TraceJson): string {
  const t = escapeStrings(stored);
  const originHop = t.hops.find((h) => h.index === t.reset_origin_hop);
  switch (t.outcome) {
    case "RESET_BY_CLIENT":
    case "RESET_BY_SERVER": {
      const o = t.reset_origin;
      const reason = originHop?.reset_reason ? ` (kernel reason ${originHop.reset_reason})` : "";
      // A proxy's replaced attempts failed on their own: they relay nothing.
      const others = t.hops.filter((h) => h.index !== t.reset_origin_hop && !isReplacedAttempt(h));
      const fin = others.filter((h) => !h.reset_by && h.first_fin_by).map((h) => h.index);
      const rst = others.filter((h) => h.reset_by).map((h) => h.index);
      const relay = [fin.length ? `relayed as FIN on ${list(fin)}` : "", rst.length ? `as RST on ${list(rst)}` : ""]
        .filter(Boolean)
        .join(", ");
      return `${o ? subject(o) : `the ${t.outcome === "RESET_BY_CLIENT" ? "client" : "server"}`} reset the connection on ${hopCalled(
        originHop,
        t.reset_origin_hop,
      )}${reason}${relay ? `; ${relay}` : ""}.`;
    }
    case "REFUSED": {
      const h = originHop ?? t.hops[t.hops.length - 1];
      return h
        ? `nothing listened on ${addr(h.server)}${h.server.pod ? ` in ${h.server.pod}` : ""}: the SYN from ${subject(h.client)} on ${hopName(h)} was refused (kernel reason ${h.reset_reason ?? "NO_SOCKET"}).`
        : "the connection was refused: nothing listened.";
    }
    case "RESET_UNTRACED": {
      const o = t.reset_origin;
      const r = t.reset_receiver;
      if (o?.role === "NETWORK" && r) {
        return `a RST from ${addr(o)}${o.pod ? ` (pod ${o.pod})` : ""} reached ${subject(r)} on ${hopCalled(
          originHop,
          t.reset_origin_hop,
        )}: no traced socket sent it (the network path: an iptables REJECT rule or a middlebox).`;
      }
      // Traces stored before the sender was recorded: only the hop is known.
      const h = originHop ?? t.hops.find((x) => x.outcome === "RESET_UNTRACED") ?? t.hops[0];
      return `a RST that no traced socket sent arrived on ${hopCalled(h)}${
        h ? ` (${addr(h.client)} → ${addr(h.server)})` : ""
      }: a middlebox or an iptables REJECT sent it.`;
    }
    case "TIMEOUT": {
      const o = t.reset_origin;
      const n = hopCalled(originHop ?? t.hops.find((h) => h.outcome === "TIMEOUT"));
      if (originHop?.reset_reason === "TCP_KEEPALIVE_TIMEOUT") {
        return `${o ? subject(o) : "one end"} reset the connection on ${n}: its keepalive probes went unanswered (kernel reason TCP_KEEPALIVE_TIMEOUT).`;
      }
      return `${o ? subject(o) : "the connection"} gave up on ${n} after retransmissions.`;
    }
    case "PROCESS_EXIT": {
      const o = t.reset_origin;
      return `${o ? subject(o) : "a process"} exited with its connection on ${hopCalled(originHop, t.reset_origin_hop)} open: the kernel closed it, not the process.`;
    }
    case "UPSTREAM_IDLE_CLOSE_RACE":
      return raceSentence(t);
    case "INCOMPLETE":
      return "events were lost while this connection was traced, so its outcome is not guessed.";
    case "OPEN":
      return "the connection is still open.";
    case "COMPLETED": {
      const h = t.hops.find((x) => x.index === t.first_close_hop);
      const closer = endOf(h, t.first_close_by);
      return `completed: every hop closed with FIN${closer && h ? `; ${subject(closer)} closed first, on ${hopName(h)}` : ""}.`;
    }
    default:
      return t.explanation || `outcome ${t.outcome}.`;
  }
}

/** "shared", "shared, link ambiguous", "": a pooled connection's hop, and how sure its link to this trace is. */
function sharedNote(h: HopJson): string {
  if (!h.shared) return "";
  return h.link_confidence === "AMBIGUOUS" ? "shared, link ambiguous" : "shared";
}

export interface WhyRenderOptions {
  /** Colours the outcome. Default: none. */
  paint?: Painter;
}

export function renderWhy(stored: TraceJson, opts: WhyRenderOptions = {}): string {
  const t = escapeStrings(stored);
  const n = t.hops.length;
  const dur = t.end_us && t.start_us ? `, ${formatDurationUs(t.end_us - t.start_us)}` : "";
  const head = `trace ${t.trace_id} ${paintOutcome(opts.paint ?? plain, t.outcome)}  (${n} hop${n === 1 ? "" : "s"}${dur})`;
  // The attempt and shared columns appear only in traces with retries or pooled hops, so other chains read as before.
  const attempts = t.hops.map(attemptOf);
  const retried = attempts.some(Boolean);
  const pooled = t.hops.some((h) => h.shared);
  const rows = t.hops.map((h, i) => {
    const orig = h.original_destination && h.original_destination !== addr(h.server) ? `orig dst ${h.original_destination}` : "";
    const attempt = retried ? [attempts[i]!] : [];
    const shared = pooled ? [sharedNote(h)] : [];
    return [`${h.index}`, ...attempt, `${who(h.client)} ${addr(h.client)}`, "──▶", `${who(h.server)} ${addr(h.server)}`, orig, ...shared, hopEnd(t, h)];
  });
  const chain = formatColumns(rows, "  ")
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
  const lines = [head];
  if (n) lines.push(chain);
  // Labels once per pod, not per endpoint: the chain stays as wide as before.
  // From the stored trace, escaped whole: label keys are the runtime's strings too, and escapeStrings spares keys.
  const labels = escapeControl(traceLabelsLine(stored));
  if (labels) lines.push(`  labels: ${labels}`);
  lines.push(`why: ${whySentence(t)}`);
  if (t.explanation) lines.push(`     ${t.explanation}`);
  return lines.join("\n");
}
