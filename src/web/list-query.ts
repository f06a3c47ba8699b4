// The trace list's filters as the API's own query parameters (GET
// /api/v1/traces and the /stream/traces SSE stream take the same names), so
// the page filters exactly as `tcptrail traces` does and adds no query
// language of its own. Pure: tested in Node, used by the page.

export interface ListFilters {
  pod?: string;
  /** Outcome names, comma-separated as the API takes them (e.g. "RESET_BY_SERVER,REFUSED"). */
  outcome?: string;
  /** The API's time syntax: "15m", an RFC 3339 time... */
  since?: string;
  until?: string;
  /** The search box: "10.88.0.3:8080", "[::1]:80", "10.88.0.3", "::1", "8080". */
  search?: string;
}

export interface AddressSearch {
  ip?: string;
  port?: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Loose on purpose: the API checks the address (node:net isIP) and answers a
// 400 naming the parameter, which the page shows; this only has to tell an
// IPv6 address (always two colons or more) from a port, a name or ipv4:port.
const IPV6 = /^[0-9a-fA-F.]*:[0-9a-fA-F.]*:[0-9a-fA-F:.]*$/;

function port(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * What the search box asks for, as the API's ip and port. Undefined when the
 * text is neither an address, a port nor both (the page says so instead of
 * sending a query the API would refuse).
 */
export function parseAddressSearch(text: string): AddressSearch | undefined {
  const s = text.trim();
  if (s === "") return {};
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) {
    const p = bracketed[2] === undefined ? undefined : port(bracketed[2]);
    if (bracketed[2] !== undefined && p === undefined) return undefined;
    return IPV6.test(bracketed[1]!) ? { ip: bracketed[1]!, ...(p ? { port: p } : {}) } : undefined;
  }
  const only = port(s);
  if (only !== undefined) return { port: only };
  if (IPV4.test(s)) return { ip: s };
  const v4port = /^([\d.]+):(\d+)$/.exec(s);
  if (v4port && IPV4.test(v4port[1]!)) {
    const p = port(v4port[2]!);
    return p === undefined ? undefined : { ip: v4port[1]!, port: p };
  }
  if (IPV6.test(s)) return { ip: s };
  return undefined;
}

/**
 * Query parameters for /api/v1/traces (`stream` false) or /api/v1/stream/traces
 * (`stream` true: it has no time window, a live stream is "from now on").
 * @throws Error naming the search text when it is not an address or port.
 */
export function listParams(f: ListFilters, stream = false): URLSearchParams {
  const q = new URLSearchParams();
  const set = (k: string, v: string | undefined) => {
    const trimmed = v?.trim();
    if (trimmed) q.set(k, trimmed);
  };
  set("pod", f.pod);
  set("outcome", f.outcome);
  if (!stream) {
    set("since", f.since);
    set("until", f.until);
  }
  const search = parseAddressSearch(f.search ?? "");
  if (!search) throw new Error(`search: "${f.search}" is not an address, a port or address:port`);
  if (search.ip) q.set("ip", search.ip);
  // The API takes a port only with an address for timelines, but alone for traces.
  if (search.port) q.set("port", String(search.port));
  return q;
}

/**
 * Whether live traces belong in the list as filtered: a stream has no time
 * window, so a list that ends in the past (until set) takes nothing live.
 */
export const acceptsLive = (f: ListFilters): boolean => !f.until?.trim();

/**
 * The outcomes the filter offers, as the API names them. Written out rather
 * than imported from the model, which would bundle the protobuf runtime into
 * the page; a test keeps this list equal to the model's.
 */
export const OUTCOME_NAMES = [
  "COMPLETED",
  "REFUSED",
  "RESET_BY_CLIENT",
  "RESET_BY_SERVER",
  "RESET_UNTRACED",
  "TIMEOUT",
  "INCOMPLETE",
  "OPEN",
  "PROCESS_EXIT",
  "UPSTREAM_IDLE_CLOSE_RACE",
] as const;
