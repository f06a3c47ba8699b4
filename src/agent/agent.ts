// The node agent: bpftrace lines in, ordered and attributed connection events
// out. Lines are parsed as they arrive; process-context events feed the owner
// table at once; everything waits in the reorder buffer for a short window so
// that events from different CPUs leave in kernel-timestamp order, and is
// enriched (tuple, pod, owner, role) as it is released.
import { hostname } from "node:os";
import { EventKind, kernelUs, monotonicNs, nsSpan, positiveIntervalMs, type ConnEventInit, type KernelNs } from "../model/mod.js";
import { BpftraceRunner, LineParser, ProbeAttachError, SLOW_BPFTRACE_WARNING, blankEvent, defaultProgramPath, preflight, type CrashInfo, type ParsedEvent, type ProbeFeatures } from "../probes/mod.js";
import { silentLogger, type Logger } from "../log/logger.js";
import type { TcptrailMetrics } from "../metrics/mod.js";
import { MeshRoleClassifier, type MeshRoleOptions } from "./role.js";
import { NetnsDirResolver, type PodResolver } from "./pod-resolver.js";
import { OwnerTable } from "./owner-table.js";
import { ReorderBuffer } from "./reorder-buffer.js";
import { SocketTable } from "./socket-table.js";

export interface AgentOptions {
  /** Node name, the last token of the events subject. Default: os.hostname(). */
  node?: string;
  /** Called with each released run of ordered events (a publisher's push). */
  sink: (events: ConnEventInit[]) => void;
  /** bpftrace program. Default: probes/tcptrail.bt of this installation. */
  program?: string;
  /** bpftrace binary. Default: $TCPTRAIL_BPFTRACE, else deploy/setup.sh's private install (DEFAULT_BPFTRACE_PREFIX), else PATH. */
  bpftrace?: string;
  /** bpftrace output buffer pages (BPFTRACE_PERF_RB_PAGES). Default: 16384 for bpftrace 0.21+, 2048 before. */
  perfRbPages?: number;
  /** How long events wait to be put in kernel-timestamp order. Default 100 ms. */
  reorderWindowMs?: number;
  /** How often ordered events are released, whole ms >= 1. Default DEFAULT_AGENT_TICK_MS (20). */
  tickMs?: number;
  /** How long a closed socket's tuple and owner are kept for late events. Default 10 s. */
  lingerMs?: number;
  mesh?: MeshRoleOptions;
  /** Names network namespaces. Default: named namespaces under /run/netns, the host as the node name. */
  pods?: PodResolver;
  logger?: Logger;
  metrics?: TcptrailMetrics;
  /** Mount tracefs when missing (root only). Default true. */
  mountTracefs?: boolean;
}

export interface AgentStats {
  linesRead: number;
  eventsRead: number;
  eventsReleased: number;
  malformedLines: number;
  kernelLost: number;
  queueDropped: number;
  bpftraceRestarts: number;
  lateEvents: number;
  reordered: number;
  unattributed: number;
  liveSockets: number;
}

export const DEFAULT_AGENT_TICK_MS = 20;

const PROCESS_CONTEXT = new Set<number>([
  EventKind.EVENT_KIND_SYSCALL_CONNECT,
  EventKind.EVENT_KIND_SYSCALL_ACCEPT,
  EventKind.EVENT_KIND_SYSCALL_CLOSE,
  EventKind.EVENT_KIND_SYSCALL_SHUTDOWN,
  EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST,
]);

export class Agent {
  readonly node: string;
  readonly #o: AgentOptions;
  readonly #log: Logger;
  readonly #parser: LineParser;
  readonly #reorder = new ReorderBuffer<ParsedEvent>();
  readonly #owners = new OwnerTable();
  readonly #sockets: SocketTable;
  readonly #pods: PodResolver;
  readonly #windowNs: bigint;
  readonly #tickMs: number;
  #runner: BpftraceRunner | undefined;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  // Kernel instants are bigint (exact past 2^53 ns, 104 days of uptime).
  #maxSeenTs: KernelNs = 0n;
  // Kernel clock (bpftrace nsecs) minus Node's monotonic clock, learned from the BEGIN line.
  #kernelMinusMono = 0n;
  // Wall-clock µs minus kernel-clock µs: both are µs counts a double holds exactly.
  #wallMinusKernelUs = 0;
  #pendingCrash: { info: CrashInfo; sinceNs: KernelNs } | undefined;
  // The queue-drop GAP not yet released (its seq is set on release).
  #pendingDropGap: ParsedEvent | undefined;
  // Drop GAPs replaced by a later one while still in the reorder buffer: skipped on release.
  readonly #retiredGaps = new WeakSet<ParsedEvent>();
  #attached: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #lastPrune = 0;
  #s = { linesRead: 0, eventsRead: 0, eventsReleased: 0, kernelLost: 0, queueDropped: 0, unattributed: 0 };
  #reported = { linesRead: 0, eventsRead: 0, malformed: 0, kernelLost: 0, queueDropped: 0, restarts: 0, late: 0 };

