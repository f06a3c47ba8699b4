// Parses tcptrail.bt's line grammar (probes/README.md) into connection events.
// It sits on the hottest path of the agent (hundreds of thousands of lines a
// second), so it finds the fields of a line in place (no split(), no
// substring for a number), takes repeated strings (socket addresses, process
// names, addresses) and processes from intern tables instead of cutting them
// out of each line, reuses the event objects its owner hands back
// (recycle()), and never throws: a line it cannot read is counted and handed
// to onMalformed.
//
// One line can stand for several events: the probe folds what it can into
// the line that names a socket (its opening into connect/accept, a close()
// and the FIN it sends into one line, a received RST and the ->CLOSE it
// causes), and the parser hands those on as the events the stitcher knows,
// each a nanosecond before the next so that their order survives reordering.
import { TCP_ESTABLISHED, openingChain } from "./folded-states.js";
import { StringInterner } from "./string-interner.js";
import { EventKind, parseKernelNs, resetReasonFromKernel, type ConnEventInit, type Endpoint, type KernelNs, type Process } from "../model/mod.js";

export interface LineParserHandlers {
  /** A kernel event, with the fields the line carries (tuple only on first sighting). */
  onEvent(event: ParsedEvent): void;
  /** bpftrace reported lost perf events. */
  onLost?(count: number): void;
  /** The program started; ts is the kernel clock at BEGIN. */
  onBegin?(tsNs: KernelNs): void;
  /** A process the probe named in process context exited (its pid may be reused from now on). */
  onProcessExit?(pid: number, tsNs: KernelNs): void;
  onMalformed?(line: string, reason: string): void;
}

/** A parsed event: a ConnEventInit plus what the agent needs to enrich it. */
export interface ParsedEvent extends ConnEventInit {
  kind: EventKind;
  tsNs: KernelNs;
  sock: string;
  /** True when the line carried the socket's own tuple (O, R, r). */
  hasTuple: boolean;
}

/**
 * Field positions of the line being parsed, reused for every line: no split()
 * array and no substring per field, only for the fields that become strings.
 * Only the first FIELDS fields are located (the widest fixed layout, C, has
 * 21 before its comm); `count` is every field, as split(" ") would count them.
 */
const FIELDS = 22;

/** Events handed back and not reused yet, at most: a burst must not leave a pool that never shrinks. */
export const DEFAULT_EVENT_POOL_SIZE = 65_536;

class Fields {
  text = "";
  count = 0;
  lineStart = 0;
  lineEnd = 0;
  readonly starts = new Int32Array(FIELDS);
  readonly ends = new Int32Array(FIELDS);
  readonly socks = new StringInterner();
  readonly words = new StringInterner();
  readonly processes = new Map<number, Process>();
  /** Events handed back by the parser's owner (recycle), reused before new ones are made. */
  readonly pool: ParsedEvent[] = [];

  /** An event with every field unset but these: reused from the pool when it has one. */
  event(kind: EventKind, tsNs: KernelNs, sockHex: string, hasTuple: boolean): ParsedEvent {
    const ev = this.pool.pop();
    return ev === undefined ? blankEvent(kind, tsNs, sockHex, hasTuple) : resetEvent(ev, kind, tsNs, sockHex, hasTuple);
  }

  /** Locate the fields of text[start, end), separated by single spaces (empty fields count, as in split). */
  scan(text: string, start: number, end: number): void {
    this.text = text;
    this.lineStart = start;
    this.lineEnd = end;
    const starts = this.starts;
    const ends = this.ends;
    let n = 0;
    let from = start;
    for (let i = start; i < end; i++) {
      if (text.charCodeAt(i) !== 32) continue;
      if (n < FIELDS) {
        starts[n] = from;
        ends[n] = i;
      }
      n++;
      from = i + 1;
    }
    if (n < FIELDS) {
      starts[n] = from;
      ends[n] = end;
    }
    this.count = n + 1;
  }

  str(i: number): string | undefined {
    return i < this.count ? this.text.slice(this.starts[i], this.ends[i]) : undefined;
  }

