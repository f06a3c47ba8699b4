// The trace consumer as a service: the durable JetStream consumer on
// tcptrail.v1.events.> feeds the store, the live hub and the stitcher; the
// traces it finishes go to the store, the hub, tcptrail.v1.traces.<outcome>
// and the alert rules. Events are persisted before their batch is acked, and
// a checkpoint (the birth of the oldest socket whose trace is not stored yet)
// lets a restarted consumer replay stored events into a fresh stitcher, so a
// restart neither loses a trace nor duplicates one.
import {
  AlertEngine,
  AlertPublisher,
  WebhookSink,
  loadAlertRules,
  type AlertRule,
  type AlertSink,
} from "../alert/mod.js";
import { hostname } from "node:os";
import { silentLogger, type Logger } from "../log/logger.js";
import type { TcptrailMetrics } from "../metrics/mod.js";
import { outcomeName, positiveIntervalMs, v1, type ConnEvent, type Trace } from "../model/mod.js";
import { createLiveHub, type LiveHub } from "../query/server/mod.js";
import type { EventSource, TraceStore } from "../store/mod.js";
import { Stitcher, type StitcherOptions, type StitcherStats } from "../trace/mod.js";
import {
  DEFAULT_DURABLE_NAME,
  ROLE_INBOX_PREFIX,
  connectNats,
  createDurableEventConsumer,
  HEARTBEATS_WILDCARD,
  decodeHeartbeat,
  ensureStreams,
  jetstream,
  jetstreamManager,
  tracesSubject,
  type DeliveredBatch,
  type DurableEventConsumer,
  type DurableEventConsumerOptions,
  type NatsAuthOptions,
  type AgentHeartbeat,
  type NatsConnection,
  type StreamLimitsOverrides,
  type Subscription,
} from "../transport/mod.js";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.js";
import { ConsumerOptionsError } from "./errors.js";
import { ConsumerMetrics, type ConsumerCounts } from "./metrics.js";
import { saneEvents } from "./event-sanity.js";
import { PendingSockets } from "./pending-sockets.js";
import { ReplayFilter } from "./replay-filter.js";
import { StoreHealth } from "./store-health.js";
import { storeHealthAlert } from "./store-health-alert.js";
import { StreamHighWater } from "./stream-high-water.js";
import { TraceWriter, type TraceWriterStats } from "./trace-writer.js";

export interface ConsumerServiceOptions {
  /** A connection to use (not closed by stop()). Give this or natsUrl. */
  nc?: NatsConnection;
  /** Connect here (and close at stop()). */
  natsUrl?: string;
  /** Credentials and TLS for natsUrl. Default: none. */
  natsAuth?: NatsAuthOptions;
  store: TraceStore;
  /** Where live events and finished traces are fanned out to SSE clients. Default: a private hub. */
  hub?: LiveHub;
  /** Default: silent. */
  logger?: Logger;
  /** Adds tcptrail_consumer_* metrics to this registry. Default: none. */
  metrics?: Pick<TcptrailMetrics, "registry">;
  /** Alert rules. Default: rulesFile's, else the built-in rules. */
  rules?: readonly AlertRule[];
  /** YAML rules file, read when `rules` is not given. */
  rulesFile?: string;
  /** Also POST every alert to this URL. Default: none. */
  webhookUrl?: string;
  /** Durable consumer name; one name = one position in the stream and one checkpoint. Default "tcptrail-stitcher". */
  durableName?: string;
  /**
   * Stitcher settings. Defaults are the stitcher's, except settleMs 400 (not
   * 1000) and reorderWindowMs 50 (not 200): each agent already publishes its
   * node's events in kernel-timestamp order, so the window only absorbs
   * stragglers, and with the agent's own reorder window and 50 ms batching
   * these make up close-to-queryable latency, whose p99 target is 1 s.
   */
  stitcher?: Omit<StitcherOptions, "onTrace">;
  /** Durable consumer settings (ack wait, prefetch...). Default: the transport's. */
  consumer?: Omit<DurableEventConsumerOptions, "logger">;
  /** Stream limits to create or update the streams with. Default: the transport's. */
  streams?: StreamLimitsOverrides;
  /** How often the stitcher is ticked so traces finish without new events, whole ms >= 1. Default DEFAULT_CONSUMER_TICK_MS (50). */
  tickMs?: number;
  /** Longest a finished trace waits before it is written, whole ms >= 1. Default DEFAULT_TRACE_FLUSH_MS (50). */
  traceFlushMs?: number;
  /** Write traces at once when this many wait. Default 200. */
  traceBatch?: number;
  /** How often the checkpoint is saved (also on stop), whole ms >= 1. Default DEFAULT_CHECKPOINT_MS (2000). */
  checkpointMs?: number;
  /** How often the alert engine releases rate-limited alerts, whole ms >= 1. Default DEFAULT_ALERT_FLUSH_MS (60000). */
  alertFlushMs?: number;
  /** Replay starts this long before the checkpoint, for clock jitter between a socket's events. Default 2000. */
  replayMarginMs?: number;
  /** Log one warning per this many malformed messages or rejected events. Default 100. */
  malformedLogEvery?: number;
  /** Wait before retrying a failed store write of events (doubles up to 5 s), whole ms >= 1. Default DEFAULT_STORE_RETRY_MS (100). */
  storeRetryMs?: number;
  /**
   * Where store write failures are reported (the query API's /healthz reads
   * the same one). Default: a private one, logging to `logger` and counting
   * in `metrics`.
   */
  storeHealth?: StoreHealth;
}

