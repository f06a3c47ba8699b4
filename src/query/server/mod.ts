// The HTTP query API (fastify, /api/v1) over a TraceStore, and the live hub
// the consumer publishes into for its streams. Only `tcptrail run` (and its
// tests) load this: it brings fastify and, through the store, SQLite.
export { startQueryServer, buildQueryApp, type QueryServer, type QueryServerOptions } from "./server.js";
export { createLiveHub, type LiveHub, type LiveHubOptions, type TraceListener, type EventListener } from "./live-hub.js";
export { traceMatches, eventMatches, type LiveTraceFilter, type LiveEventFilter } from "./match.js";
export type { StoreWriteHealth } from "./routes/mod.js";
export { MAX_TIMELINE_LIMIT } from "./params.js";
export { type ApiAccessOptions } from "./access.js";
export { DEFAULT_API_HOST, DEFAULT_API_PORT, checkListen } from "./listen-policy.js";
export { UnprotectedListenError, isUnprotectedListenError } from "./errors.js";
export { isLoopbackHost } from "./loopback.js";
export { WEB_TOKEN_COOKIE } from "./web-session.js";
export { WEB_CONTENT_SECURITY_POLICY } from "./routes/mod.js";
export { DEFAULT_SSE_HEARTBEAT_MS, DEFAULT_SSE_MAX_BUFFERED_BYTES, resolveSseOptions, type SseOptions } from "./sse.js";