  /** The field is exactly `s`. */
  is(i: number, s: string): boolean {
    if (i >= this.count) return false;
    const a = this.starts[i] as number;
    return (this.ends[i] as number) - a === s.length && this.text.startsWith(s, a);
  }
}

export class LineParser {
  readonly #h: LineParserHandlers;
  readonly #f = new Fields();
  // Events a line stands for before its own (reused: most lines have none).
  readonly #out: ParsedEvent[] = [];
  #malformed = 0;
  #lines = 0;

  constructor(handlers: LineParserHandlers) {
    this.#h = handlers;
  }

  get malformed(): number {
    return this.#malformed;
  }

  get lines(): number {
    return this.#lines;
  }

  /**
   * Hand an event back once nothing refers to it any more (it was released
   * and encoded): the next lines reuse it instead of making new objects. Its
   * sub-objects (endpoints, processes) are shared, never changed, so they
   * stay valid wherever they were copied to.
   */
  recycle(ev: ParsedEvent): void {
    const pool = this.#f.pool;
    if (pool.length < DEFAULT_EVENT_POOL_SIZE) pool.push(ev);
  }

  /** Parse one line (without its newline). */
  parse(line: string): void {
    this.parseRange(line, 0, line.length);
  }

  /**
   * Parse the line text[start, end) (without its newline): a whole chunk of
   * bpftrace output is decoded once and its lines parsed where they lie.
   */
  parseRange(text: string, start: number, end: number): void {
    if (end <= start) return;
    this.#lines++;
    const f = this.#f;
    f.scan(text, start, end);
    const n = f.count;
    const out = this.#out;
    out.length = 0;
    let ev: ParsedEvent | undefined;
    // One-letter tags are told apart by their char code, without a substring.
    const tag = f.ends[0]! - f.starts[0]! === 1 ? text.charCodeAt(start) : -1;
    switch (tag) {
      case 79: // O
        ev = n === 15 ? stateOpen(f, out) : undefined;
        break;
      case 83: // S
        ev = n === 5 ? stateNext(f) : undefined;
        break;
      case 69: // E
        ev = n === 5 ? stateEnd(f) : undefined;
        break;
      case 89: // Y
        ev = n >= 10 ? closeTransition(f, out) : undefined;
        break;
      case 82: // R
        ev = n === 11 ? resetSent(f) : undefined;
        break;
      case 114: // r
        ev = n === 15 ? resetReceived(f, out) : undefined;
        break;
      case 75: // K
        ev = n === 4 ? retransmit(f) : undefined;
        break;
      case 67: // C
        ev = n >= 22 ? connect(f, out) : undefined;
        break;
      case 65: // A
        ev = n >= 18 ? accept(f, out) : undefined;
        break;
      case 88: // X
        ev = n >= 7 ? simpleSyscall(f, EventKind.EVENT_KIND_SYSCALL_CLOSE, 6) : undefined;
        break;
      case 72: // H
        ev = n >= 8 ? shutdown(f) : undefined;
        break;
      case 68: // D
        ev = n >= 10 ? originalDst(f) : undefined;
        break;
      case 76: // L
        ev = n >= 8 ? socketLink(f) : undefined;
        break;
      case 80: {
        // P: a process exit, not a connection event
        const ts = ts64(f, 1);
        const pid = num(f, 2);
        if (n === 3 && ts >= 0n && pid >= 0) {
          this.#h.onProcessExit?.(pid, ts);
          return;
        }
        break;
      }
      case 66: {
        // B
        const ts = ts64(f, 1);
        if (n === 2 && ts >= 0n) {
          this.#h.onBegin?.(ts);
          return;
        }
        break;
      }
      default:
        if (f.is(0, "Lost")) {
          // "Lost 123 events"
          const lost = num(f, 1);
          if (lost >= 0 && f.is(2, "events")) {
            this.#h.onLost?.(lost);
            return;
          }
        } else if (f.is(0, "Attaching")) {
          return;
        }
    }
    if (ev === undefined || !valid(ev) || !out.every(valid)) {
      this.#malformed++;
      this.#h.onMalformed?.(text.slice(start, end), ev === undefined ? `unknown or short line (tag ${JSON.stringify(f.str(0))})` : "bad number or address");
      return;
    }
    // Events folded into the line come first, in the order they happened.
    for (let i = 0; i < out.length; i++) this.#h.onEvent(out[i]!);
    this.#h.onEvent(ev);
  }
}