export interface ConsumerStats {
  /** Batches persisted, stitched and acked. */
  batchesConsumed: number;
  /** Events persisted and fed to the stitcher (redelivered duplicates excluded). */
  eventsConsumed: number;
  /** Messages that were not a usable EventBatch: undecodable (terminated by the durable consumer) or with no plausible event. */
  malformed: number;
  /** Implausible events dropped from otherwise valid batches. */
  rejectedEvents: number;
  /** Events replayed from the store at start. */
  replayedEvents: number;
  tracesStored: number;
  tracesPublished: number;
  alertsPublished: number;
  /** Re-stitched traces that an earlier run had stored: not stored, published or alerted again. */
  duplicateTraces: number;
  /** Wall time between the newest consumed event and now, once an event was consumed. */
  lagMs?: number;
  stitcher: StitcherStats;
  writer: TraceWriterStats;
}

export interface ConsumerService {
  readonly durableName: string;
  /** The hub live streams read from (the one given, or the private one). */
  readonly hub: LiveHub;
  stats(): ConsumerStats;
  /**
   * Stop pulling, finish the batch in hand, write finished traces and save
   * the checkpoint. Traces still open are not emitted: the next run rebuilds
   * them from the store. Idempotent.
   */
  stop(): Promise<void>;
}

export const DEFAULT_CONSUMER_TICK_MS = 50;
export const DEFAULT_TRACE_FLUSH_MS = 50;
export const DEFAULT_CHECKPOINT_MS = 2000;
export const DEFAULT_ALERT_FLUSH_MS = 60_000;
export const DEFAULT_STORE_RETRY_MS = 100;

const DEFAULTS = {
  // = transport's DEFAULT_DURABLE_NAME: the embedded server's permissions name it.
  durableName: DEFAULT_DURABLE_NAME,
  settleMs: 400,
  tickMs: DEFAULT_CONSUMER_TICK_MS,
  traceFlushMs: DEFAULT_TRACE_FLUSH_MS,
  traceBatch: 200,
  checkpointMs: DEFAULT_CHECKPOINT_MS,
  alertFlushMs: DEFAULT_ALERT_FLUSH_MS,
  replayMarginMs: 2000,
  malformedLogEvery: 100,
  storeRetryMs: DEFAULT_STORE_RETRY_MS,
};
// Timer periods: 0 would make setInterval spin (Node runs it every 1 ms) and a
// 0 store retry delay never grows, so these must be whole ms >= 1.
const INTERVAL_KEYS: ReadonlySet<keyof typeof DEFAULTS> = new Set(["tickMs", "traceFlushMs", "checkpointMs", "alertFlushMs", "storeRetryMs"] as const);
const MAX_STORE_RETRY_MS = 5000;
const DEFAULT_MAX_AGE_MS = 300_000;

type Resolved = typeof DEFAULTS;

const sourceKey = (s: EventSource): string => `${s.node}\0${s.bootId}\0${s.agentStartUs}`;

