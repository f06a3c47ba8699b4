// The agent's per-event work, in the thread it is created in: probe lines are
// parsed as they arrive; process-context events feed the owner table at once;
// everything waits in the reorder buffer for a short window so that events
// from different CPUs leave in kernel-timestamp order, and is enriched
// (tuple, pod, owner, role) as it is released. The Agent runs one directly
// (tests, replays) or the agent service runs one in a worker thread.
import { EventKind, kernelUs, monotonicNs, type ConnEventInit, type KernelNs } from "../model/mod.js";
import { LineParser, LineSplitter, blankEvent, type ParsedEvent } from "../probes/mod.js";
import { silentLogger, type Logger } from "../log/logger.js";
import {
  resolvePipelineSettings,
  type AgentPipeline,
  type PipelineHooks,
  type PipelineSettings,
  type PipelineStats,
  type ReleasedHorizon,
  type ResolvedPipelineSettings,
} from "./agent-pipeline.js";
import { MeshRoleClassifier } from "./role.js";
import { DEFAULT_NEW_POD_HOLD_MS, NetnsDirResolver, type PodResolver } from "./pod-resolver.js";
import { EventRate } from "./event-rate.js";
import { OwnerTable } from "./owner-table.js";
import { ReorderBuffer } from "./reorder-buffer.js";
import { SocketTable } from "./socket-table.js";

export interface EventPipelineOptions {
  settings: PipelineSettings;
  /** Called with each released run of ordered events (a publisher's push, a batch cutter). */
  sink: (events: ConnEventInit[]) => void;
  /**
   * The sink keeps nothing of the events once it returns (a BatchCutter
   * encodes them as they come): their objects are then reused for the next
   * lines, so that a busy node's events cost no garbage. Default false: the
   * sink owns what it is given.
   */
  reuseEvents?: boolean;
  /** Names network namespaces. Default: named namespaces under /run/netns, the host as the node name (closed on stop). */
  pods?: PodResolver;
  logger?: Logger;
  hooks?: Partial<PipelineHooks>;
}

const PROCESS_CONTEXT = new Set<number>([
  EventKind.EVENT_KIND_SYSCALL_CONNECT,
  EventKind.EVENT_KIND_SYSCALL_ACCEPT,
  EventKind.EVENT_KIND_SYSCALL_CLOSE,
  EventKind.EVENT_KIND_SYSCALL_SHUTDOWN,
  EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST,
  // The sending thread, read in process context: a pooled upstream older than
  // the probe (no connect seen) gets its owner from its first link.
  EventKind.EVENT_KIND_SOCKET_LINK,
]);

export class EventPipeline implements AgentPipeline {
  readonly #settings: ResolvedPipelineSettings;
  readonly #sink: (events: ConnEventInit[]) => void;
  readonly #reuseEvents: boolean;
  readonly #log: Logger;
  readonly #onBegin: ((tsNs: KernelNs) => void) | undefined;
  readonly #parser: LineParser;
  readonly #splitter: LineSplitter;
  readonly #reorder = new ReorderBuffer<ParsedEvent>();
  readonly #owners = new OwnerTable();
  // For the GAP of a bpftrace restart: what it never printed nobody counted, so the rate before it gives an estimate.
  readonly #rate = new EventRate();
  readonly #sockets: SocketTable;
  readonly #pods: PodResolver;
  readonly #ownPods: boolean;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  // Kernel instants are bigint (exact past 2^53 ns, 104 days of uptime).
  #maxSeenTs: KernelNs = 0n;
  // Kernel clock (bpftrace nsecs) minus Node's monotonic clock, learned from the BEGIN line.
  #kernelMinusMono = 0n;
  // Wall-clock µs minus kernel-clock µs: both are µs counts a double holds exactly.
  #wallMinusKernelUs = 0;
  #pendingCrash: { reason: string; sinceNs: KernelNs } | undefined;
  // bpftrace's BEGIN was read: its probes are attached and the kernel clock known.
  #begun = false;
  // The released horizon (kernel ns): every event read up to it was released (0n: none yet).
  #horizonNs: KernelNs = 0n;
  #horizonSeq = 0;
  // GAPs pushed into the reorder buffer and not released: until they are, the
  // horizon stands (events before it were lost, and nothing has said so yet).
  #gapsBuffered = 0;
  // The queue-drop GAP not yet released (its seq is set on release).
  #pendingDropGap: ParsedEvent | undefined;
  // Drop GAPs replaced by a later one while still in the reorder buffer: skipped on release.
  readonly #retiredGaps = new WeakSet<ParsedEvent>();
  #lastPrune = 0;
  #tickedAt = 0;
  // The earliest event of a namespace being asked about, and until when (wall ms) the release may wait for the answer.
  #holdFromNs: KernelNs | undefined;
  #holdUntilMs: number | undefined;
  #s = { linesRead: 0, eventsRead: 0, eventsReleased: 0, kernelLost: 0, unattributed: 0, eventsFiltered: 0 };

