// Counters read the way Prometheus reads them: from a process's /metrics
// text, so the bench measures the CLI as users run it, not its internals.

/** Sample values by series, `name` or `name{labels}` exactly as exposed. */
export type MetricSamples = ReadonlyMap<string, number>;

/** Parse the text exposition format's sample lines; comments and blank lines are skipped. */
export function parseMetricsText(text: string): MetricSamples {
  const out = new Map<string, number>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    // A label value may hold spaces, so the series ends at the closing brace when there is one.
    const close = line.lastIndexOf("}");
    const cut = close >= 0 ? close + 1 : line.indexOf(" ");
    if (cut <= 0) continue;
    // The value may be followed by a timestamp.
    const value = Number(line.slice(cut).trim().split(/\s+/)[0]);
    if (!Number.isNaN(value)) out.set(line.slice(0, cut), value);
  }
  return out;
}

/** A series' value, 0 when the process does not expose it (yet). */
export function sample(samples: MetricSamples, series: string): number {
  return samples.get(series) ?? 0;
}

/** GET a /metrics URL and parse it. */
export async function scrapeMetrics(url: string, timeoutMs = 5000): Promise<MetricSamples> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return parseMetricsText(await res.text());
}