  constructor(opts: AgentOptions) {
    this.#o = opts;
    this.node = opts.node ?? hostname();
    this.#log = opts.logger ?? silentLogger;
    // Checked here, not at startClock(): a bad value fails before bpftrace starts.
    this.#tickMs = positiveIntervalMs("tickMs", opts.tickMs, DEFAULT_AGENT_TICK_MS);
    this.#windowNs = nsSpan((opts.reorderWindowMs ?? 100) * 1e6);
    this.#pods = opts.pods ?? new NetnsDirResolver({ hostName: this.node });
    this.#sockets = new SocketTable(new MeshRoleClassifier(opts.mesh), this.#pods);
    this.#parser = new LineParser({
      onEvent: (ev) => this.#onEvent(ev),
      onLost: (n) => this.#onLost(n),
      onBegin: (ts) => this.#onBegin(ts),
      onMalformed: (line, reason) => {
        // Every one is counted (stats, metrics); the log gets the first few and then every 1000th.
        const n = this.#parser.malformed;
        if (n <= 10 || n % 1000 === 0) this.#log.warn({ line: line.slice(0, 200), reason, malformedSoFar: n }, "malformed probe line skipped");
      },
    });
  }

  /** PID of the running bpftrace child, if any. */
  get bpftracePid(): number | undefined {
    return this.#runner?.pid;
  }

  /** Feed one probe line (the runner does this; tests and replays may too). */
  readonly feed = (line: string): void => {
    this.#s.linesRead++;
    this.#parser.parse(line);
  };

  /**
   * Check the machine, start bpftrace and resolve once its probes are
   * attached (its BEGIN line arrived). Rejects with a PreflightError that
   * says what to do when the probes cannot run here, or a ProbeAttachError
   * when bpftrace exits or stalls before attaching.
   */
  async start(): Promise<ProbeFeatures> {
    const features = await preflight({ ...(this.#o.bpftrace ? { bpftrace: this.#o.bpftrace } : {}), mountTracefs: this.#o.mountTracefs ?? true });
    this.#log.info({ kprobes: features.kprobes, kfuncs: features.kfuncs }, "probe features: tracepoints only (kprobe/kfunc variants are optional)");
    const version = features.bpftraceVersion;
    this.#log.info({ bpftrace: features.bpftrace, version: version.text, source: features.bpftraceSource }, `bpftrace ${version.text}`);
    if (!features.currentBpftrace) this.#log.warn({ bpftrace: features.bpftrace, version: version.text }, SLOW_BPFTRACE_WARNING);
    this.#runner = new BpftraceRunner({
      bpftrace: features.bpftrace,
      version,
      program: this.#o.program ?? defaultProgramPath(),
      ...(this.#o.perfRbPages !== undefined ? { perfRbPages: this.#o.perfRbPages } : {}),
      logger: this.#log,
      onLine: this.feed,
      onCrash: (info) => this.#onCrash(info),
    });
    const attached = new Promise<void>((resolve, reject) => (this.#attached = { resolve, reject }));
    this.#runner.start();
    this.startClock();
    const timeout = setTimeout(() => this.#attached?.reject(new ProbeAttachError("bpftrace did not attach its probes within 60 s (see its stderr above)")), 60_000);
    try {
      await attached;
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      clearTimeout(timeout);
    }
    return features;
  }

  /** Start releasing ordered events on a timer (start() does this; replays call it directly). */
  startClock(): void {
    this.#wallMinusKernelUs = Date.now() * 1000 - kernelUs(monotonicNs() + this.#kernelMinusMono);
    this.#timer ??= setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref?.();
  }

  /** Stop bpftrace, release what is buffered and stop the clock. */
  async stop(): Promise<void> {
    await this.#runner?.stop();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#release(null);
    this.#reportMetrics();
    // Only the resolver made here is ours to close; a caller's may be shared.
    if (this.#o.pods === undefined) this.#pods.close?.();
  }

  /** The publisher dropped events: make the hole visible downstream. */
  reportDropped(count: number, firstTsNs: KernelNs, lastTsNs: KernelNs): void {
    this.#s.queueDropped += count;
    // While the queue stays full every push drops again: fold those drops into
    // the GAP still waiting to be released instead of queueing one per drop
    // (each GAP would itself take a queue slot).
    const pending = this.#pendingDropGap;
    if (pending && pending.seq === undefined) {
      pending.lost = (pending.lost ?? 0) + count;
      const start = pending.gapStartNs ?? firstTsNs;
      pending.gapStartNs = firstTsNs < start ? firstTsNs : start;
      if (lastTsNs <= pending.tsNs) return;
      // The GAP's ts is its end, and also its place in the reorder buffer, whose
      // runs must stay sorted: raising it in place would release it ahead of
      // later-pushed events it now ends after (and could hold them back). So
      // the pending GAP is retired where it sits and an equal one ending at the
      // latest dropped event is pushed, to be released in its right place.
      this.#retiredGaps.add(pending);
      const moved = gap(lastTsNs, pending.gapStartNs, pending.lost, pending.gapReason ?? "publish queue full: events dropped");
      this.#pendingDropGap = moved;
      this.#reorder.push(moved);
      return;
    }
    const ev = gap(lastTsNs > this.#maxSeenTs ? lastTsNs : this.#maxSeenTs, firstTsNs, count, "publish queue full: events dropped");
    this.#pendingDropGap = ev;
    this.#reorder.push(ev);
  }

  stats(): AgentStats {
    return {
      ...this.#s,
      malformedLines: this.#parser.malformed,
      bpftraceRestarts: this.#runner?.restarts ?? 0,
      lateEvents: this.#reorder.late,
      reordered: this.#reorder.reordered,
      liveSockets: this.#sockets.size,
    };
  }

  /** Release events older than the reorder window. */
  tick(): void {
    const nowKernel = monotonicNs() + this.#kernelMinusMono;
    this.#release((this.#maxSeenTs > nowKernel ? this.#maxSeenTs : nowKernel) - this.#windowNs);
    const now = Date.now();
    if (now - this.#lastPrune > 1000) {
      this.#lastPrune = now;
      const lingerNs = nsSpan((this.#o.lingerMs ?? 10_000) * 1e6);
      this.#sockets.prune(this.#maxSeenTs - lingerNs);
      // Owners are copied onto their socket when first found; records only need
      // to outlive the reorder window (plus slack) to be found.
      const ownerSlack = 2n * this.#windowNs + 1_000_000_000n;
      this.#owners.prune(this.#maxSeenTs - (lingerNs < ownerSlack ? lingerNs : ownerSlack), (s) => this.#sockets.isAlive(s) && !this.#sockets.get(s)?.owner);
      this.#reportMetrics();
    }
  }

  #onEvent(ev: ParsedEvent): void {
    this.#s.eventsRead++;
    if (ev.tsNs > this.#maxSeenTs) this.#maxSeenTs = ev.tsNs;
    if (ev.process && PROCESS_CONTEXT.has(ev.kind)) this.#owners.note(ev.sock, ev.tsNs, ev.process);
    this.#reorder.push(ev);
  }

  #onLost(n: number): void {
    this.#s.kernelLost += n;
    this.#log.warn({ lost: n }, "bpftrace lost events in the perf buffer");
    this.#reorder.push(gap(this.#maxSeenTs, this.#maxSeenTs, n, "kernel perf buffer overflow"));
  }

  #onBegin(tsNs: KernelNs): void {
    const delta = tsNs - monotonicNs();
    // The kernel clock bpftrace uses (boot time) never runs behind the monotonic clock; a
    // negative delta is only the pipe's latency.
    this.#kernelMinusMono = delta > 0n ? delta : 0n;
    this.#wallMinusKernelUs = Date.now() * 1000 - kernelUs(tsNs);
    if (tsNs > this.#maxSeenTs) this.#maxSeenTs = tsNs;
    if (this.#pendingCrash) {
      const { info, sinceNs } = this.#pendingCrash;
      this.#pendingCrash = undefined;
      const why = `bpftrace restarted (exit ${info.exitCode ?? info.signal ?? "?"})`;
      this.#reorder.push(gap(tsNs, sinceNs, 0, why));
    }
    this.#log.info({ bpftracePid: this.#runner?.pid }, "probes attached");
    this.#attached?.resolve();
    this.#attached = undefined;
  }

  #onCrash(info: CrashInfo): void {
    if (this.#attached) {
      // It never attached: restarting would fail the same way, so say why now.
      const why = info.stderr.split("\n").filter(Boolean).at(-1) ?? `exit ${info.exitCode ?? info.signal}`;
      this.#attached.reject(new ProbeAttachError(`bpftrace exited before attaching its probes: ${why}`));
      this.#attached = undefined;
      return;
    }
    this.#pendingCrash ??= { info, sinceNs: this.#maxSeenTs };
  }

  /** Release every buffered event up to `watermarkNs` (all of them with null). */
  #release(watermarkNs: KernelNs | null): void {
    const out: ConnEventInit[] = [];
    this.#reorder.drain(watermarkNs, (ev) => {
      if (ev.kind === EventKind.EVENT_KIND_GAP && this.#retiredGaps.has(ev)) return;
      this.#enrich(ev);
      ev.seq = ++this.#seq;
      ev.timeUs = Math.floor(kernelUs(ev.tsNs) + this.#wallMinusKernelUs);
      out.push(ev);
    });
    if (out.length > 0) {
      this.#s.eventsReleased += out.length;
      this.#o.sink(out);
    }
  }

  #enrich(ev: ParsedEvent): void {
    if (ev.kind === EventKind.EVENT_KIND_GAP) return;
    const table = this.#sockets;
    const info = ev.kind === EventKind.EVENT_KIND_STATE_CHANGE ? table.onState(ev, ev.hasTuple) : ev.sock ? table.get(ev.sock) : undefined;
    if (info === undefined) {
      if (ev.sock) this.#s.unattributed++;
      if (ev.netns) ev.pod = this.#pods.resolve(ev.netns);
      return;
    }
    if (!ev.hasTuple) {
      ev.family = info.family;
      ev.local = info.local;
      ev.remote = info.remote;
    }
    ev.netns = info.netns;
    // Pods are resolved as events leave the reorder buffer, not as they arrive:
    // a namespace named within the reorder window of a socket's first event
    // still names that event, at no extra cost. Until a name is found, each
    // later event of the socket asks again (the socket's earlier, released
    // events cannot be called back).
    ev.pod = table.podOf(info);
    ev.uid = info.uid;
    ev.role = info.mesh.role;
    ev.leg = info.mesh.leg;
    // Found once per socket, then kept on it: the owner table can forget old records.
    info.owner ??= this.#owners.lookup(ev.sock, info.birthTsNs);
    if (info.owner) ev.owner = info.owner;
  }

  #reportMetrics(): void {
    const m = this.#o.metrics;
    if (!m) return;
    const r = this.#reported;
    const s = this.stats();
    m.probeLines.inc(s.linesRead - r.linesRead);
    m.eventsRead.inc(s.eventsRead - r.eventsRead);
    m.malformedLines.inc(s.malformedLines - r.malformed);
    m.kernelLost.inc(s.kernelLost - r.kernelLost);
    m.queueDropped.inc(s.queueDropped - r.queueDropped);
    m.bpftraceRestarts.inc(s.bpftraceRestarts - r.restarts);
    m.lateEvents.inc(s.lateEvents - r.late);
    m.liveSockets.set(s.liveSockets);
    this.#reported = {
      linesRead: s.linesRead,
      eventsRead: s.eventsRead,
      malformed: s.malformedLines,
      kernelLost: s.kernelLost,
      queueDropped: s.queueDropped,
      restarts: s.bpftraceRestarts,
      late: s.lateEvents,
    };
  }
}

function gap(tsNs: KernelNs, startNs: KernelNs, lost: number, reason: string): ParsedEvent {
  const ev = blankEvent(EventKind.EVENT_KIND_GAP, tsNs, "", false);
  ev.gapStartNs = startNs;
  ev.lost = lost;
  ev.gapReason = reason;
  return ev;
}