  constructor(o: EventPipelineOptions) {
    this.#settings = resolvePipelineSettings(o.settings);
    this.#sink = o.sink;
    this.#reuseEvents = o.reuseEvents ?? false;
    this.#log = o.logger ?? silentLogger;
    this.#onBegin = o.hooks?.onBegin;
    this.#ownPods = o.pods === undefined;
    this.#pods = o.pods ?? new NetnsDirResolver({ hostName: this.#settings.node });
    this.#sockets = new SocketTable(new MeshRoleClassifier(this.#settings.mesh), this.#pods);
    this.#parser = new LineParser({
      onEvent: (ev) => this.#onEvent(ev),
      onLost: (n) => this.#onLost(n),
      onBegin: (ts) => this.#begin(ts),
      onProcessExit: (pid) => this.#pods.processExited?.(pid),
      onMalformed: (line, reason) => {
        // Every one is counted (stats, metrics); the log gets the first few and then every 1000th.
        const n = this.#parser.malformed;
        if (n <= 10 || n % 1000 === 0) this.#log.warn({ line: line.slice(0, 200), reason, malformedSoFar: n }, "malformed probe line skipped");
      },
    });
    this.#splitter = new LineSplitter((text, start, end) => {
      this.#s.linesRead++;
      this.#parser.parseRange(text, start, end);
    });
  }

  feedLine(line: string): void {
    this.#s.linesRead++;
    this.#parser.parse(line);
  }

  /** In-thread the chunk is parsed at once: never asks the reader to pause. */
  feedChunk(chunk: Uint8Array): boolean {
    this.#splitter.push(chunk);
    // A backlog of chunks can be handed over in one turn (a worker drains its
    // whole message queue before its timers run): release on time meanwhile,
    // or every event of the backlog would sit in the reorder buffer at once.
    if (this.#timer !== undefined && performance.now() - this.#tickedAt >= this.#settings.tickMs) this.#tick(true);
    return true;
  }

  endOfStream(): void {
    this.#splitter.end();
  }

  noteCrash(reason: string): void {
    this.#pendingCrash ??= { reason, sinceNs: this.#maxSeenTs };
  }

  reportDropped(count: number, firstTsNs: KernelNs, lastTsNs: KernelNs): void {
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
      this.#pushGap(moved);
      return;
    }
    const ev = gap(lastTsNs > this.#maxSeenTs ? lastTsNs : this.#maxSeenTs, firstTsNs, count, "publish queue full: events dropped");
    this.#pendingDropGap = ev;
    this.#pushGap(ev);
  }

  #pushGap(ev: ParsedEvent): void {
    this.#gapsBuffered++;
    this.#reorder.push(ev);
  }

  startClock(): void {
    this.#wallMinusKernelUs = Date.now() * 1000 - kernelUs(monotonicNs() + this.#kernelMinusMono);
    this.#timer ??= setInterval(() => this.tick(), this.#settings.tickMs);
    this.#timer.unref?.();
  }

  tick(): void {
    this.#tick(false);
  }

  #tick(inBacklog: boolean): void {
    this.#tickedAt = performance.now();
    const windowNs = this.#settings.windowNs;
    const nowKernel = monotonicNs() + this.#kernelMinusMono;
    // From the timer the input has been drained, so the clock bounds what can
    // still arrive. Inside a backlog it does not: chunks queued behind this one
    // hold events older than "now - window" when the reader is behind, and
    // releasing by the clock would emit them late, out of order. There only the
    // data seen so far bounds the release (per-CPU runs interleave within the window).
    const upTo = inBacklog || this.#maxSeenTs > nowKernel ? this.#maxSeenTs : nowKernel;
    const watermark = this.#heldWatermark(upTo - windowNs);
    this.#release(watermark);
    // While bpftrace restarts the clock bounds nothing (it reads nothing): the horizon stays where its last events left it.
    if (this.#begun && this.#pendingCrash === undefined && this.#gapsBuffered === 0 && watermark > this.#horizonNs) {
      this.#horizonNs = watermark;
      this.#horizonSeq = this.#seq;
    }
    const now = Date.now();
    if (now - this.#lastPrune > 1000) {
      this.#lastPrune = now;
      const lingerNs = this.#settings.lingerNs;
      this.#sockets.prune(this.#maxSeenTs - lingerNs);
      // Owners are copied onto their socket when first found; records only need
      // to outlive the reorder window (plus slack) to be found.
      const ownerSlack = 2n * windowNs + 1_000_000_000n;
      this.#owners.prune(this.#maxSeenTs - (lingerNs < ownerSlack ? lingerNs : ownerSlack), (s) => this.#sockets.isAlive(s) && !this.#sockets.get(s)?.owner);
    }
  }

  /** Release everything, stop the clock; a resolver made here is closed. */
  async stop(): Promise<void> {
    this.stopSync();
  }

  /** stop(), for a caller that must finish in the same turn (the worker before it answers). */
  stopSync(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#release(null);
    // Only the resolver made here is ours to close; a caller's may be shared.
    if (this.#ownPods) this.#pods.close?.();
  }

  stats(): PipelineStats {
    return {
      ...this.#s,
      malformedLines: this.#parser.malformed,
      lateEvents: this.#reorder.late,
      reordered: this.#reorder.reordered,
      liveSockets: this.#sockets.size,
    };
  }

  horizon(): ReleasedHorizon | undefined {
    if (!this.#begun || this.#pendingCrash !== undefined || this.#gapsBuffered > 0 || this.#horizonNs === 0n) return undefined;
    return { tsNs: this.#horizonNs, timeUs: Math.floor(kernelUs(this.#horizonNs) + this.#wallMinusKernelUs), seq: this.#horizonSeq };
  }

  #onEvent(ev: ParsedEvent): void {
    this.#s.eventsRead++;
    if (ev.tsNs > this.#maxSeenTs) this.#maxSeenTs = ev.tsNs;
    this.#rate.note(ev.tsNs);
    if (ev.process && PROCESS_CONTEXT.has(ev.kind)) {
      this.#owners.note(ev.sock, ev.tsNs, ev.process);
      // Its container, learned now while the process surely lives (once per
      // process, then a lookup); a container the runtime has not listed yet
      // holds the release like a new pod does.
      const pid = ev.process.pid;
      if (pid != null && this.#pods.noteProcess?.(pid) === true) this.#hold(ev.tsNs);
    }
    // A namespace nobody has named yet (a pod that just started): the
    // resolver asks the runtime now, as the event arrives, not as it leaves
    // the reorder buffer, and the release waits for the answer (bounded) so
    // that the pod's first events are not published unnamed.
    const netns = ev.netns;
    if (netns && this.#pods.prefetch !== undefined && this.#pods.prefetch(netns)) this.#hold(ev.tsNs);
    this.#reorder.push(ev);
  }

  #hold(tsNs: KernelNs): void {
    if (this.#holdFromNs === undefined || tsNs < this.#holdFromNs) this.#holdFromNs = tsNs;
    this.#holdUntilMs ??= Date.now() + DEFAULT_NEW_POD_HOLD_MS;
  }

  /** The release watermark, lowered to just before the first held event while the resolver is still asking. */
  #heldWatermark(watermarkNs: KernelNs): KernelNs {
    const from = this.#holdFromNs;
    if (from === undefined) return watermarkNs;
    if (this.#pods.pending?.() === true && Date.now() < this.#holdUntilMs!) return watermarkNs < from ? watermarkNs : from - 1n;
    this.#holdFromNs = undefined;
    this.#holdUntilMs = undefined;
    return watermarkNs;
  }

  #onLost(n: number): void {
    this.#s.kernelLost += n;
    this.#log.warn({ lost: n }, "bpftrace lost events in the perf buffer");
    this.#pushGap(gap(this.#maxSeenTs, this.#maxSeenTs, n, "kernel perf buffer overflow"));
  }

  #begin(tsNs: KernelNs): void {
    const delta = tsNs - monotonicNs();
    // The kernel clock bpftrace uses (boot time) never runs behind the monotonic clock; a
    // negative delta is only the pipe's latency.
    this.#kernelMinusMono = delta > 0n ? delta : 0n;
    this.#wallMinusKernelUs = Date.now() * 1000 - kernelUs(tsNs);
    if (tsNs > this.#maxSeenTs) this.#maxSeenTs = tsNs;
    this.#begun = true;
    if (this.#pendingCrash) {
      const { reason, sinceNs } = this.#pendingCrash;
      this.#pendingCrash = undefined;
      // The span is real (last event read → this BEGIN); what it hid was never counted: lost stays 0, the estimate says how much.
      const ev = gap(tsNs, sinceNs, 0, reason);
      const estimate = sinceNs > 0n ? this.#rate.estimate(sinceNs, tsNs) : null;
      if (estimate !== null) ev.estimatedLost = estimate;
      this.#pushGap(ev);
    }
    this.#onBegin?.(tsNs);
  }

  /** Release every buffered event up to `watermarkNs` (all of them with null). */
  #release(watermarkNs: KernelNs | null): void {
    const out: ConnEventInit[] = [];
    const filter = this.#settings.podFilter;
    this.#reorder.drain(watermarkNs, (ev) => {
      if (ev.kind === EventKind.EVENT_KIND_GAP) {
        this.#gapsBuffered--;
        if (this.#retiredGaps.has(ev)) return;
      }
      this.#enrich(ev);
      // Another pod's socket: dropped after attribution (the pod is known only
      // then) and before its seq, so the seqs this agent publishes stay
      // gapless and nothing downstream takes the filtered events for lost.
      // GAPs always pass: a hole in the probe's output is every pod's.
      if (filter !== undefined && ev.kind !== EventKind.EVENT_KIND_GAP && !filter.matches(ev.pod ?? "")) {
        this.#s.eventsFiltered++;
        if (this.#reuseEvents) this.#parser.recycle(ev);
        return;
      }
      ev.seq = ++this.#seq;
      ev.timeUs = Math.floor(kernelUs(ev.tsNs) + this.#wallMinusKernelUs);
      out.push(ev);
    });
    if (out.length > 0) {
      this.#s.eventsReleased += out.length;
      this.#sink(out);
      if (this.#reuseEvents) {
        // GAPs stay: a pending drop GAP is still looked at after its release.
        for (let i = 0; i < out.length; i++) if (out[i]!.kind !== EventKind.EVENT_KIND_GAP) this.#parser.recycle(out[i] as ParsedEvent);
      }
    }
  }

  #enrich(ev: ParsedEvent): void {
    if (ev.kind === EventKind.EVENT_KIND_GAP) return;
    const table = this.#sockets;
    const info = ev.kind === EventKind.EVENT_KIND_STATE_CHANGE ? table.onState(ev, ev.hasTuple) : ev.sock ? table.get(ev.sock) : undefined;
    if (info === undefined) {
      if (ev.sock) this.#s.unattributed++;
      if (ev.netns) {
        ev.pod = this.#pods.resolve(ev.netns);
        ev.podLabels = ev.pod !== "" ? this.#pods.labels?.(ev.netns) : undefined;
      }
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
    // A reference to the pod's one labels object: the batch lists it once (EventBatch.pods).
    ev.podLabels = ev.pod !== "" ? this.#pods.labels?.(info.netns) : undefined;
    ev.uid = info.uid;
    // Found once per socket, then kept on it: the owner table can forget old records.
    info.owner ??= this.#owners.lookup(ev.sock, info.birthTsNs);
    if (info.owner) {
      ev.owner = info.owner;
      // A proxy in the sidecar's container under another UID: its sockets are
      // the sidecar's too. Asked until yes (a container listed by a later
      // resync still turns the socket's next events).
      const pid = info.owner.pid;
      if (!info.sidecarProcess && pid != null && this.#pods.isSidecarProcess?.(pid) === true) table.markSidecarProcess(info);
    }
    ev.role = info.mesh.role;
    ev.leg = info.mesh.leg;
  }
}

function gap(tsNs: KernelNs, startNs: KernelNs, lost: number, reason: string): ParsedEvent {
  const ev = blankEvent(EventKind.EVENT_KIND_GAP, tsNs, "", false);
  ev.gapStartNs = startNs;
  ev.lost = lost;
  ev.gapReason = reason;
  return ev;
}
