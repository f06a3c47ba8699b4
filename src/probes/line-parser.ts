// Parses tcptrail.bt's line grammar (probes/README.md) into connection events.
// It sits on the hottest path of the agent (hundreds of thousands of lines a
// second), so it splits once, allocates one event object per line, and never
// throws: a line it cannot read is counted and handed to onMalformed.
import { EventKind, parseKernelNs, resetReasonFromKernel, type ConnEventInit, type Endpoint, type KernelNs } from "../model/mod.js";

export interface LineParserHandlers {
  /** A kernel event, with the fields the line carries (tuple only on first sighting). */
  onEvent(event: ParsedEvent): void;
  /** bpftrace reported lost perf events. */
  onLost?(count: number): void;
  /** The program started; ts is the kernel clock at BEGIN. */
  onBegin?(tsNs: KernelNs): void;
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

export class LineParser {
  readonly #h: LineParserHandlers;
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

  /** Parse one line (without its newline). */
  parse(line: string): void {
    if (line.length === 0) return;
    this.#lines++;
    const f = line.split(" ");
    const tag = f[0];
    let ev: ParsedEvent | undefined;
    switch (tag) {
      case "O":
        ev = f.length === 12 ? stateOpen(f) : undefined;
        break;
      case "S":
        ev = f.length === 5 ? stateNext(f) : undefined;
        break;
      case "R":
        ev = f.length === 11 ? resetSent(f) : undefined;
        break;
      case "r":
        ev = f.length === 9 ? resetReceived(f) : undefined;
        break;
      case "K":
        ev = f.length === 4 ? retransmit(f) : undefined;
        break;
      case "C":
        ev = f.length >= 11 ? connect(f) : undefined;
        break;
      case "A":
        ev = f.length >= 7 ? simpleSyscall(f, EventKind.EVENT_KIND_SYSCALL_ACCEPT, 6) : undefined;
        break;
      case "X":
        ev = f.length >= 7 ? simpleSyscall(f, EventKind.EVENT_KIND_SYSCALL_CLOSE, 6) : undefined;
        break;
      case "H":
        ev = f.length >= 8 ? shutdown(f) : undefined;
        break;
      case "D":
        ev = f.length >= 10 ? originalDst(f) : undefined;
        break;
      case "B": {
        const ts = ts64(f[1]);
        if (f.length === 2 && ts >= 0n) {
          this.#h.onBegin?.(ts);
          return;
        }
        break;
      }
      case "Lost": {
        // "Lost 123 events"
        const n = num(f[1]);
        if (n >= 0 && f[2] === "events") {
          this.#h.onLost?.(n);
          return;
        }
        break;
      }
      case "Attaching":
        return;
    }
    if (ev === undefined || !valid(ev)) {
      this.#malformed++;
      this.#h.onMalformed?.(line, ev === undefined ? `unknown or short line (tag ${JSON.stringify(tag)})` : "bad number or address");
      return;
    }
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
    hasTuple,
  };
}

/**
 * The ts field, exact: kernel ns pass 2^53 after 104 days of uptime, where
 * Number() would round them. -1n (counted malformed) when it is not an
 * unsigned decimal that fits a u64.
 */
function ts64(s: string | undefined): KernelNs {
  return parseKernelNs(s) ?? -1n;
}

/** Decimal field as a number, or -1 when it is not a plain unsigned integer. */
function num(s: string | undefined): number {
  if (s === undefined || s.length === 0 || s.length > 20) return -1;
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 ? n : -1;
}

/** Signed decimal (syscall return values), NaN when malformed. */
function int(s: string | undefined): number {
  if (s === undefined || s.length === 0) return NaN;
  const n = Number(s);
  return Number.isInteger(n) ? n : NaN;
}

const HEX = /^[0-9a-f]{1,16}$/;
function sock(s: string | undefined): string {
  if (s === undefined || !HEX.test(s)) return "!";
  return s === "0" ? "" : s;
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
  return true;
}

function family(s: string | undefined): number {
  return s === "4" ? 4 : s === "6" ? 6 : -1;
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

function endpoint(ip: string | undefined, port: string | undefined): Endpoint {
  return { ip: normalizeIp(ip), port: num(port) };
}

function stateOpen(f: string[]): ParsedEvent {
  const ev = blankEvent(EventKind.EVENT_KIND_STATE_CHANGE, ts64(f[1]), sock(f[2]), true);
  ev.oldState = num(f[3]);
  ev.newState = num(f[4]);
  ev.family = family(f[5]);
  ev.local = endpoint(f[6], f[7]);
  ev.remote = endpoint(f[8], f[9]);
  ev.netns = num(f[10]);
  ev.uid = num(f[11]);
  return ev;
}

function stateNext(f: string[]): ParsedEvent {
  const ev = blankEvent(EventKind.EVENT_KIND_STATE_CHANGE, ts64(f[1]), sock(f[2]), false);
  ev.oldState = num(f[3]);
  ev.newState = num(f[4]);
  return ev;
}

function resetSent(f: string[]): ParsedEvent {
  const ev = blankEvent(EventKind.EVENT_KIND_RESET_SENT, ts64(f[1]), sock(f[2]), true);
  const reason = num(f[4]);
  ev.oldState = num(f[3]);
  ev.resetReason = reason < 0 ? -1 : resetReasonFromKernel(reason);
  ev.family = family(f[5]);
  ev.local = endpoint(f[6], f[7]);
  ev.remote = endpoint(f[8], f[9]);
  ev.netns = num(f[10]);
  return ev;
}

function resetReceived(f: string[]): ParsedEvent {
  const ev = blankEvent(EventKind.EVENT_KIND_RESET_RECEIVED, ts64(f[1]), sock(f[2]), true);
  ev.family = family(f[3]);
  ev.local = endpoint(f[4], f[5]);
  ev.remote = endpoint(f[6], f[7]);
  ev.netns = num(f[8]);
  return ev;
}

function retransmit(f: string[]): ParsedEvent {
  const ev = blankEvent(EventKind.EVENT_KIND_RETRANSMIT, ts64(f[1]), sock(f[2]), false);
  ev.oldState = num(f[3]);
  return ev;
}

/** comm is everything from field `from` on (it may contain spaces). */
function comm(f: string[], from: number): string {
  return f.length === from + 1 ? (f[from] as string) : f.slice(from).join(" ");
}

function connect(f: string[]): ParsedEvent {
  const ev = blankEvent(EventKind.EVENT_KIND_SYSCALL_CONNECT, ts64(f[1]), sock(f[2]), false);
  ev.process = { pid: num(f[3]), tid: num(f[4]), comm: comm(f, 10) };
  ev.ret = int(f[5]);
  ev.fd = num(f[6]);
  ev.family = family(f[7]);
  ev.target = endpoint(f[8], f[9]);
  return ev;
}

function simpleSyscall(f: string[], kind: EventKind, commAt: number): ParsedEvent {
  const ev = blankEvent(kind, ts64(f[1]), sock(f[2]), false);
  ev.process = { pid: num(f[3]), tid: num(f[4]), comm: comm(f, commAt) };
  ev.fd = num(f[5]);
  return ev;
}

function shutdown(f: string[]): ParsedEvent {
  const ev = simpleSyscall(f, EventKind.EVENT_KIND_SYSCALL_SHUTDOWN, 7);
  ev.shutdownHow = num(f[6]);
  return ev;
}

function originalDst(f: string[]): ParsedEvent {
  const ev = blankEvent(EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST, ts64(f[1]), sock(f[2]), false);
  ev.process = { pid: num(f[3]), tid: num(f[4]), comm: comm(f, 9) };
  ev.fd = num(f[5]);
  ev.family = family(f[6]);
  ev.target = endpoint(f[7], f[8]);
  return ev;
}
