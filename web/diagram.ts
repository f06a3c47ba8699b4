// The sequence diagram as SVG, from the layout (src/web/sequence-layout.ts):
// lane heads and lifelines, one arrow per SYN, FIN and RST with who sent it,
// the RST's kernel reason, the original destination of a REDIRECTed SYN, the
// time since the step above, the reset origin in the alarm colour, pooled hops
// dashed. Colours are CSS classes (web/style.css), so dark mode is the
// stylesheet's business. data-* attributes say what each element stands for,
// for the browser tests and anyone scripting the page.
import type { TraceJson } from "../src/query/trace-json.js";
import { formatDurationUs } from "../src/query/time.js";
import type { Arrow, Lane, SequenceLayout } from "../src/web/sequence-layout.js";
import { s } from "./dom.js";

const HEAD_WIDTH = 170;
const HEAD_HEIGHT = 58;
const HEAD_TOP = 8;

/** Text that fits a lane head; the whole of it is in the element's <title>. */
const fit = (text: string, max = 26): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function laneHead(lane: Lane): SVGGElement {
  const x = lane.x - HEAD_WIDTH / 2;
  const full = [lane.title, lane.pod ?? "", lane.process, lane.sockets.map((k) => k.address).join(", ")].filter(Boolean).join("\n");
  return s(
    "g",
    {
      class: `lane${lane.origin ? " origin" : ""}`,
      "data-lane": lane.index,
      "data-title": lane.title,
      "data-pod": lane.pod ?? "",
      "data-process": lane.process,
      "data-origin": lane.origin,
    },
    s("title", {}, full),
    s("rect", { class: "lane-head", x, y: HEAD_TOP, width: HEAD_WIDTH, height: HEAD_HEIGHT, rx: 6 }),
    s("text", { class: "lane-title", x: lane.x, y: HEAD_TOP + 18, "text-anchor": "middle" }, fit(lane.title + (lane.pod ? ` · ${lane.pod}` : ""))),
    s("text", { class: "lane-process", x: lane.x, y: HEAD_TOP + 34, "text-anchor": "middle" }, fit(lane.process || "no process")),
    s("text", { class: "lane-addr", x: lane.x, y: HEAD_TOP + 50, "text-anchor": "middle" }, fit(lane.sockets[0]?.address ?? "")),
    lane.origin ? s("text", { class: "origin-badge", x: lane.x, y: HEAD_TOP + HEAD_HEIGHT + 14, "text-anchor": "middle" }, "reset origin") : null,
  );
}

/** "RST by app tt-b", "RST from the network", "SYN by sidecar outbound tt-a". */
function senderName(a: Arrow, lanes: Lane[]): string {
  if (a.sender === "network") return "from the network";
  const lane = lanes[a.from]!;
  return `by ${lane.title}${lane.pod ? ` ${lane.pod}` : ""}`;
}

function arrowLabel(a: Arrow, lanes: Lane[]): string {
  const parts = [`${a.signal} ${senderName(a, lanes)}`];
  if (a.reason) parts.push(a.reason);
  if (a.originalDestination) parts.push(`orig dst ${a.originalDestination}`);
  if (a.shared) parts.push(a.ambiguous ? "pooled, link ambiguous" : a.reused ? "pooled, opened earlier" : "pooled");
  return parts.join(" · ");
}

function arrow(a: Arrow, lanes: Lane[]): SVGGElement {
  const x1 = lanes[a.from]!.x;
  const x2 = lanes[a.to]!.x;
  const dir = x2 >= x1 ? 1 : -1;
  // Stop short of the lifeline so the arrowhead's tip touches it.
  const end = x2 - dir * 2;
  const mid = (x1 + x2) / 2;
  const signal = a.signal.toLowerCase();
  const classes = ["arrow", `arrow-${signal}`, a.origin ? "origin" : "", a.shared ? "shared" : "", a.exact ? "" : "inexact"].filter(Boolean);
  const since = a.sinceUs === null ? "" : `+${formatDurationUs(a.sinceUs)}`;
  return s(
    "g",
    {
      class: classes.join(" "),
      "data-hop": a.hop,
      "data-signal": a.signal,
      "data-sender": a.sender,
      "data-from": a.from,
      "data-to": a.to,
      "data-reason": a.reason ?? undefined,
      "data-origin": a.origin,
      "data-shared": a.shared,
      "data-ambiguous": a.ambiguous,
      "data-reused": a.reused,
      "data-orig-dst": a.originalDestination ?? undefined,
      // The kernel's time of the segment (wall µs): what placed the arrow.
      "data-time-us": a.timeUs || undefined,
    },
    s("title", {}, `hop ${a.hop}: ${arrowLabel(a, lanes)}${a.exact ? "" : " (time not recorded: drawn at the hop's end)"}`),
    s("text", { class: "step-time", x: 8, y: a.y + 4 }, `${a.exact ? "" : "≈"}${since}`),
    s("text", { class: "step-hop", x: 8, y: a.y + 17 }, `hop ${a.hop}`),
    s("line", { class: "arrow-line", x1, y1: a.y, x2: end, y2: a.y, "marker-end": `url(#head-${a.origin ? "origin" : signal})` }),
    s("text", { class: "arrow-label", x: mid, y: a.y - 7, "text-anchor": "middle" }, arrowLabel(a, lanes)),
  );
}

function marker(id: string): SVGMarkerElement {
  return s(
    "marker",
    // userSpaceOnUse: the head keeps its size on the origin's thicker line.
    { id: `head-${id}`, class: `head head-${id}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 11, markerHeight: 11, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
    s("path", { d: "M0,0 L10,5 L0,10 z" }),
  );
}

export function sequenceDiagram(t: TraceJson, layout: SequenceLayout): SVGSVGElement {
  const { lanes, arrows, width, height } = layout;
  const bottom = height + 10;
  return s(
    "svg",
    {
      class: "sequence",
      id: "sequence",
      viewBox: `0 0 ${width} ${bottom}`,
      width,
      height: bottom,
      role: "img",
      "aria-label": `sequence diagram of trace ${t.trace_id}: ${lanes.length} lanes, ${arrows.length} arrows`,
    },
    s("defs", {}, marker("syn"), marker("fin"), marker("rst"), marker("origin")),
    ...lanes.map((l) => s("line", { class: `lifeline${l.origin ? " origin" : ""}`, x1: l.x, y1: HEAD_TOP + HEAD_HEIGHT, x2: l.x, y2: bottom })),
    ...lanes.map(laneHead),
    ...arrows.map((a) => arrow(a, lanes)),
  );
}
