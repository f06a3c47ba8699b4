// The agent's publishing side with its accounting: the EventPublisher, the
// ledger of what was read and never published (unpublished-ledger.ts), the
// high-water record saved under the state dir while the run goes (so that a
// crash leaves one) and at stop, and, first of all at start, the GAPs of
// earlier runs that stopped with events unpublished.
import type { Logger } from "../log/logger.js";
import type { TcptrailMetrics } from "../metrics/mod.js";
import type { KernelNs } from "../model/mod.js";
import { EventPublisher, type EventPublisherOptions, type JetStreamClient, type PublisherStats } from "../transport/mod.js";
import { removeHighWater, saveHighWater } from "./high-water-file.js";
import { publishUnpublishedGaps } from "./unpublished-gap.js";
import { UnpublishedLedger, type HighWaterRecord } from "./unpublished-ledger.js";

/** How often a running agent saves its high-water record (what a crash leaves behind). */
export const DEFAULT_HIGH_WATER_SAVE_MS = 250;
/** How long stop() lets the publisher publish what is left before counting it unpublished. */
export const DEFAULT_PUBLISH_CLOSE_TIMEOUT_MS = 5000;

/** What the accounting needs of the agent: where drops go (a GAP marker) and how many events it read. */
export interface PublishingAgent {
  reportDropped(count: number, firstTsNs: KernelNs, lastTsNs: KernelNs): void;
  stats(): { eventsRead: number; eventsFiltered?: number };
}

export interface AgentPublishingOptions {
  js: JetStreamClient;
  node: string;
  bootId: string;
  agentStartUs: number;
  logger: Logger;
  metrics?: Pick<TcptrailMetrics, "eventsUnpublished">;
  /** Where high-water records are kept. Default: none (unpublished events are counted and logged, but no later start can report them). */
  stateDir?: string;
  /** Whole ms >= 1. Default DEFAULT_HIGH_WATER_SAVE_MS (250). */
  saveEveryMs?: number;
  /** Publisher settings (batch size and delay, queue bound…). */
  publisher?: Partial<Omit<EventPublisherOptions, "js" | "node" | "bootId" | "agentStartUs" | "onDrop" | "onQueued" | "onPublished" | "logger">>;
}

export interface PublishingStopResult {
  publisher: PublisherStats;
  /** Events read and never published nor reported by a published GAP. */
  unpublished: number;
}

export class AgentPublishing {
  readonly publisher: EventPublisher;
  readonly #o: AgentPublishingOptions;
  readonly #ledger: UnpublishedLedger;
  #agent: PublishingAgent | undefined;
  #timer: NodeJS.Timeout | undefined;
  #saved = "";
  // What the heartbeat needs of the publisher (agent-heartbeat.ts).
  #ackedThroughSeq = 0;
  #activity = 0;

  private constructor(o: AgentPublishingOptions) {
    this.#o = o;
    this.#ledger = new UnpublishedLedger({ node: o.node, bootId: o.bootId, agentStartUs: o.agentStartUs });
    this.publisher = new EventPublisher({
      ...o.publisher,
      js: o.js,
      node: o.node,
      bootId: o.bootId,
      agentStartUs: o.agentStartUs,
      logger: o.logger,
      onQueued: (b) => {
        this.#activity++;
        this.#ledger.queued(b);
      },
      onPublished: (b) => {
        this.#activity++;
        const last = b.firstSeq + b.count - 1;
        if (last > this.#ackedThroughSeq) this.#ackedThroughSeq = last;
        this.#ledger.published(b);
      },
      onDrop: (count, first, last) => {
        this.#activity++;
        if (this.#ledger.dropped(count)) this.#agent?.reportDropped(count, first, last);
      },
    });
  }

  /** The highest seq acked and a count of publisher activity: what the heartbeat decides from. */
  progress(): { ackedThroughSeq: number; activity: number } {
    return { ackedThroughSeq: this.#ackedThroughSeq, activity: this.#activity };
  }

  /** Publish earlier runs' GAPs (before this run publishes anything), then be ready to publish. */
  static async start(o: AgentPublishingOptions): Promise<AgentPublishing> {
    if (o.stateDir !== undefined) await publishUnpublishedGaps(o.js, o.stateDir, o.node, o.bootId, o.logger);
    return new AgentPublishing(o);
  }

  /** The agent whose events these are: drops go to it, and its read count is the ledger's other side. */
  bind(agent: PublishingAgent): void {
    this.#agent = agent;
    if (this.#o.stateDir === undefined || this.#timer) return;
    this.#timer = setInterval(() => this.#save(false), this.#o.saveEveryMs ?? DEFAULT_HIGH_WATER_SAVE_MS);
    this.#timer.unref();
  }

  /** Before the agent stops: its pipeline makes no more GAP markers, so later drops are this run's loss. */
  beginStop(): void {
    this.#ledger.close();
  }

  /** After the agent stopped: close the publisher, count what never got out, and leave it for the next start. */
  async stop(closeTimeoutMs = DEFAULT_PUBLISH_CLOSE_TIMEOUT_MS): Promise<PublishingStopResult> {
    this.#ledger.close();
    clearInterval(this.#timer);
    this.#timer = undefined;
    const publisher = await this.publisher.close(closeTimeoutMs);
    const record = this.#record(true);
    const unpublished = record.unpublished;
    this.#o.metrics?.eventsUnpublished.inc(unpublished);
    const dir = this.#o.stateDir;
    if (unpublished > 0) {
      if (dir !== undefined) this.#write(record);
      this.#o.logger.warn(
        { unpublished, lastSeq: record.lastSeq, spanStartNs: record.spanStartNs, spanEndNs: record.spanEndNs },
        dir !== undefined
          ? `agent stopped with ${unpublished} unpublished events: the next start publishes a GAP for them`
          : `agent stopped with ${unpublished} unpublished events (no state dir: no later start can report them)`,
      );
    } else if (dir !== undefined) {
      removeHighWater(dir, record);
    }
    return { publisher, unpublished };
  }

  #record(final: boolean): HighWaterRecord {
    // Events of other pods (--pods) were read but are never to be published: not unpublished.
    const s = this.#agent?.stats();
    return this.#ledger.record((s?.eventsRead ?? 0) - (s?.eventsFiltered ?? 0), final);
  }

  /** A periodic save, skipped when nothing changed. */
  #save(final: boolean): void {
    const r = this.#record(final);
    const key = `${r.lastSeq}:${r.unpublished}:${r.spanStartNs}:${r.spanEndNs}`;
    if (key === this.#saved) return;
    this.#write(r);
    this.#saved = key;
  }

  #write(r: HighWaterRecord): void {
    try {
      saveHighWater(this.#o.stateDir!, r);
    } catch (err) {
      this.#o.logger.warn({ err, dir: this.#o.stateDir }, "could not save the agent's high-water record");
    }
  }
}
