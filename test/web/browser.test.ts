// The web view in a real browser: Debian's chromium, headless, on a real
// query API over a real SQLite store holding the lab scenarios' traces (their
// recorded events through the Stitcher) and those events, with the page built
// from source by esbuild for this run. Everything is checked from the DOM;
// screenshots go to the test's temp dir, or to TCPTRAIL_WEB_ARTIFACTS (kept,
// for CI to upload; paths printed), and with TCPTRAIL_UPDATE_SCREENSHOTS=1 the
// README's one to docs/.
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "puppeteer-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Trace } from "../../src/model/mod.js";
import { traceToJson, whySentence, type TraceJson } from "../../src/query/mod.js";
import { createLiveHub, startQueryServer, type LiveHub, type QueryServer } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { buildWebAssets } from "../../src/web/build.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { launchChromium, type TestBrowser } from "./helpers/chromium.js";
import { LAB_POOLED_FIXTURES, labScenario } from "./helpers/lab-traces.js";

const SCENARIOS = ["ok", "app-abort", "no-listener", "sidecar-crash", "reject", "idle-timeout", "plain-to-mesh"];
// The recordings are from November 2026: a window that holds them all, whenever the test runs.
const SINCE = "2026-11-01T00:00:00Z";
const TOKEN = "s3cret-token";
const DOCS_SCREENSHOT = join(import.meta.dirname, "..", "..", "docs", "web-view-app-abort.png");

let tmp: TempDir;
let store: SqliteTraceStore;
let hub: LiveHub;
let server: QueryServer;
let tokenServer: QueryServer;
let chromium: TestBrowser;
let page: Page;
const stored = new Map<string, { scenario: string; trace: Trace }>();
const pageErrors: string[] = [];

const byScenario = (name: string): TraceJson => {
  const hit = [...stored.values()].find((s) => s.scenario === name);
  if (!hit) throw new Error(`no trace stored for ${name}`);
  return traceToJson(hit.trace);
};

async function open(path: string): Promise<void> {
  await page.goto(`${server.url}${path}`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("body[data-ready]", { timeout: 10_000 });
}

async function screenshot(name: string): Promise<string> {
  const dir = process.env.TCPTRAIL_WEB_ARTIFACTS ?? tmp.path;
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}

beforeAll(async () => {
  tmp = await makeTempDir("web-browser");
  const webAssetDir = await buildWebAssets({ outdir: join(tmp.path, "web"), minify: false });
  store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
  for (const [name, dir] of [...SCENARIOS.map((n) => [n, undefined] as const), ["pooled", LAB_POOLED_FIXTURES] as const]) {
    const { records, traces } = labScenario(name, dir);
    await store.putTraces(traces);
    for (const t of traces) stored.set(t.traceId, { scenario: name, trace: t });
    // One source per scenario: each recording numbers its events from its own agent start.
    for (const node of new Set(records.map((r) => r.node))) {
      const events = records.filter((r) => r.node === node).map((r) => r.event);
      await store.putEvents({ node, bootId: `lab-${name}`, agentStartUs: 1 }, events);
    }
  }
  hub = createLiveHub();
  server = await startQueryServer({ store, hub, port: 0, webAssetDir });
  tokenServer = await startQueryServer({ store, port: 0, webAssetDir, token: TOKEN });
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  // Script errors and Content-Security-Policy violations show in the console.
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    // A refused API call (the wrong token) is the page's business, reported in the page.
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text());
  });
  // The page may fetch nothing from another origin: fail on any such request.
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (url.origin !== new URL(server.url).origin && url.origin !== new URL(tokenServer.url).origin) {
      pageErrors.push(`the page asked another origin for ${req.url()}`);
      void req.abort();
      return;
    }
    void req.continue();
  });
}, 60_000);

afterEach(() => {
  const seen = pageErrors.splice(0);
  expect(seen).toEqual([]);
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  await tokenServer?.close();
  await store?.close();
  await tmp?.remove();
});

