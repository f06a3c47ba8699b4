// Building the page from trace data. Everything that came from the kernel or
// the network (pod names, process names, addresses) goes in as text nodes,
// never as markup: a process chooses its own comm. No innerHTML anywhere.
type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

const SVG_NS = "http://www.w3.org/2000/svg";

function fill<E extends Element>(el: E, attrs: Attrs, children: Child[]): E {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

/** An HTML element: h("a", { href }, "text"). */
export const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] =>
  fill(document.createElement(tag), attrs, children);

/** An SVG element. */
export const s = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] =>
  fill(document.createElementNS(SVG_NS, tag), attrs, children);

/** Replace the page's content. */
export function show(...children: Child[]): HTMLElement {
  const app = document.getElementById("app")!;
  app.replaceChildren();
  return fill(app, {}, children);
}

/** "RESET_BY_SERVER" as a coloured badge; the class says whether it is a failure. */
export function outcomeBadge(outcome: string): HTMLElement {
  const kind = outcome === "COMPLETED" ? "ok" : outcome === "OPEN" ? "open" : outcome === "INCOMPLETE" ? "unknown" : "bad";
  return h("span", { class: `badge badge-${kind}`, "data-outcome": outcome }, outcome);
}
