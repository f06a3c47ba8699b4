// The page's calls to /api/v1, same origin. The browser sends the session
// cookie by itself (src/query/server/web-session.ts); a 401 means the API has
// a token and this browser has not logged in yet.
import type { EventJson } from "../src/query/event-json.js";
import type { TraceJson } from "../src/query/trace-json.js";

export const API = "/api/v1";

export class LoginRequired extends Error {
  constructor() {
    super("this API requires its token");
    this.name = "LoginRequired";
  }
}

export const isLoginRequired = (e: unknown): e is LoginRequired => e instanceof LoginRequired;

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${API}${path}`, { credentials: "same-origin", headers: { accept: "application/json" } });
  if (res.status === 401) throw new LoginRequired();
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body as T;
}

export interface TraceList {
  traces: TraceJson[];
  next_cursor: string | null;
}

export interface Timeline {
  events: EventJson[];
  traces: TraceJson[];
  truncated: boolean;
  summarized: boolean;
}

export const listTraces = (q: URLSearchParams): Promise<TraceList> => getJson(`/traces?${q}`);
export const getTrace = (id: string): Promise<TraceJson> => getJson(`/traces/${encodeURIComponent(id)}`);
export const timelineOf = (param: "trace" | "socket", id: string): Promise<Timeline> =>
  getJson(`/timeline?${new URLSearchParams({ [param]: id, limit: "2000" })}`);

/** POST the token to /login; true when the API took it (and set the session cookie). */
export async function login(token: string): Promise<boolean> {
  const res = await fetch("/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  return res.ok;
}