describe("trace list", () => {
  it("shows every stored trace with its outcome", async () => {
    await open(`/?since=${SINCE}`);
    const rows = await page.$$eval("#traces tr[data-trace]", (trs) =>
      trs.map((tr) => [tr.getAttribute("data-trace"), tr.querySelector(".badge")?.textContent] as const),
    );
    const want = [...stored.values()].map((s) => [s.trace.traceId, traceToJson(s.trace).outcome] as const);
    expect(rows.length).toBe(stored.size);
    expect(new Map(rows)).toEqual(new Map(want));
    // A failure is a failure badge, a completed trace is not.
    const abort = byScenario("app-abort");
    expect(await page.$eval(`tr[data-trace="${abort.trace_id}"] .badge`, (b) => b.className)).toMatch(/badge-bad/);
  });

  it("filters with the API's parameters: outcome and address/port", async () => {
    await open(`/?since=${SINCE}&outcome=REFUSED`);
    const refused = await page.$$eval("#traces tr[data-trace]", (trs) => trs.map((tr) => tr.getAttribute("data-outcome")));
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set(["REFUSED"]));

    const reject = byScenario("reject");
    const port = reject.hops[reject.hops.length - 1]!.server.port!;
    await open(`/?since=${SINCE}&search=${port}`);
    const ids = await page.$$eval("#traces tr[data-trace]", (trs) => trs.map((tr) => tr.getAttribute("data-trace")));
    const want = (await store.listTraces({ port, since: Date.parse(SINCE) * 1000 })).traces.map((t) => t.traceId);
    expect(ids).toEqual(want);
    expect(ids).toContain(reject.trace_id);
    expect(ids.length).toBeLessThan(stored.size);
  });

  it("says what is wrong with a search that is not an address or port", async () => {
    await open(`/?since=${SINCE}&search=tt-b`);
    expect(await page.$eval("#status", (e) => e.textContent)).toMatch(/not an address, a port or address:port/);
  });

  it("puts a live trace on top as the stream delivers it", async () => {
    await open(`/?since=${SINCE}`);
    await page.waitForSelector("#status[data-live]");
    const before = await page.$$eval("#traces tr[data-trace]", (trs) => trs.length);
    const live = { ...stored.values().next().value!.trace, traceId: "live-trace-1" };
    hub.publishTrace(live);
    await page.waitForSelector('#traces tr:first-child[data-trace="live-trace-1"].live', { timeout: 5000 });
    expect(await page.$$eval("#traces tr[data-trace]", (trs) => trs.length)).toBe(before + 1);
  });
});

interface DiagramDom {
  lanes: { title: string; pod: string; process: string; origin: string | null; cls: string }[];
  arrows: {
    hop: string;
    signal: string;
    sender: string;
    from: string;
    to: string;
    reason: string | null;
    origin: string | null;
    label: string;
    cls: string;
    shared: string | null;
    reused: string | null;
    timeUs: string | null;
    /** The computed stroke-dasharray of its line: "none" when solid. */
    dash: string;
  }[];
  why: string;
}

// Element callbacks only: this file is type-checked without the DOM lib, and
// an element's methods are typed through puppeteer.
async function readDiagram(): Promise<DiagramDom> {
  const lanes = await page.$$eval("#sequence g.lane", (gs) =>
    gs.map((g) => ({
      title: g.getAttribute("data-title") ?? "",
      pod: g.getAttribute("data-pod") ?? "",
      process: g.getAttribute("data-process") ?? "",
      origin: g.getAttribute("data-origin"),
      cls: g.getAttribute("class") ?? "",
    })),
  );
  const arrows = await page.$$eval("#sequence g.arrow", (gs) =>
    gs.map((g) => ({
      hop: g.getAttribute("data-hop") ?? "",
      signal: g.getAttribute("data-signal") ?? "",
      sender: g.getAttribute("data-sender") ?? "",
      from: g.getAttribute("data-from") ?? "",
      to: g.getAttribute("data-to") ?? "",
      reason: g.getAttribute("data-reason"),
      origin: g.getAttribute("data-origin"),
      label: g.querySelector(".arrow-label")?.textContent ?? "",
      cls: g.getAttribute("class") ?? "",
      shared: g.getAttribute("data-shared"),
      reused: g.getAttribute("data-reused"),
      timeUs: g.getAttribute("data-time-us"),
      dash: ((line) => (line ? line.ownerDocument.defaultView!.getComputedStyle(line).getPropertyValue("stroke-dasharray") : ""))(g.querySelector(".arrow-line")),
    })),
  );
  const why = await page.$eval("#why", (e) => e.textContent ?? "");
  return { lanes, arrows, why };
}

/** A computed style property of the first element matching `selector`. */
const styleOf = (selector: string, prop: string): Promise<string> =>
  page.$eval(selector, (e, p) => e.ownerDocument.defaultView!.getComputedStyle(e).getPropertyValue(p), prop);