function resolve(o: ConsumerServiceOptions): Resolved {
  if (!o.nc && !o.natsUrl) throw ConsumerOptionsError.format("natsUrl", "(or nc) is required");
  if (!o.store) throw ConsumerOptionsError.format("store", "is required");
  const r: Resolved = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as (keyof Resolved)[]) {
    if (k === "durableName") continue;
    const v = k === "settleMs" ? o.stitcher?.settleMs : o[k];
    if (v === undefined) continue;
    if (INTERVAL_KEYS.has(k)) {
      r[k] = positiveIntervalMs(k, v, DEFAULTS[k], ConsumerOptionsError);
      continue;
    }
    if (!Number.isFinite(v) || v < 0) throw ConsumerOptionsError.format(k, `must be a finite number >= 0, got ${v}`);
    r[k] = v;
  }
  if (r.traceBatch < 1) throw ConsumerOptionsError.format("traceBatch", "must be >= 1");
  if (r.malformedLogEvery < 1) throw ConsumerOptionsError.format("malformedLogEvery", "must be >= 1");
  if (o.durableName !== undefined) {
    // JetStream durable names cannot contain these.
    if (!/^[A-Za-z0-9_-]+$/.test(o.durableName)) throw ConsumerOptionsError.format("durableName", `must be letters, digits, _ or - (got ${JSON.stringify(o.durableName)})`);
    r.durableName = o.durableName;
  }
  return r;
}

/**
 * Start the consumer: replay from the checkpoint, then consume new batches.
 * Resolves once consuming has begun.
 * @throws ConsumerOptionsError, NatsUnreachableError, AlertRuleError
 */
export async function startConsumerService(o: ConsumerServiceOptions): Promise<ConsumerService> {
  const cfg = resolve(o);
  const log = (o.logger ?? silentLogger).child({ component: "consumer" });
  const rules = o.rules ?? (await loadAlertRules(o.rulesFile));
  const ownConnection = !o.nc;
  // The consumer role's own inbox prefix whatever the credentials: its replies carry the events it fetches,
  // and a user made from docs/SECURITY.md's table may hear on `_INBOX_TCPTRAIL_CONSUMER.>` only.
  const auth = { inboxPrefix: ROLE_INBOX_PREFIX.consumer, ...o.natsAuth };
  const nc = o.nc ?? (await connectNats(o.natsUrl!, { name: `tcptrail-consumer-${cfg.durableName}`, logger: log, auth }));
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, o.streams);
    const js = jetstream(nc);
    return await ConsumerRun.start({ o, cfg, rules, log, nc, ownConnection, js, jsm });
  } catch (err) {
    if (ownConnection) await nc.close().catch(() => undefined);
    throw err;
  }
}

/**
 * What a run is built from: the caller's options and their resolved form,
 * and the NATS handles startConsumerService opened or was given. One object,
 * so the constructor and start() cannot drift apart in what they take.
 */
interface RunContext {
  o: ConsumerServiceOptions;
  cfg: Resolved;
  rules: readonly AlertRule[];
  log: Logger;
  nc: NatsConnection;
  /** startConsumerService opened nc, so stopping the run closes it. */
  ownConnection: boolean;
  js: ReturnType<typeof jetstream>;
  jsm: Awaited<ReturnType<typeof jetstreamManager>>;
}

class ConsumerRun implements ConsumerService {
  readonly durableName: string;
  readonly hub: LiveHub;
  readonly #cfg: Resolved;
  readonly #log: Logger;
  readonly #store: TraceStore;
  readonly #nc: NatsConnection;
  readonly #ownConnection: boolean;
  readonly #stitcher: Stitcher;
  readonly #writer: TraceWriter;
  readonly #alerts: AlertEngine;
  readonly #alertPublisher: AlertPublisher;
  readonly #webhook: WebhookSink | undefined;
  readonly #pending: PendingSockets;
  readonly #filter = new ReplayFilter();
  readonly #highWater = new StreamHighWater();
  readonly #metrics: ConsumerMetrics | undefined;
  readonly #health: StoreHealth;
  readonly #unwatchHealth: () => void;
  readonly #timers: NodeJS.Timeout[] = [];
  #consumer: DurableEventConsumer | undefined;
  #heartbeats: Subscription | undefined;
  /**
   * Per agent run (node, boot, start): its newest heartbeat whose events are
   * not all fed yet (they are still on their way through the stream, or a
   * hole below waits for a redelivery): applied once they are.
   */
  readonly #waitingHeartbeats = new Map<string, AgentHeartbeat>();
  #loop: Promise<void> = Promise.resolve();
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #checkpointing: Promise<void> = Promise.resolve();
  /**
   * A checkpoint is in the store (loaded at start, or saved since). Until
   * there is one, a restart replays nothing, so each batch's ack waits for a
   * save until one succeeds: a run killed within its first checkpoint period
   * would otherwise lose the connections open at the kill, whose acked events
   * no one replays.
   */
  #checkpointStored = false;
  /** Newest event time consumed (wall µs): the checkpoint when nothing is pending. */
  #lastEventUs = 0;
  #counts = { batchesConsumed: 0, eventsConsumed: 0, malformedBatches: 0, rejectedEvents: 0, replayedEvents: 0 };