/**
 * Every event starts from the same shape, with every field present (unset
 * ones undefined, which the encoder skips): V8 then keeps one hidden class
 * for all events, and the agent's enrichment never reshapes an object.
 */
export function blankEvent(kind: EventKind, tsNs: KernelNs, sockHex: string, hasTuple: boolean): ParsedEvent {
  return {
    seq: undefined,
    kind,
    tsNs,
    timeUs: undefined,
    sock: sockHex,
    netns: undefined,
    pod: undefined,
    family: undefined,
    local: undefined,
    remote: undefined,
    oldState: undefined,
    newState: undefined,
    resetReason: undefined,
    uid: undefined,
    process: undefined,
    owner: undefined,
    role: undefined,
    leg: undefined,
    ret: undefined,
    target: undefined,
    shutdownHow: undefined,
    fd: undefined,
    lost: undefined,
    gapReason: undefined,
    gapStartNs: undefined,
    linkedSock: undefined,
    linkSources: undefined,
    podLabels: undefined,
    hasTuple,
  };
}

/** blankEvent(), in an event made before: every field set again, in the same order (the same hidden class). */
function resetEvent(ev: ParsedEvent, kind: EventKind, tsNs: KernelNs, sockHex: string, hasTuple: boolean): ParsedEvent {
  ev.seq = undefined;
  ev.kind = kind;
  ev.tsNs = tsNs;
  ev.timeUs = undefined;
  ev.sock = sockHex;
  ev.netns = undefined;
  ev.pod = undefined;
  ev.family = undefined;
  ev.local = undefined;
  ev.remote = undefined;
  ev.oldState = undefined;
  ev.newState = undefined;
  ev.resetReason = undefined;
  ev.uid = undefined;
  ev.process = undefined;
  ev.owner = undefined;
  ev.role = undefined;
  ev.leg = undefined;
  ev.ret = undefined;
  ev.target = undefined;
  ev.shutdownHow = undefined;
  ev.fd = undefined;
  ev.lost = undefined;
  ev.gapReason = undefined;
  ev.gapStartNs = undefined;
  ev.linkedSock = undefined;
  ev.linkSources = undefined;
  ev.podLabels = undefined;
  ev.hasTuple = hasTuple;
  return ev;
}

/**
 * Digits of text[a, b) as a number, when they are 1 to 15 plain decimal
 * digits (below 2^53, so exact); -1 otherwise, and the caller falls back to
 * the general rule on the substring. The common case costs no string.
 */
