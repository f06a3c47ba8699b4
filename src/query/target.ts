// What `timeline` and `why` are asked about: a trace id, a socket id
// (node/sock/birth_ts) or an endpoint "ip:port" / "[v6]:port".
import { isIP } from "node:net";

export type Target =
  | { kind: "trace"; traceId: string }
  | { kind: "socket"; socketId: string }
  | { kind: "endpoint"; ip: string; port: number };

export function parseTarget(s: string): Target {
  const v = s.trim();
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(v) ?? /^([0-9.]+):(\d+)$/.exec(v);
  if (m && isIP(m[1]!)) {
    const port = Number(m[2]);
    if (port >= 1 && port <= 65535) return { kind: "endpoint", ip: m[1]!, port };
  }
  if (/^.+\/(0x)?[0-9a-f]+\/\d+$/i.test(v)) return { kind: "socket", socketId: v };
  return { kind: "trace", traceId: v };
}

/** The API query parameters that name this target. */
export function targetParams(t: Target): Record<string, string | number> {
  switch (t.kind) {
    case "trace":
      return { trace: t.traceId };
    case "socket":
      return { socket: t.socketId };
    case "endpoint":
      return { ip: t.ip, port: t.port };
  }
}