  private constructor({ o, cfg, rules, log, nc, ownConnection, js }: RunContext) {
    this.durableName = cfg.durableName;
    this.#cfg = cfg;
    this.#log = log;
    this.#store = o.store;
    this.#nc = nc;
    this.#ownConnection = ownConnection;
    this.hub = o.hub ?? createLiveHub({ log });
    this.#metrics = o.metrics ? new ConsumerMetrics(o.metrics) : undefined;
    this.#health = o.storeHealth ?? new StoreHealth({ logger: log, ...(o.metrics ? { metrics: o.metrics } : {}) });
    const stitcherOpts: StitcherOptions = { reorderWindowMs: 50, ...o.stitcher, settleMs: cfg.settleMs };
    // A socket can pin the watermark until the stitcher's own max age has
    // certainly emitted it, with a minute to spare.
    this.#pending = new PendingSockets((o.stitcher?.maxAgeMs ?? DEFAULT_MAX_AGE_MS) + cfg.settleMs + 60_000);
    this.#alerts = new AlertEngine({ rules });
    this.#alertPublisher = new AlertPublisher({ publish: (subject, data) => js.publish(subject, data), logger: log });
    const sinks: AlertSink[] = [this.#alertPublisher];
    if (o.webhookUrl) {
      this.#webhook = new WebhookSink({ url: o.webhookUrl, logger: log });
      sinks.push(this.#webhook);
    }
    this.#writer = new TraceWriter({
      store: o.store,
      hub: this.hub,
      publishTrace: (t: Trace) =>
        js.publish(tracesSubject(outcomeName(t.outcome)), v1.Trace.encode(t).finish(), { msgID: t.traceId }),
      alerts: this.#alerts,
      sinks,
      pending: this.#pending,
      bornInReplay: (node, birthNs) => this.#filter.bornInReplay(node, birthNs),
      flushMs: cfg.traceFlushMs,
      maxBatch: cfg.traceBatch,
      retryMs: 1000,
      health: this.#health,
      logger: log,
    });
    this.#stitcher = new Stitcher({ ...stitcherOpts, onTrace: (t) => this.#writer.push(t) });
    // A failing store is about every trace from now on: alert once when it
    // starts failing and once when it recovers, on the trace rules' sinks.
    const node = hostname();
    this.#unwatchHealth = this.#health.onChange((change) => this.#writer.raise([storeHealthAlert(change, node)]));
  }

