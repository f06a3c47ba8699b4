// The CLI's side of the API: typed calls over Node's global fetch, with the
// two failures users meet (nothing listening, an error answer) as typed errors.
import { ApiResponseError, ApiUnreachableError } from "./errors.js";
import type { EventJson } from "./event-json.js";
import { API_PREFIX } from "./api-path.js";
import { API_TOKEN_SYNTAX, isApiTokenSyntax } from "./api-token.js";
import { InvalidArgumentError } from "../errors/mod.js";
import type { TraceJson } from "./trace-json.js";

export const DEFAULT_API_URL = "http://127.0.0.1:7070";

export interface QueryClientOptions {
  /** Base URL of `tcptrail run`'s API. Default http://127.0.0.1:7070. */
  url?: string;
  /** Per-request timeout, ms. Default 10000. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>` when the API has one. Default: none. */
  token?: string;
}

export type Params = Record<string, string | number | undefined>;

export interface TraceListJson {
  traces: TraceJson[];
  next_cursor: string | null;
}

export interface TimelineJson {
  events: EventJson[];
  traces: TraceJson[];
  truncated: boolean;
  /** Some events were rebuilt from the trace's stored facts (their raw events had aged out of the event ring). Absent from older servers. */
  summarized?: boolean;
}

export class QueryClient {
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;

  constructor(opts: QueryClientOptions = {}) {
    this.url = (opts.url ?? DEFAULT_API_URL).replace(/\/+$/, "");
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    // Here rather than in fetch, whose TypeError would read as "cannot reach the API".
    if (opts.token !== undefined && !isApiTokenSyntax(opts.token)) throw InvalidArgumentError.format("token", `must be ${API_TOKEN_SYNTAX}`);
    this.#headers = { accept: "application/json", ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}) };
  }

  listTraces(params: Params = {}): Promise<TraceListJson> {
    return this.#get("/traces", params) as Promise<TraceListJson>;
  }

  /** Null when the API has no such trace. */
  async getTrace(id: string): Promise<TraceJson | null> {
    try {
      return (await this.#get(`/traces/${encodeURIComponent(id)}`, {})) as TraceJson;
    } catch (e) {
      if (e instanceof ApiResponseError && e.status === 404) return null;
      throw e;
    }
  }

  timeline(params: Params): Promise<TimelineJson> {
    return this.#get("/timeline", params) as Promise<TimelineJson>;
  }

  /**
   * Follows new traces as the API stores them (its SSE stream
   * /stream/traces, filtered by `params` as /traces filters), calling
   * `onTrace` for each, until `signal` aborts (resolves) or the API ends the
   * stream (rejects: a follow that stops by itself must not look like success).
   * `onOpen` runs once the API has taken the subscription.
   */
  async followTraces(params: Params, io: { onTrace: (t: TraceJson) => void; onOpen?: () => void; signal?: AbortSignal }): Promise<void> {
    const ac = new AbortController();
    const signal = io.signal ? AbortSignal.any([io.signal, ac.signal]) : ac.signal;
    // The timeout bounds connecting only: a quiet stream is not a dead API.
    const connectTimer = setTimeout(() => ac.abort(), this.#timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.#url("/stream/traces", params), { signal, headers: { ...this.#headers, accept: "text/event-stream" } });
    } catch (cause) {
      if (io.signal?.aborted) return;
      throw new ApiUnreachableError(`cannot reach the tcptrail API at ${this.url}: is \`tcptrail run\` running?`, { url: this.url, cause });
    } finally {
      clearTimeout(connectTimer);
    }
    if (!res.ok || !res.body) throw await this.#errorOf(res);
    io.onOpen?.();
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        // Server-sent events end with a blank line; a partial one waits for the rest.
        let end: number;
        while ((end = buffered.indexOf("\n\n")) >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const trace = traceOfMessage(message);
          if (trace) io.onTrace(trace);
        }
      }
    } catch (e) {
      if (io.signal?.aborted) return;
      throw new ApiUnreachableError(`lost the tcptrail API at ${this.url} while following traces`, { url: this.url, cause: e });
    }
    if (io.signal?.aborted) return;
    throw new ApiUnreachableError(`the tcptrail API at ${this.url} ended the trace stream (did \`tcptrail run\` stop?)`, { url: this.url });
  }

  #url(path: string, params: Params): URL {
    const u = new URL(`${this.url}${API_PREFIX}${path}`);
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") u.searchParams.set(k, String(v));
    return u;
  }

  async #errorOf(res: Response): Promise<ApiResponseError> {
    let body: { error?: string; message?: string } = {};
    try {
      body = JSON.parse(await res.text()) as typeof body;
    } catch {
      return new ApiResponseError(`the API at ${this.url} answered ${res.status} with a non-JSON body`, { status: res.status, error: "BAD_RESPONSE" });
    }
    return new ApiResponseError(body.message ?? `HTTP ${res.status}`, { status: res.status, error: body.error ?? "ERROR" });
  }

  async #get(path: string, params: Params): Promise<unknown> {
    const u = this.#url(path, params);
    let res: Response;
    try {
      res = await fetch(u, { signal: AbortSignal.timeout(this.#timeoutMs), headers: this.#headers });
    } catch (cause) {
      throw new ApiUnreachableError(`cannot reach the tcptrail API at ${this.url}: is \`tcptrail run\` running?`, { url: this.url, cause });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiResponseError(`the API at ${this.url} answered ${res.status} with a non-JSON body`, { status: res.status, error: "BAD_RESPONSE" });
    }
    if (!res.ok) {
      const b = body as { error?: string; message?: string };
      throw new ApiResponseError(b.message ?? `HTTP ${res.status}`, { status: res.status, error: b.error ?? "ERROR" });
    }
    return body;
  }
}

/** The trace of one SSE message ("event: trace" with a JSON data line); undefined for comments (": ping") and other events. */
function traceOfMessage(message: string): TraceJson | undefined {
  let event = "message";
  const data: string[] = [];
  for (const line of message.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (event !== "trace" || data.length === 0) return undefined;
  return JSON.parse(data.join("\n")) as TraceJson;
}
