// Parses tcptrail.bt's line grammar (probes/README.md) into connection events.
// It sits on the hottest path of the agent (hundreds of thousands of lines a
// second), so it splits once, allocates one event object per line, and never
// throws: a line it cannot read is counted and handed to onMalformed.
import { EventKind, resetReasonFromKernel, type ConnEventInit, type Endpoint } from "../model/mod.js";

export interface LineParserHandlers {
  /** A kernel event, with the fields the line carries (tuple only on first sighting). */
  onEvent(event: ParsedEvent): void;
  /** bpftrace reported lost perf events. */
  onLost?(count: number): void;
  /** The program started; ts is the kernel clock at BEGIN. */
  onBegin?(tsNs: number): void;
  onMalformed?(line: string, reason: string): void;
}

/** A parsed event: a ConnEventInit plus what the agent needs to enrich it. */
export interface ParsedEvent extends ConnEventInit {
  kind: EventKind;
  tsNs: number;
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
        const ts = num(f[1]);
        if (f.length === 2 && ts >= 0) {
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
  if (ev.tsNs < 0 || ev.sock === "!") return false;
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
  return {
    kind: EventKind.EVENT_KIND_STATE_CHANGE,
    tsNs: num(f[1]),
    sock: sock(f[2]),
    oldState: num(f[3]),
    newState: num(f[4]),
    family: family(f[5]),
    local: endpoint(f[6], f[7]),
    remote: endpoint(f[8], f[9]),
    netns: num(f[10]),
    uid: num(f[11]),
    hasTuple: true,
  };
}

function stateNext(f: string[]): ParsedEvent {
  return {
    kind: EventKind.EVENT_KIND_STATE_CHANGE,
    tsNs: num(f[1]),
    sock: sock(f[2]),
    oldState: num(f[3]),
    newState: num(f[4]),
    hasTuple: false,
  };
}

function resetSent(f: string[]): ParsedEvent {
  const reason = num(f[4]);
  return {
    kind: EventKind.EVENT_KIND_RESET_SENT,
    tsNs: num(f[1]),
    sock: sock(f[2]),
    oldState: num(f[3]),
    resetReason: reason < 0 ? -1 : resetReasonFromKernel(reason),
    family: family(f[5]),
    local: endpoint(f[6], f[7]),
    remote: endpoint(f[8], f[9]),
    netns: num(f[10]),
    hasTuple: true,
  };
}

function resetReceived(f: string[]): ParsedEvent {
  return {
    kind: EventKind.EVENT_KIND_RESET_RECEIVED,
    tsNs: num(f[1]),
    sock: sock(f[2]),
    family: family(f[3]),
    local: endpoint(f[4], f[5]),
    remote: endpoint(f[6], f[7]),
    netns: num(f[8]),
    hasTuple: true,
  };
}

function retransmit(f: string[]): ParsedEvent {
  return {
    kind: EventKind.EVENT_KIND_RETRANSMIT,
    tsNs: num(f[1]),
    sock: sock(f[2]),
    oldState: num(f[3]),
    hasTuple: false,
  };
}

/** comm is everything from field `from` on (it may contain spaces). */
function comm(f: string[], from: number): string {
  return f.length === from + 1 ? (f[from] as string) : f.slice(from).join(" ");
}

function connect(f: string[]): ParsedEvent {
  return {
    kind: EventKind.EVENT_KIND_SYSCALL_CONNECT,
    tsNs: num(f[1]),
    sock: sock(f[2]),
    process: { pid: num(f[3]), tid: num(f[4]), comm: comm(f, 10) },
    ret: int(f[5]),
    fd: num(f[6]),
    family: family(f[7]),
    target: endpoint(f[8], f[9]),
    hasTuple: false,
  };
}

function simpleSyscall(f: string[], kind: EventKind, commAt: number): ParsedEvent {
  return {
    kind,
    tsNs: num(f[1]),
    sock: sock(f[2]),
    process: { pid: num(f[3]), tid: num(f[4]), comm: comm(f, commAt) },
    fd: num(f[5]),
    hasTuple: false,
  };
}

function shutdown(f: string[]): ParsedEvent {
  const ev = simpleSyscall(f, EventKind.EVENT_KIND_SYSCALL_SHUTDOWN, 7);
  ev.shutdownHow = num(f[6]);
  return ev;
}

function originalDst(f: string[]): ParsedEvent {
  return {
    kind: EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST,
    tsNs: num(f[1]),
    sock: sock(f[2]),
    process: { pid: num(f[3]), tid: num(f[4]), comm: comm(f, 9) },
    fd: num(f[5]),
    family: family(f[6]),
    target: endpoint(f[7], f[8]),
    hasTuple: false,
  };
}
