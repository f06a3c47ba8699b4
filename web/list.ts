// /: the trace list. Filters are the API's own parameters (src/web/list-query.ts)
// and live in the page's address, so a filtered list can be bookmarked; new
// traces arrive over the API's SSE stream with the same filters and go on top.
import type { TraceJson } from "../src/query/trace-json.js";
import { formatDurationUs } from "../src/query/time.js";
import { OUTCOME_NAMES, acceptsLive, listParams, type ListFilters } from "../src/web/list-query.js";
import { API, listTraces } from "./api.js";
import { h, outcomeBadge, show } from "./dom.js";

const FIELDS = ["pod", "outcome", "since", "until", "search"] as const;
/** Without a window the list would page through the whole store; an hour is what `tcptrail traces` shows too. */
export const DEFAULT_SINCE = "1h";

function filtersFromUrl(): ListFilters {
  const q = new URLSearchParams(location.search);
  const f: ListFilters = {};
  for (const k of FIELDS) f[k] = q.get(k) ?? undefined;
  if (!q.has("since")) f.since = DEFAULT_SINCE;
  return f;
}

/** "tt-a → tt-b", the pods along the chain, each once. */
function chain(t: TraceJson): string {
  const pods: string[] = [];
  for (const hop of t.hops) {
    for (const ep of [hop.client, hop.server]) {
      const name = ep.pod ?? (ep.ip ? `${ep.ip}:${ep.port ?? ""}` : "?");
      if (pods[pods.length - 1] !== name) pods.push(name);
    }
  }
  return pods.join(" → ");
}

function origin(t: TraceJson): string {
  const o = t.reset_origin;
  if (!o) return "";
  const who = [o.role?.toLowerCase() ?? "untraced", o.pod ?? (o.ip ? `${o.ip}:${o.port ?? ""}` : ""), o.comm ?? ""].filter(Boolean).join(" ");
  return t.reset_origin_hop ? `${who} (hop ${t.reset_origin_hop})` : who;
}

function row(t: TraceJson, live = false): HTMLTableRowElement {
  const href = `/trace/${encodeURIComponent(t.trace_id)}`;
  return h(
    "tr",
    { "data-trace": t.trace_id, "data-outcome": t.outcome, class: live ? "live" : undefined },
    h("td", { class: "mono" }, (t.start ?? "").replace("T", " ").replace("Z", "")),
    h("td", {}, outcomeBadge(t.outcome)),
    h("td", {}, chain(t)),
    h("td", {}, origin(t)),
    h("td", { class: "num" }, t.duration_ms === null ? "open" : formatDurationUs(t.duration_ms * 1000)),
    h("td", {}, h("a", { href, class: "trace-link mono" }, t.trace_id.slice(0, 12))),
  );
}

let stream: EventSource | undefined;

export async function listPage(): Promise<void> {
  const f = filtersFromUrl();
  const input = (name: (typeof FIELDS)[number], label: string, placeholder: string, extra: Record<string, string> = {}) =>
    h("label", {}, `${label} `, h("input", { name, placeholder, value: f[name] ?? "", ...extra }));
  const outcomes = h("datalist", { id: "outcomes" }, ...OUTCOME_NAMES.map((o) => h("option", { value: o })));
  const form = h(
    "form",
    { class: "filters", id: "filters", method: "get", action: "/" },
    input("pod", "pod", "tt-b"),
    input("outcome", "outcome", "RESET_BY_SERVER,REFUSED", { list: "outcomes" }),
    outcomes,
    input("since", "since", "1h"),
    input("until", "until", "now"),
    input("search", "address/port", "10.88.0.3:8080 or 8080"),
    h("button", { type: "submit" }, "Filter"),
  );
  const status = h("p", { class: "status muted", id: "status" });
  const tbody = h("tbody", { id: "traces" });
  const more = h("button", { type: "button", id: "more", hidden: true }, "More");
  show(
    form,
    status,
    h(
      "table",
      { class: "traces" },
      h("thead", {}, h("tr", {}, h("th", {}, "start (UTC)"), h("th", {}, "outcome"), h("th", {}, "chain"), h("th", {}, "origin"), h("th", {}, "duration"), h("th", {}, "trace"))),
      tbody,
    ),
    more,
  );

  let params: URLSearchParams;
  try {
    params = listParams(f);
  } catch (e) {
    status.textContent = (e as Error).message;
    status.classList.add("error");
    return;
  }
  const load = async (cursor?: string) => {
    const q = new URLSearchParams(params);
    if (cursor) q.set("cursor", cursor);
    const page = await listTraces(q);
    tbody.append(...page.traces.map((t) => row(t)));
    more.hidden = !page.next_cursor;
    more.onclick = () => void load(page.next_cursor ?? undefined).catch(fail);
    status.textContent = `${tbody.rows.length} trace${tbody.rows.length === 1 ? "" : "s"}${page.next_cursor ? " (more below)" : ""}`;
  };
  const fail = (e: unknown) => {
    status.textContent = (e as Error).message;
    status.classList.add("error");
  };
  await load();

  stream?.close();
  stream = undefined;
  if (acceptsLive(f)) {
    stream = new EventSource(`${API}/stream/traces?${listParams(f, true)}`);
    stream.addEventListener("open", () => status.setAttribute("data-live", "true"));
    stream.addEventListener("trace", (ev) => {
      const t = JSON.parse((ev as MessageEvent<string>).data) as TraceJson;
      tbody.querySelector(`tr[data-trace="${CSS.escape(t.trace_id)}"]`)?.remove();
      tbody.prepend(row(t, true));
    });
  }
}
