// /socket/<id>: one socket's timeline (GET /api/v1/timeline?socket=) as a
// small table: every kernel event of the connection, both ends, in order.
import type { EventJson } from "../src/query/event-json.js";
import { timelineOf } from "./api.js";
import { h, show } from "./dom.js";

/** What happened, in a few words: "SYN_SENT → ESTABLISHED", "RESET_SENT NOT_SPECIFIED". */
function what(e: EventJson): string {
  if (e.kind === "STATE_CHANGE") return `${e.old_state ?? "?"} → ${e.new_state ?? "?"}`;
  const extra = [e.reset_reason, e.target ? `target ${e.target}` : null, e.ret !== null && e.ret !== 0 ? `ret ${e.ret}` : null].filter(Boolean);
  return [e.kind, ...extra].join(" ");
}

export async function timelinePage(socketId: string): Promise<void> {
  const tl = await timelineOf("socket", socketId);
  document.title = `tcptrail · socket ${socketId}`;
  const rows = tl.events.map((e) =>
    h(
      "tr",
      { "data-kind": e.kind },
      h("td", { class: "mono" }, e.time ?? ""),
      h("td", {}, e.pod ?? ""),
      h("td", {}, e.process ? `${e.process.comm} (${e.process.pid})` : e.owner ? `${e.owner.comm} (${e.owner.pid})` : ""),
      h("td", {}, e.role?.toLowerCase() ?? ""),
      h("td", { class: "mono" }, `${e.local ?? "?"} → ${e.remote ?? "?"}`),
      h("td", {}, what(e)),
    ),
  );
  show(
    h("p", { class: "crumbs" }, h("a", { href: "/" }, "← traces"), ...tl.traces.map((t) => [" · ", h("a", { href: `/trace/${encodeURIComponent(t.trace_id)}` }, `trace ${t.trace_id.slice(0, 12)}`)]).flat()),
    h("h1", {}, "Socket ", h("span", { class: "mono" }, socketId)),
    tl.summarized ? h("p", { class: "muted" }, "Its raw events have left the store's event ring: these are rebuilt from its hop.") : null,
    tl.truncated ? h("p", { class: "muted" }, "Truncated: more events than one page shows.") : null,
    rows.length
      ? h(
          "table",
          { class: "timeline", id: "timeline" },
          h("thead", {}, h("tr", {}, h("th", {}, "time"), h("th", {}, "pod"), h("th", {}, "process"), h("th", {}, "role"), h("th", {}, "local → remote"), h("th", {}, "event"))),
          h("tbody", {}, ...rows),
        )
      : h("p", { class: "muted" }, "No events stored for this socket."),
  );
}