  static async start(ctx: RunContext): Promise<ConsumerRun> {
    const { o, cfg, rules, log, js, jsm } = ctx;
    const run = new ConsumerRun(ctx);
    try {
      run.#every(cfg.tickMs, () => run.#stitcher.tick());
      await run.#replay();
      run.#consumer = await createDurableEventConsumer(js, jsm, cfg.durableName, { ...o.consumer, logger: log });
      run.#heartbeats = run.#nc.subscribe(HEARTBEATS_WILDCARD, {
        callback: (err, m) => {
          if (!err) run.#onHeartbeat(m.data);
        },
      });
      run.#every(cfg.checkpointMs, () => void run.#checkpoint());
      run.#every(cfg.alertFlushMs, () => run.#writer.raise(run.#alerts.flush()));
      run.#every(1000, () => run.#metrics?.report(run.#countsForMetrics(), run.#lagMs()));
      run.#loop = run.#consume(run.#consumer);
      log.info({ durable: cfg.durableName, rules: rules.length }, "trace consumer started");
      return run;
    } catch (err) {
      await run.stop().catch(() => undefined);
      throw err;
    }
  }

  stats(): ConsumerStats {
    const w = this.#writer.stats();
    const lagMs = this.#lagMs();
    return {
      batchesConsumed: this.#counts.batchesConsumed,
      eventsConsumed: this.#counts.eventsConsumed,
      malformed: this.#counts.malformedBatches + (this.#consumer?.stats().malformed ?? 0),
      rejectedEvents: this.#counts.rejectedEvents,
      replayedEvents: this.#counts.replayedEvents,
      tracesStored: w.tracesStored,
      tracesPublished: w.tracesPublished,
      alertsPublished: this.#alertPublisher.stats().published,
      duplicateTraces: w.duplicateTraces,
      ...(lagMs !== undefined ? { lagMs } : {}),
      stitcher: this.#stitcher.stats(),
      writer: w,
    };
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#heartbeats?.unsubscribe();
    await this.#consumer?.close();
    await this.#loop;
    for (const t of this.#timers) clearInterval(t);
    await this.#writer.close();
    await this.#checkpointing;
    await this.#checkpoint();
    await this.#alertPublisher.drain();
    this.#unwatchHealth();
    await this.#webhook?.close();
    this.#metrics?.report(this.#countsForMetrics(), this.#lagMs());
    this.#log.info({ stats: { ...this.stats(), stitcher: undefined, writer: undefined } }, "trace consumer stopped");
    if (this.#ownConnection) await this.#nc.drain().catch(() => this.#nc.close());
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.#log.error({ err }, "consumer timer task failed");
      }
    }, ms);
    t.unref();
    this.#timers.push(t);
  }

  /** Rebuild the stitcher's in-flight state from events stored since the checkpoint. */
  async #replay(): Promise<void> {
    const cp = await loadCheckpoint(this.#store, this.durableName, this.#log);
    if (cp) {
      this.#checkpointStored = true;
      const sinceUs = cp.watermarkUs - this.#cfg.replayMarginMs * 1000;
      const started = Date.now();
      for await (const { source, events } of this.#store.replayEvents({ sinceUs })) {
        this.#feed(source, events);
        this.#counts.replayedEvents += events.length;
      }
      this.#log.info(
        { sinceUs, events: this.#counts.replayedEvents, filtered: this.#filter.dropped, ms: Date.now() - started },
        "replayed stored events from the checkpoint",
      );
    }
    this.#filter.endReplay();
  }

  /** Stitch events of one source that are already persisted. */
  #feed(source: EventSource, events: ConnEvent[]): void {
    const fresh = this.#highWater.fresh(source, events);
    if (fresh.length === 0) return;
    const now = Date.now();
    this.#pending.observe(source.node, fresh, now);
    const admitted = this.#filter.admit(source.node, fresh);
    try {
      this.#stitcher.ingest(source.node, admitted);
    } catch (err) {
      // The stitcher's own limits (TooManyNodesError): skip this batch, keep going.
      this.#log.error({ err, node: source.node, events: fresh.length }, "stitcher rejected a batch");
    }
    this.#highWater.advance(source, fresh);
    this.#applyHeartbeat(source);
    const last = fresh[fresh.length - 1]!.timeUs;
    if (last > this.#lastEventUs) this.#lastEventUs = last;
  }

  /**
   * An agent's heartbeat: its node's event time may move to the watermark,
   * once every event it says went out before it was fed here (heartbeats
   * travel on core NATS and overtake a consumer that lags behind the stream).
   */
  #onHeartbeat(data: Uint8Array): void {
    if (this.#stopping) return;
    let h: AgentHeartbeat;
    try {
      h = decodeHeartbeat(data);
    } catch {
      this.#counts.malformedBatches++;
      this.#noteMalformed();
      return;
    }
    const key = sourceKey(h);
    const older = this.#waitingHeartbeats.get(key);
    if (older === undefined || older.lastSeq <= h.lastSeq) this.#waitingHeartbeats.set(key, h);
    this.#applyHeartbeat(h);
  }

  #applyHeartbeat(source: EventSource): void {
    if (this.#waitingHeartbeats.size === 0) return;
    const key = sourceKey(source);
    const h = this.#waitingHeartbeats.get(key);
    if (h === undefined || !this.#highWater.fedThrough(h, h.lastSeq)) return;
    this.#waitingHeartbeats.delete(key);
    this.#stitcher.heartbeat(h.node, h.watermarkNs, h.watermarkTimeUs);
  }

  async #consume(consumer: DurableEventConsumer): Promise<void> {
    try {
      for await (const d of consumer) {
        if (this.#stopping) break; // not acked: redelivered to the next run
        await this.#process(d);
      }
    } catch (err) {
      if (!this.#stopping) this.#log.error({ err }, "event consumer stopped unexpectedly");
    }
  }

  async #process(d: DeliveredBatch): Promise<void> {
    const { batch } = d;
    const sane = saneEvents(batch.events);
    if (sane.rejected > 0) this.#noteRejected(batch.node, d.seq, sane.rejected, sane.firstReason);
    // Seqs of implausible events are never fed: not holes an agent's heartbeat waits on.
    if (sane.rejected > 0) {
      const kept = new Set(sane.events);
      this.#highWater.advance(batch, batch.events.filter((e) => !kept.has(e)));
    }
    if (sane.events.length === 0) {
      this.#counts.malformedBatches++;
      this.#noteMalformed();
      await this.#ack(d);
      return;
    }
    const fresh = this.#highWater.fresh(batch, sane.events);
    if (fresh.length > 0) {
      // Persist before acking: an acked batch is never redelivered, so it must
      // be in the store for the next run's replay.
      if (!(await this.#persist(batch, fresh))) return;
      this.hub.publishEvents(batch.node, fresh);
      this.#feed(batch, fresh);
      this.#counts.eventsConsumed += fresh.length;
      // Once per store: later periods only move it forward, and an older one only replays more.
      if (!this.#checkpointStored) await this.#checkpoint();
    }
    await this.#ack(d);
    this.#counts.batchesConsumed++;
  }

  /**
   * Write events, retrying in place (order matters to the stitcher) until it
   * works or we stop. Meanwhile nothing is acked and nothing more is pulled:
   * JetStream keeps the batches (redelivering the unacked ones after their
   * ack wait) until the store takes them. Failures are counted and reported
   * by the store health, which logs once per spell, not once per retry.
   */
  async #persist(source: EventSource, events: ConnEvent[]): Promise<boolean> {
    let delay = this.#cfg.storeRetryMs;
    for (;;) {
      try {
        await this.#store.putEvents(source, events);
        this.#health.succeeded("events");
        return true;
      } catch (err) {
        this.#health.failed("events", err);
        if (this.#stopping) return false;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, MAX_STORE_RETRY_MS);
      }
    }
  }

  async #ack(d: DeliveredBatch): Promise<void> {
    try {
      await d.ack();
    } catch (err) {
      // The server redelivers it; the high-water mark keeps it out of the stitcher.
      this.#log.warn({ err, seq: d.seq }, "ack failed");
    }
  }

  #noteMalformed(): void {
    const n = this.#counts.malformedBatches;
    if (n === 1 || n % this.#cfg.malformedLogEvery === 0) {
      this.#log.warn({ malformed: n }, "skipped an event batch with no plausible event");
    }
  }

  #noteRejected(node: string, seq: number, count: number, reason: string | null): void {
    const before = this.#counts.rejectedEvents;
    this.#counts.rejectedEvents += count;
    const every = this.#cfg.malformedLogEvery;
    if (before === 0 || Math.floor(before / every) !== Math.floor(this.#counts.rejectedEvents / every)) {
      this.#log.warn({ node, streamSeq: seq, reason, rejected: this.#counts.rejectedEvents }, "dropped implausible events");
    }
  }

  /** Save where the next run must replay from. Serialized; never throws. */
  #checkpoint(): Promise<void> {
    this.#checkpointing = this.#checkpointing.then(async () => {
      // Pending sockets only leave the set once their trace is stored, so the
      // watermark read here is safe whatever is written meanwhile.
      const watermarkUs = this.#pending.lowWatermarkUs(Date.now()) ?? this.#lastEventUs;
      if (watermarkUs === 0) return;
      try {
        await saveCheckpoint(this.#store, this.durableName, { watermarkUs, savedAtMs: Date.now() });
        this.#checkpointStored = true;
        this.#health.succeeded("checkpoint");
      } catch (err) {
        // Retried on the next period; the old checkpoint only replays more.
        this.#health.failed("checkpoint", err);
      }
    });
    return this.#checkpointing;
  }

  #lagMs(): number | undefined {
    return this.#lastEventUs > 0 ? Math.max(0, Date.now() - this.#lastEventUs / 1000) : undefined;
  }

  #countsForMetrics(): ConsumerCounts {
    const s = this.stats();
    return {
      batchesConsumed: s.batchesConsumed,
      eventsConsumed: s.eventsConsumed,
      malformed: s.malformed,
      rejectedEvents: s.rejectedEvents,
      tracesStored: s.tracesStored,
      tracesPublished: s.tracesPublished,
      alertsPublished: s.alertsPublished,
      duplicateTraces: s.duplicateTraces,
    };
  }
}
