// /trace/<id>: the one-sentence why on top (the sentence `tcptrail why`
// prints, from the same function), the sequence diagram, and the trace's
// sockets, each linking to its timeline.
import { whySentence } from "../src/query/render-why.js";
import { formatDurationUs } from "../src/query/time.js";
import type { TraceJson } from "../src/query/trace-json.js";
import { layoutSequence, needsEvents, type SequenceLayout } from "../src/web/sequence-layout.js";
import { getTrace, timelineOf } from "./api.js";
import { sequenceDiagram } from "./diagram.js";
import { h, outcomeBadge, show } from "./dom.js";

export const socketHref = (id: string): string => `/socket/${encodeURIComponent(id)}`;

function socketsTable(layout: SequenceLayout): HTMLTableElement {
  const rows = layout.lanes.flatMap((lane) =>
    lane.sockets.map((k) =>
      h(
        "tr",
        { "data-socket": k.socketId ?? "" },
        h("td", {}, String(k.hop)),
        h("td", {}, k.side),
        h("td", {}, `${lane.title}${lane.pod ? ` ${lane.pod}` : ""}`),
        h("td", {}, lane.process),
        h("td", { class: "mono" }, k.address),
        h("td", {}, k.socketId ? h("a", { href: socketHref(k.socketId), class: "timeline-link" }, "timeline") : h("span", { class: "muted" }, "not traced")),
      ),
    ),
  );
  rows.sort((a, b) => Number(a.firstChild?.textContent) - Number(b.firstChild?.textContent));
  return h(
    "table",
    { class: "sockets" },
    h("thead", {}, h("tr", {}, h("th", {}, "hop"), h("th", {}, "end"), h("th", {}, "lane"), h("th", {}, "process"), h("th", {}, "address"), h("th", {}, ""))),
    h("tbody", {}, ...rows),
  );
}

export async function tracePage(id: string): Promise<void> {
  const trace: TraceJson = await getTrace(id);
  // Each hop carries the kernel's time of its SYN, FIN and RST. A trace
  // stored before those were recorded does not: its events give them, and
  // without them (the ring has moved on) the diagram still draws, each such
  // arrow marked ≈.
  const events = needsEvents(trace)
    ? await timelineOf("trace", id).then(
        (tl) => tl.events,
        () => [],
      )
    : [];
  const layout = layoutSequence(trace, events);
  const duration = trace.duration_ms === null ? "open" : formatDurationUs(trace.duration_ms * 1000);
  document.title = `tcptrail · ${trace.outcome} · ${trace.trace_id}`;
  show(
    h("p", { class: "crumbs" }, h("a", { href: "/" }, "← traces")),
    h("p", { class: "why", id: "why" }, whySentence(trace)),
    h(
      "p",
      { class: "trace-meta" },
      outcomeBadge(trace.outcome),
      " ",
      h("span", { class: "mono" }, trace.trace_id),
      ` · ${trace.start ?? "?"} · ${duration} · ${trace.hops.length} hop${trace.hops.length === 1 ? "" : "s"}`,
    ),
    trace.explanation ? h("p", { class: "explanation muted", id: "explanation" }, trace.explanation) : null,
    h("div", { class: "diagram" }, sequenceDiagram(trace, layout)),
    h(
      "p",
      { class: "legend muted" },
      "Arrows run from the socket that sent the segment; times on the left are since the step above (≈: not recorded, drawn at the hop's end). Dashed: a pooled connection other traces used too.",
    ),
    h("h2", {}, "Sockets"),
    socketsTable(layout),
  );
}
