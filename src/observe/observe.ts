// `tcptrail observe`: replay and/or follow the events stream, filtered and
// printed one event per line.
import { silentLogger, type Logger } from "../log/logger.js";
import { connectNats, subscribeEvents, type EventSubscription, type NatsAuthOptions } from "../transport/mod.js";
import { matchEvent, type EventFilter } from "./filter.js";
import { formatEvent, type CompactOptions, type OutputFormat } from "./format.js";
import { PodAddresses } from "./pod-addresses.js";

export interface ObserveOptions {
  natsUrl: string;
  /** Credentials and TLS for natsUrl (a reader's: observe only reads). Default: none. */
  natsAuth?: NatsAuthOptions;
  filter: EventFilter;
  /** Keep printing new events. Default false. */
  follow?: boolean;
  /**
   * Start of the replay. Default: one minute ago, or (with `last` or
   * `follow`) the whole stream or only new events respectively.
   */
  since?: Date;
  /** Print only the last N matching events of the replay. */
  last?: number;
  /** Default "compact". */
  output?: OutputFormat;
  compact?: CompactOptions;
  /** Where lines go. Default: process.stdout with backpressure. */
  write?: (line: string) => void | Promise<void>;
  /** Ends a follow. */
  signal?: AbortSignal;
  logger?: Logger;
}

export interface ObserveResult {
  printed: number;
  batches: number;
  malformed: number;
}

/** How far back a plain `observe` looks. */
export const DEFAULT_LOOKBACK_MS = 60_000;

function stdoutWriter(): (line: string) => Promise<void> | void {
  const out = process.stdout;
  return (line) => {
    // A reader that went away (`| head -1`) never drains: the CLI's EPIPE
    // handler (src/cli/stdout.ts) aborts the loop, which must not hang here.
    if (out.destroyed || out.write(line + "\n")) return;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        out.off("drain", done).off("close", done);
        resolve();
      };
      out.once("drain", done).once("close", done);
    });
  };
}

/** The replay start the flags mean; undefined is "only new events" (follow) or "everything" (no follow). */
export function replayStart(opts: Pick<ObserveOptions, "since" | "last" | "follow">, now = Date.now()): Date | undefined {
  if (opts.since) return opts.since;
  if (opts.last !== undefined) return new Date(0);
  return opts.follow ? undefined : new Date(now - DEFAULT_LOOKBACK_MS);
}

export async function runObserve(opts: ObserveOptions): Promise<ObserveResult> {
  const log = opts.logger ?? silentLogger;
  const write = opts.write ?? stdoutWriter();
  const format = opts.output ?? "compact";
  const follow = opts.follow ?? false;
  const filter = opts.filter;
  const nc = await connectNats(opts.natsUrl, { name: "tcptrail-observe", logger: log, ...(opts.natsAuth ? { auth: opts.natsAuth } : {}) });
  const result: ObserveResult = { printed: 0, batches: 0, malformed: 0 };
  let sub: EventSubscription | undefined;
  const stop = () => void sub?.close();
  opts.signal?.addEventListener("abort", stop, { once: true });
  try {
    // A single node filter is applied by the server; the rest client-side.
    const node = filter.nodes.size === 1 ? [...filter.nodes][0] : undefined;
    const since = replayStart(opts);
    sub = await subscribeEvents(nc, { follow, node, logger: log, ...(since ? { since } : {}) });
    if (opts.signal?.aborted) await sub.close();

    // --last: hold the replay's tail until the replay is over, then go live.
    const last = opts.last;
    let tail: string[] | undefined = last !== undefined ? [] : undefined;
    const flushTail = async () => {
      if (!tail) return;
      for (const line of tail) await write(line);
      result.printed += tail.length;
      tail = undefined;
    };
    if (sub.initialPending === 0) await flushTail();

    // Who owns which address, learned from every event read (--to-pod, --pod).
    const addresses = new PodAddresses();
    const remotePod = (ev: Parameters<PodAddresses["remotePod"]>[0]) => addresses.remotePod(ev);
    for await (const { batch, pending } of sub) {
      result.batches++;
      for (const ev of batch.events) {
        addresses.learn(ev);
        if (!matchEvent(filter, batch.node, ev, remotePod)) continue;
        const line = formatEvent(format, batch.node, ev, opts.compact);
        if (tail) {
          tail.push(line);
          if (tail.length > last!) tail.shift();
        } else {
          await write(line);
          result.printed++;
        }
      }
      if (pending === 0) await flushTail();
    }
    await flushTail();
    result.malformed = sub.stats().malformed;
    if (sub.error) throw sub.error;
    return result;
  } finally {
    opts.signal?.removeEventListener("abort", stop);
    await sub?.close();
    await nc.close();
  }
}