describe("trace page", () => {
  it("app-abort: four lanes, app b's RST highlighted with its reason, the why on top", async () => {
    const t = byScenario("app-abort");
    await open(`/trace/${t.trace_id}`);
    const d = await readDiagram();
    expect(d.lanes.map((l) => `${l.title} ${l.pod}`)).toEqual(["app tt-a", "sidecar outbound tt-a", "sidecar inbound tt-b", "app tt-b"]);
    expect(d.lanes.map((l) => l.process)).toEqual(["tt-client (pid 609)", "haproxy (pid 566)", "haproxy (pid 579)", "tt-app (pid 568)"]);
    expect(d.lanes.filter((l) => l.origin !== null).map((l) => l.title + " " + l.pod)).toEqual(["app tt-b"]);
    expect(d.lanes[3]!.cls).toMatch(/\borigin\b/);
    expect(d.arrows.map((a) => `${a.hop} ${a.signal} ${a.sender} ${a.from}->${a.to}`)).toEqual([
      "1 SYN client 0->1",
      "2 SYN client 1->2",
      "3 SYN client 2->3",
      "3 RST server 3->2",
      "2 FIN server 2->1",
      "1 FIN server 1->0",
    ]);
    const rst = d.arrows.find((a) => a.signal === "RST")!;
    expect(rst).toMatchObject({ reason: "TCP_STATE", origin: "" });
    expect(rst.label).toBe("RST by app tt-b · TCP_STATE");
    expect(d.arrows.filter((a) => a.origin !== null)).toHaveLength(1);
    expect(d.arrows[0]!.label).toBe("SYN by app tt-a · orig dst 10.88.100.3:8080");
    // The highlight is drawn, not only declared: the origin arrow has the alarm colour and is the thickest.
    const stroke = await styleOf("#sequence g.arrow.origin .arrow-line", "stroke-width");
    const plain = await styleOf("#sequence g.arrow-syn .arrow-line", "stroke-width");
    expect(parseFloat(stroke)).toBeGreaterThan(parseFloat(plain));
    expect(d.why).toBe(whySentence(t));
    expect(d.why).toMatch(/^app tt-b \(tt-app, pid 568\) reset the connection on hop 3 \(kernel reason TCP_STATE\)/);
    expect(await page.$eval("#explanation", (e) => e.textContent)).toBe(t.explanation);
    const shot = await screenshot("app-abort");
    if (process.env.TCPTRAIL_UPDATE_SCREENSHOTS === "1") {
      await mkdir(join(DOCS_SCREENSHOT, ".."), { recursive: true });
      await copyFile(shot, DOCS_SCREENSHOT);
    }
  });

  it("reject: the refused port's lane is the origin, its RST comes from the network", async () => {
    const t = byScenario("reject");
    await open(`/trace/${t.trace_id}`);
    const d = await readDiagram();
    expect(d.lanes.map((l) => l.title)).toEqual(["app", "sidecar outbound", "untraced"]);
    expect(d.lanes.map((l) => l.origin !== null)).toEqual([false, false, true]);
    const rst = d.arrows.filter((a) => a.signal === "RST");
    expect(rst.map((a) => `${a.hop} ${a.sender} ${a.from}->${a.to} ${a.origin !== null}`)).toEqual(["2 network 2->1 true"]);
    expect(rst[0]!.label).toMatch(/^RST from the network/);
    expect(d.why).toBe(whySentence(t));
    await screenshot("reject");
  });

  it("pooled (recorded): the shared upstream hops dashed and labelled pooled, the reused connection's SYNs 'opened earlier', each arrow at its kernel time", async () => {
    const pooled = [...stored.values()].filter((x) => x.scenario === "pooled").map((x) => traceToJson(x.trace));
    // One upstream for four client connections: every trace holds it as its shared hops 2 and 3.
    expect(pooled).toHaveLength(4);
    for (const t of pooled) expect(t.hops.map((h) => h.shared)).toEqual([false, true, true]);
    pooled.sort((a, b) => a.hops[0]!.opened_us! - b.hops[0]!.opened_us!);
    // The first client's request dialed the upstream; the later ones reused it.
    for (const [t, reused] of [
      [pooled[0]!, false],
      [pooled[1]!, true],
    ] as const) {
      await open(`/trace/${t.trace_id}`);
      const d = await readDiagram();
      expect(d.lanes.map((l) => `${l.title} ${l.pod}`)).toEqual(["app tt-a", "sidecar outbound tt-a", "sidecar inbound tt-b", "app tt-b"]);
      const shared = d.arrows.filter((a) => a.shared !== null);
      // Only the pooled connection's arrows, and all of them.
      expect(shared.map((a) => `${a.hop} ${a.signal}`).sort()).toEqual(
        t.hops
          .filter((h) => h.shared)
          .flatMap((h) => [`${h.index} SYN`, ...(h.first_fin_by ? [`${h.index} FIN`] : []), ...(h.reset_by ? [`${h.index} RST`] : [])])
          .sort(),
      );
      expect(shared.length).toBeGreaterThanOrEqual(2);
      for (const a of shared) {
        expect(a.cls).toMatch(/\bshared\b/);
        // Drawn dashed, not only declared: the computed style of its line.
        expect(a.dash).not.toBe("none");
        expect(a.label).toMatch(reused && a.signal === "SYN" ? / · pooled, opened earlier$/ : / · pooled$/);
        expect(a.reused !== null).toBe(reused && a.signal === "SYN");
      }
      for (const a of d.arrows.filter((x) => x.shared === null)) {
        expect(a.hop).toBe("1");
        expect(a.dash).toBe("none");
        expect(a.label).not.toMatch(/pooled/);
      }
      expect(shared.find((a) => a.hop === "2" && a.signal === "SYN")!.label).toMatch(/^SYN by sidecar outbound tt-a · /);
      // Each arrow at the kernel time of its step, as the trace records it.
      const stepOf = (a: DiagramDom["arrows"][number]) => {
        const h = t.hops[Number(a.hop) - 1]!;
        return String(a.signal === "SYN" ? h.opened_us : a.signal === "FIN" ? h.first_fin_us : h.reset_us);
      };
      expect(d.arrows.map((a) => a.timeUs)).toEqual(d.arrows.map(stepOf));
      // A reused connection was opened before this trace began: its SYNs come first, before app tt-a's own.
      if (reused) expect(d.arrows.slice(0, 2).map((a) => `${a.hop} ${a.signal}`)).toEqual(["2 SYN", "3 SYN"]);
      expect(d.why).toBe(whySentence(t));
      await screenshot(reused ? "pooled-reused" : "pooled-first");
    }
  });

  it("links each traced socket to its timeline, drawn as a table", async () => {
    const t = byScenario("app-abort");
    await open(`/trace/${t.trace_id}`);
    const links = await page.$$eval("a.timeline-link", (as) => as.map((a) => a.getAttribute("href")));
    // Six traced sockets: both ends of three hops.
    expect(links).toHaveLength(6);
    await Promise.all([page.waitForNavigation(), page.click("a.timeline-link")]);
    await page.waitForSelector("body[data-ready]");
    const kinds = await page.$$eval("#timeline tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-kind")));
    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds).toContain("STATE_CHANGE");
    expect(await page.$eval(".crumbs", (e) => e.textContent)).toContain(`trace ${t.trace_id.slice(0, 12)}`);
  });

  it("is readable in dark mode: the page follows prefers-color-scheme", async () => {
    const t = byScenario("app-abort");
    await open(`/trace/${t.trace_id}`);
    const light = await styleOf("body", "background-color");
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
    try {
      const dark = [await styleOf("body", "background-color"), await styleOf("body", "color")];
      expect(dark[0]).not.toBe(light);
      const lum = (c: string) => (c.match(/\d+/g) ?? []).slice(0, 3).reduce((a, b) => a + Number(b), 0);
      // Light text on a dark ground.
      expect(lum(dark[1]!)).toBeGreaterThan(lum(dark[0]!) + 300);
      await screenshot("app-abort-dark");
    } finally {
      await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
    }
  });
});

describe("with an API token", () => {
  it("asks for the token once, then shows the traces (the live stream too)", async () => {
    await page.goto(`${tokenServer.url}/?since=${SINCE}`, { waitUntil: "domcontentloaded" });
    await page.waitForSelector("form#login");
    await page.type("#token", "wrong");
    await page.click("form#login button");
    await page.waitForSelector("form#login .error:not(:empty)");
    expect(await page.$eval("form#login .error", (e) => e.textContent)).toMatch(/not this API's token/);
    await page.$eval("#token", (i) => {
      (i as unknown as { value: string }).value = "";
    });
    await page.type("#token", TOKEN);
    await page.click("form#login button");
    await page.waitForSelector("#traces tr[data-trace]");
    expect(await page.$$eval("#traces tr[data-trace]", (trs) => trs.length)).toBe(stored.size);
    // The cookie carries the token to EventSource, which cannot send a header.
    await page.waitForSelector("#status[data-live]");
    // And it is the browser's, not the page's: scripts cannot read it.
    expect(await page.$eval("body", (b) => b.ownerDocument.cookie)).toBe("");
  });
});