function shortDecimal(text: string, a: number, b: number): number {
  if (b - a > 15 || b === a) return -1;
  let v = 0;
  for (let i = a; i < b; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The ts field, exact: kernel ns pass 2^53 after 104 days of uptime, where
 * Number() would round them. -1n (counted malformed) when it is not an
 * unsigned decimal that fits a u64.
 */
function ts64(f: Fields, i: number): KernelNs {
  if (i >= f.count) return -1n;
  const v = shortDecimal(f.text, f.starts[i]!, f.ends[i]!);
  if (v >= 0) return BigInt(v);
  return parseKernelNs(f.str(i)) ?? -1n;
}

/** Decimal field as a number, or -1 when it is not a plain unsigned integer. */
function num(f: Fields, i: number): number {
  if (i >= f.count) return -1;
  const a = f.starts[i]!;
  const b = f.ends[i]!;
  const v = shortDecimal(f.text, a, b);
  if (v >= 0) return v;
  return longDecimal(f.text, a, b);
}

/**
 * 16-20 plain decimal digits, -1 otherwise: the probe prints only digits, so
 * "1e3", "0x1", "+1", "1.0" or "-0" are not numbers (Number() read them), and
 * a value past 2^53 would be rounded, so it is malformed rather than wrong
 * (found by fuzzing).
 */
function longDecimal(text: string, a: number, b: number): number {
  if (b - a < 16 || b - a > 20) return -1;
  for (let i = a; i < b; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
  }
  const n = Number(text.slice(a, b));
  return n <= Number.MAX_SAFE_INTEGER ? n : -1;
}

/** Signed decimal (syscall return values), NaN when malformed. */
function int(f: Fields, i: number): number {
  if (i >= f.count) return NaN;
  const a = f.starts[i]!;
  const b = f.ends[i]!;
  if (b === a) return NaN;
  const neg = f.text.charCodeAt(a) === 45; // "-"
  const v = shortDecimal(f.text, neg ? a + 1 : a, b);
  if (v >= 0) return neg ? -v : v;
  const long = longDecimal(f.text, neg ? a + 1 : a, b);
  return long >= 0 ? (neg ? -long : long) : NaN;
}

/** Socket address: 1-16 lowercase hex digits; "0" (no socket) is ""; "!" (malformed) otherwise. */
function sock(f: Fields, i: number): string {
  if (i >= f.count) return "!";
  const text = f.text;
  const a = f.starts[i]!;
  const b = f.ends[i]!;
  if (b === a || b - a > 16) return "!";
  for (let k = a; k < b; k++) {
    const c = text.charCodeAt(k);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return "!";
  }
  return b - a === 1 && text.charCodeAt(a) === 48 ? "" : f.socks.intern(text, a, b);
}

function valid(ev: ParsedEvent): boolean {
  if (ev.tsNs < 0n || ev.sock === "!") return false;
  if (ev.local && (ev.local.ip === "" || (ev.local.port ?? -1) < 0 || (ev.local.port ?? 0) > 65535)) return false;
  if (ev.remote && (ev.remote.ip === "" || (ev.remote.port ?? -1) < 0 || (ev.remote.port ?? 0) > 65535)) return false;
  if (ev.target && (ev.target.ip === "" || (ev.target.port ?? -1) < 0 || (ev.target.port ?? 0) > 65535)) return false;
  if (ev.process && ((ev.process.pid ?? -1) < 0 || (ev.process.tid ?? -1) < 0)) return false;
  if ((ev.netns ?? 0) < 0 || (ev.uid ?? 0) < 0 || (ev.oldState ?? 0) < 0 || (ev.newState ?? 0) < 0) return false;
  if ((ev.family ?? 0) < 0 || (ev.resetReason ?? 0) < 0 || (ev.shutdownHow ?? 0) < 0) return false;
  if (Number.isNaN(ev.ret ?? 0)) return false;
  if ((ev.fd ?? 0) < 0) return false;
  // A link names a socket other than its own: "0" or a malformed address is no link.
  if (ev.linkedSock !== undefined && (ev.sock === "" || ev.linkedSock === "" || ev.linkedSock === "!" || ev.linkedSock === ev.sock)) return false;
  if ((ev.linkSources ?? 0) < 0) return false;
  return true;
}

function family(f: Fields, i: number): number {
  if (i >= f.count || f.ends[i]! - f.starts[i]! !== 1) return -1;
  const c = f.text.charCodeAt(f.starts[i]!);
  return c === 52 ? 4 : c === 54 ? 6 : -1;
}

const V4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const V6_FULL = /^[0-9a-f]{4}(:[0-9a-f]{4}){7}$/;

/**
 * Textual address as users write it: IPv4-mapped IPv6 becomes IPv4 (so a
 * dual-stack socket matches its IPv4 peer), full hex IPv6 is compressed.
 * "" when the text is not an address.
 */
export function normalizeIp(s: string | undefined): string {
  if (s === undefined) return "";
  if (V4.test(s)) return s;
  if (s.startsWith("::ffff:") && V4.test(s.slice(7))) return s.slice(7);
  if (V6_FULL.test(s)) return compressV6(s);
  if (s.includes(":") && /^[0-9a-f:.]+$/.test(s)) return s;
  return "";
}

function compressV6(full: string): string {
  if (full.startsWith("0000:0000:0000:0000:0000:ffff:")) {
    const h = full.slice(30).replace(":", "");
    const b = [0, 2, 4, 6].map((i) => parseInt(h.slice(i, i + 2), 16));
    return b.join(".");
  }
  // URL's host parser prints the canonical (RFC 5952) form.
  return new URL(`http://[${full}]/`).hostname.slice(1, -1);
}

/** Dotted quad of 1-3 digit groups in text[a, b): what V4 matches, without a substring. */
function isV4(text: string, a: number, b: number): boolean {
  let dots = 0;
  let digits = 0;
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return false;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return false;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

function endpoint(f: Fields, ipAt: number, portAt: number): Endpoint {
  let ip = "";
  if (ipAt < f.count) {
    const a = f.starts[ipAt]!;
    const b = f.ends[ipAt]!;
    // IPv4 as printed needs no normalizing: the common case skips the regexes.
    ip = isV4(f.text, a, b) ? f.words.intern(f.text, a, b) : normalizeIp(f.text.slice(a, b));
  }
  return { ip, port: num(f, portAt) };
}

/**
 * The first printed transition of a socket not announced by connect/accept:
 * its folded opening (from the state mask) comes first, carrying the tuple.
 */
function stateOpen(f: Fields, out: ParsedEvent[]): ParsedEvent {
  const ev = f.event(EventKind.EVENT_KIND_STATE_CHANGE, ts64(f, 1), sock(f, 2), true);
  ev.oldState = num(f, 3);
  ev.newState = num(f, 4);
  ev.family = family(f, 5);
  ev.local = endpoint(f, 6, 7);
  ev.remote = endpoint(f, 8, 9);
  ev.netns = num(f, 10);
  ev.uid = num(f, 11);
  const bits = num(f, 12);
  const born = ts64(f, 13);
  const est = ts64(f, 14);
  if (bits < 0 || born < 0n || est < 0n) return withBadNumber(ev);
  replayOpening(f, out, ev, bits, ev.oldState, born, est);
  if (out.length > 0) {
    // The tuple belongs to the birth; the line's own transition is a later one.
    ev.hasTuple = false;
    ev.family = undefined;
    ev.local = undefined;
    ev.remote = undefined;
    ev.netns = undefined;
    ev.uid = undefined;
  }
  return ev;
}

/**
 * Push the state changes of a folded opening (births first) onto out, ending
 * in state `now`, before `line`; the first carries line's tuple. The birth
 * and the ->ESTABLISHED keep the times the probe noted (`born`, `est`: the
 * stitcher pairs a dialer with its accepted peer by their births); a time
 * missing (0) or out of order becomes a nanosecond before the next event.
 */
function replayOpening(f: Fields, out: ParsedEvent[], line: ParsedEvent, bits: number, now: number, born: KernelNs, est: KernelNs): void {
  const chain = openingChain(bits, now);
  const n = chain.length - 1;
  let prev = -1n;
  for (let i = 0; i < n; i++) {
    // Latest time that still leaves a nanosecond for each later event of the line.
    const latest = line.tsNs - BigInt(n - i);
    const noted = i === 0 ? born : chain[i + 1] === TCP_ESTABLISHED ? est : 0n;
    const at = noted > 0n && noted > prev && noted <= latest ? noted : latest;
    prev = at;
    const ev = f.event(EventKind.EVENT_KIND_STATE_CHANGE, at, line.sock, i === 0);
    ev.oldState = chain[i];
    ev.newState = chain[i + 1];
    if (i === 0) {
      ev.family = line.family;
      ev.local = line.local;
      ev.remote = line.remote;
      ev.netns = line.netns;
      ev.uid = line.uid;
    }
    out.push(ev);
  }
}

/** A numeric field that must not be negative was: mark the event so valid() rejects it. */
function withBadNumber(ev: ParsedEvent): ParsedEvent {
  ev.netns = -1;
  return ev;
}

/** ->CLOSE of an announced socket, with the mask of the states it went through. */
function stateEnd(f: Fields): ParsedEvent {
  const ev = f.event(EventKind.EVENT_KIND_STATE_CHANGE, ts64(f, 1), sock(f, 2), false);
  ev.oldState = num(f, 3);
  ev.newState = 7;
  return num(f, 4) < 0 ? withBadNumber(ev) : ev;
}

/** A transition close() caused, in the closer's context: the close, then the transition. */
function closeTransition(f: Fields, out: ParsedEvent[]): ParsedEvent {
  const ts = ts64(f, 1);
  const close = f.event(EventKind.EVENT_KIND_SYSCALL_CLOSE, ts - 1n, sock(f, 2), false);
  close.process = processOf(f, 6, 9);
  close.fd = num(f, 8);
  out.push(close);
  const ev = f.event(EventKind.EVENT_KIND_STATE_CHANGE, ts, close.sock, false);
  ev.oldState = num(f, 3);
  ev.newState = num(f, 4);
  return num(f, 5) < 0 ? withBadNumber(ev) : ev;
}

function stateNext(f: Fields): ParsedEvent {
  const ev = f.event(EventKind.EVENT_KIND_STATE_CHANGE, ts64(f, 1), sock(f, 2), false);
  ev.oldState = num(f, 3);
  ev.newState = num(f, 4);
  return ev;
}

function resetSent(f: Fields): ParsedEvent {
  const ev = f.event(EventKind.EVENT_KIND_RESET_SENT, ts64(f, 1), sock(f, 2), true);
  const reason = num(f, 4);
  ev.oldState = num(f, 3);
  ev.resetReason = reason < 0 ? -1 : resetReasonFromKernel(reason);
  ev.family = family(f, 5);
  ev.local = endpoint(f, 6, 7);
  ev.remote = endpoint(f, 8, 9);
  ev.netns = num(f, 10);
  return ev;
}

/**
 * A received RST and the ->CLOSE it always causes (folded into the line);
 * when the line also announces the socket (opens = 1: a connect() refused
 * inside the syscall), its folded opening comes first, carrying the tuple.
 */
function resetReceived(f: Fields, out: ParsedEvent[]): ParsedEvent {
  const ts = ts64(f, 1);
  const from = num(f, 10);
  const bits = num(f, 11);
  const opens = num(f, 12);
  const born = ts64(f, 13);
  const est = ts64(f, 14);
  const rst = f.event(EventKind.EVENT_KIND_RESET_RECEIVED, ts - 1n, sock(f, 2), true);
  rst.family = family(f, 3);
  rst.local = endpoint(f, 4, 5);
  rst.remote = endpoint(f, 6, 7);
  rst.netns = num(f, 8);
  const uid = num(f, 9);
  const ev = f.event(EventKind.EVENT_KIND_STATE_CHANGE, ts, rst.sock, false);
  ev.oldState = from;
  ev.newState = 7;
  if (from < 0 || bits < 0 || uid < 0 || born < 0n || est < 0n || (opens !== 0 && opens !== 1)) return withBadNumber(ev);
  if (opens === 1) {
    const tuple = f.event(EventKind.EVENT_KIND_STATE_CHANGE, rst.tsNs, rst.sock, true);
    tuple.family = rst.family;
    tuple.local = rst.local;
    tuple.remote = rst.remote;
    tuple.netns = rst.netns;
    tuple.uid = uid;
    // Replayed from the reset's instant: the births end a nanosecond before it.
    replayOpening(f, out, tuple, bits, from, born, est);
    f.pool.push(tuple); // only carried the tuple: nothing refers to it
  }
  out.push(rst);
  return ev;
}

function retransmit(f: Fields): ParsedEvent {
  const ev = f.event(EventKind.EVENT_KIND_RETRANSMIT, ts64(f, 1), sock(f, 2), false);
  ev.oldState = num(f, 3);
  return ev;
}

/** comm is everything from field `from` on (it may contain spaces). */
function comm(f: Fields, from: number): string {
  return f.words.intern(f.text, f.starts[from]!, f.lineEnd);
}

/**
 * The process of a syscall line, the same object for the same thread while
 * its pid and name stay: processes are shared by every event (and socket
 * owner) that names them, never changed.
 */
function processOf(f: Fields, pidAt: number, commAt: number): Process {
  const pid = num(f, pidAt);
  const tid = num(f, pidAt + 1);
  const name = comm(f, commAt);
  const known = f.processes.get(tid);
  if (known !== undefined && known.pid === pid && known.comm === name) return known;
  const p: Process = { pid, tid, comm: name };
  // Bounded like the interners: threads come and go.
  if (f.processes.size >= DEFAULT_EVENT_POOL_SIZE) f.processes.clear();
  f.processes.set(tid, p);
  return p;
}

/**
 * The socket's state and tuple as a syscall returned, for a line that
 * announces it (bits != 0): its folded opening is replayed before the syscall.
 */
function announce(f: Fields, out: ParsedEvent[], line: ParsedEvent, stateAt: number): boolean {
  const state = num(f, stateAt);
  const bits = num(f, stateAt + 1);
  const born = ts64(f, stateAt + 2);
  const est = ts64(f, stateAt + 3);
  if (state < 0 || bits < 0 || born < 0n || est < 0n) return false;
  if (bits === 0) return true;
  const at = stateAt + 4;
  const tuple = f.event(EventKind.EVENT_KIND_STATE_CHANGE, line.tsNs, line.sock, true);
  tuple.family = family(f, at);
  tuple.local = endpoint(f, at + 1, at + 2);
  tuple.remote = endpoint(f, at + 3, at + 4);
  tuple.netns = num(f, at + 5);
  tuple.uid = num(f, at + 6);
  const ok = valid(tuple);
  if (ok) replayOpening(f, out, tuple, bits, state, born, est);
  f.pool.push(tuple); // only carried the tuple: nothing refers to it
  return ok;
}

function connect(f: Fields, out: ParsedEvent[]): ParsedEvent {
  const ev = f.event(EventKind.EVENT_KIND_SYSCALL_CONNECT, ts64(f, 1), sock(f, 2), false);
  ev.process = processOf(f, 3, 21);
  ev.ret = int(f, 5);
  ev.fd = num(f, 6);
  ev.family = family(f, 7);
  ev.target = endpoint(f, 8, 9);
  return announce(f, out, ev, 10) ? ev : withBadNumber(ev);
}

function accept(f: Fields, out: ParsedEvent[]): ParsedEvent {
  const ev = simpleSyscall(f, EventKind.EVENT_KIND_SYSCALL_ACCEPT, 17);
  return announce(f, out, ev, 6) ? ev : withBadNumber(ev);
}

function simpleSyscall(f: Fields, kind: EventKind, commAt: number): ParsedEvent {
  const ev = f.event(kind, ts64(f, 1), sock(f, 2), false);
  ev.process = processOf(f, 3, commAt);
  ev.fd = num(f, 5);
  return ev;
}

function shutdown(f: Fields): ParsedEvent {
  const ev = simpleSyscall(f, EventKind.EVENT_KIND_SYSCALL_SHUTDOWN, 7);
  ev.shutdownHow = num(f, 6);
  return ev;
}

function originalDst(f: Fields): ParsedEvent {
  const ev = f.event(EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST, ts64(f, 1), sock(f, 2), false);
  ev.process = processOf(f, 3, 9);
  ev.fd = num(f, 5);
  ev.family = family(f, 6);
  ev.target = endpoint(f, 7, 8);
  return ev;
}

/**
 * A sidecar thread sent on sk data it read from `linked` (L): process context,
 * so the thread is the process; printed only when sk's source changed.
 */
function socketLink(f: Fields): ParsedEvent {
  const ev = f.event(EventKind.EVENT_KIND_SOCKET_LINK, ts64(f, 1), sock(f, 2), false);
  ev.linkedSock = sock(f, 3);
  ev.process = processOf(f, 4, 7);
  ev.linkSources = num(f, 6);
  return ev;
}
