// The storage contract for traces and raw events. The consumer writes through
// it, the query API reads through it; SQLite is the default implementation and
// a server database can replace it without touching either side, which is why
// every method is asynchronous even though SQLite is not.
import type { ConnEvent, ConnEventInit, LabelSelector, Outcome, Role, Trace, TraceInit } from "../model/mod.js";

/**
 * Where a batch of events comes from. Sequence numbers restart with every agent,
 * so an event's identity is (node, bootId, agentStartUs, seq). An `EventBatch`
 * satisfies this interface as it is.
 */
export interface EventSource {
  node: string;
  bootId: string;
  agentStartUs: number;
}

/** Which traces to list. All fields are optional and combine with AND. */
export interface TraceFilter {
  /** Wall-clock µs: traces whose span [start, end] overlaps [since, until] (open traces never end). */
  since?: number;
  until?: number;
  /** A hop endpoint (client or server) in this pod. */
  pod?: string;
  /** A hop endpoint whose pod carries every one of these labels (kubectl's equality selector). */
  labels?: LabelSelector;
  /** A hop endpoint with this address; with `port` too, both on the same endpoint. */
  ip?: string;
  port?: number;
  /** One outcome or any of several. */
  outcome?: Outcome | Outcome[];
  /** The role of the endpoint where the failure began (`reset_origin`), e.g. resets begun by a sidecar. */
  role?: Role;
  /** Page size. Default 100, at most 1000. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface TracePage {
  /** Newest first (start time, then trace id). */
  traces: Trace[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Which connection to show. Give `traceId`, `socketId`, or `ip` (+ `port`). */
export interface TimelineQuery {
  /** Every socket of every hop of that trace. */
  traceId?: string;
  /** "node/sock/birth_ts": the socket, its hop peer and any packet answering its 4-tuple. */
  socketId?: string;
  /** An endpoint seen as either local or remote, so both ends of the connection match. */
  ip?: string;
  port?: number;
  /** Wall-clock µs bounds. */
  since?: number;
  until?: number;
  /** At most this many events. Default 10000. */
  limit?: number;
}

export interface StoredEvent {
  node: string;
  event: ConnEvent;
}

export interface Timeline {
  /** Ordered by wall-clock time, then by kernel time on the same node. */
  events: StoredEvent[];
  /** The traces these events belong to, newest first. */
  traces: Trace[];
  /** True when `limit` cut the event list short. */
  truncated: boolean;
  /**
   * True when some socket's raw events had left the event ring and its events
   * were rebuilt from its trace's stored facts (open, first FIN, reset and
   * reason, close): fewer events, same story.
   */
  summarized?: boolean;
}

/**
 * Limits per kind of data, each by age and by size; each kind is cut oldest
 * first, whole blocks or batches at a time, so freed space is freed at once.
 */
export interface RetentionPolicy {
  /** Delete traces whose last activity is older than this. Default DEFAULT_MAX_AGE_MS (24 h). */
  maxAgeMs?: number;
  /** Delete the oldest traces until they fit in this many bytes. Default DEFAULT_MAX_BYTES. */
  maxBytes?: number;
  /** Delete raw event batches older than this. Default DEFAULT_EVENTS_MAX_AGE_MS. */
  eventsMaxAgeMs?: number;
  /** Delete the oldest raw event batches until they fit in this many bytes. Default DEFAULT_EVENTS_MAX_BYTES. */
  eventsMaxBytes?: number;
}

export interface RetentionResult {
  deletedTraces: number;
  deletedEvents: number;
  /** Bytes of live data after the run (all kinds, indexes and free pages not given back excluded). */
  bytes: number;
}

export interface PutResult {
  /** Rows newly written. */
  written: number;
  /** Rows already present (events) or replaced (traces): re-delivery is harmless. */
  duplicates: number;
}

/** One kind of stored data: how much, and how far back it reaches. */
export interface KindStats {
  /** Traces, or raw events. */
  count: number;
  /** Bytes this kind takes: rows, their keys and indexes. */
  bytes: number;
  /** Wall-clock µs of the oldest queryable item (the horizon); null when empty. */
  oldestUs: number | null;
}

export interface StoreStats {
  traces: number;
  events: number;
  /** Bytes in live pages of the whole file. */
  bytes: number;
  /** The database file and its WAL on disk. */
  fileBytes: number;
  kinds: { traces: KindStats; events: KindStats };
}

/** Which stored events to read back, in the order they happened. */
export interface ReplayQuery {
  /** Wall-clock µs: events at or after this time. */
  sinceUs: number;
  /** Events per yielded batch (each batch is one source's consecutive events). Default 1000. */
  batchSize?: number;
}

/** A run of one source's events, in seq order, as stored. */
export interface ReplayBatch {
  source: EventSource;
  events: ConnEvent[];
}

export interface TraceStore {
  /** Write traces; a trace_id already stored is replaced, never duplicated. */
  putTraces(traces: (Trace | TraceInit)[]): Promise<PutResult>;
  /** Write one batch of a node's events; events already stored (same source and seq) are skipped. */
  putEvents(source: EventSource, events: (ConnEvent | ConnEventInit)[]): Promise<PutResult>;
  listTraces(filter?: TraceFilter): Promise<TracePage>;
  /** Exactly the trace that was written, or null. */
  getTrace(traceId: string): Promise<Trace | null>;
  timeline(query: TimelineQuery): Promise<Timeline>;
  /** Delete oldest first until both limits hold. */
  retention(policy?: RetentionPolicy): Promise<RetentionResult>;
  stats(): Promise<StoreStats>;
  /**
   * Stored events since a time, ordered by wall-clock time then by seq within a
   * source, in batches: how a consumer rebuilds in-memory state after a restart.
   * Reads page by page, so writes may interleave between batches.
   */
  replayEvents(query: ReplayQuery): AsyncIterable<ReplayBatch>;
  /** The subset of `traceIds` already stored. */
  existingTraceIds(traceIds: readonly string[]): Promise<Set<string>>;
  /** For each socket id that a stored hop names, one trace id naming it. */
  tracesOfSockets(socketIds: readonly string[]): Promise<Map<string, string>>;
  /** A small named value (e.g. a consumer checkpoint), or null. */
  getMeta(key: string): Promise<string | null>;
  /** Set (replace) a named value. */
  setMeta(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}
