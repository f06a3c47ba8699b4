// A probe recording of a loopback connection churn, made without bpftrace:
// the lines tcptrail.bt prints for the bench's churn (bench/churn.c: dialers
// connect, exchange a byte and close; an acceptor answers and closes), in the
// line grammar of probes/README.md, so the agent replay can be measured where
// bpftrace must not run (beside other tests that share the kernel) and with
// the same input every time. The shapes are copied from real output
// (test/probes/fixtures/loopback-basics.txt): a FIN-closed pair prints 7
// lines (C, A, Y, S, Y, E, E), an aborted one 5 (C, A, Y →CLOSE, r, R).
// Lines come out as per-CPU runs that interleave (bpftrace 0.17's perf
// buffers), so the reorder buffer has work to do, and struct sock addresses
// are reused as a slab reuses them, so the socket and owner tables do too.

export interface SyntheticChurnOptions {
  /** Connection pairs. */
  pairs: number;
  /** Pairs per second of kernel time (what the churn reached while traced). Default DEFAULT_SYNTHETIC_PAIRS_PER_SEC. */
  pairsPerSec?: number;
  /** Share of pairs the dialer aborts (SO_LINGER 0: RST) instead of closing with FINs. Default DEFAULT_SYNTHETIC_RST_SHARE. */
  rstShare?: number;
  /** Kernel ns of the first line. Default: now on this machine's monotonic clock (what bpftrace's nsecs reads). */
  startNs?: bigint;
  /** Lines of one CPU printed before the other CPU's: bpftrace 0.17 reads per-CPU buffers in turn. Default 64. */
  cpuRun?: number;
  /** Listener port. Default 40000. */
  port?: number;
  /** Process name. Default "churn". */
  comm?: string;
}

/** About what a 2-core node traces with bpftrace 0.23 (140k lines/s). */
export const DEFAULT_SYNTHETIC_PAIRS_PER_SEC = 20_000;
/** The bench's churn closes with FINs; a share of RSTs keeps the reset lines measured too. */
export const DEFAULT_SYNTHETIC_RST_SHARE = 0.25;

const NETNS = 4026531833;
const FIRST_EPHEMERAL = 32768;
const LAST_EPHEMERAL = 60999;
// Kernel state masks the probe prints (bit n: passed through state n).
const DIALER_FIN_BITS = 22; // ESTABLISHED, SYN_SENT, FIN_WAIT1
const DIALER_CLOSED_BITS = 182; // … FIN_WAIT2, CLOSE
const ACCEPTED_BITS = 1034; // ESTABLISHED, SYN_RECV, LISTEN
const ACCEPTED_LAST_ACK_BITS = 778; // ESTABLISHED, SYN_RECV, CLOSE_WAIT, LAST_ACK
const ACCEPTED_CLOSED_BITS = 906; // … CLOSE
const DIALER_ABORT_BITS = 134; // ESTABLISHED, SYN_SENT, CLOSE
const ACCEPTED_RESET_BITS = 138; // ESTABLISHED, SYN_RECV, CLOSE

interface Line {
  ts: bigint;
  cpu: number;
  text: string;
}

/** Struct sock addresses as a slab hands them out: freed ones come back first. */
class SockSlab {
  #free: string[] = [];
  #next = 0;

  take(): string {
    return this.#free.pop() ?? (0xffff888108000000n + BigInt(this.#next++) * 0x8c0n).toString(16);
  }

  give(sock: string): void {
    this.#free.push(sock);
  }
}

/** The recording's lines, in the order bpftrace would print them. */
export function synthesizeChurnRecording(o: SyntheticChurnOptions): string[] {
  const period = Math.max(1, Math.round(1e9 / (o.pairsPerSec ?? DEFAULT_SYNTHETIC_PAIRS_PER_SEC)));
  const rstShare = o.rstShare ?? DEFAULT_SYNTHETIC_RST_SHARE;
  const start = o.startNs ?? process.hrtime.bigint();
  const port = o.port ?? 40000;
  const comm = o.comm ?? "churn";
  const pid = 4242;
  const slab = new SockSlab();
  const lines: Line[] = [];
  const at = (t0: bigint, us: number) => t0 + BigInt(us * 1000);
  const listener = slab.take();
  lines.push({ ts: start, cpu: 0, text: `O ${start} ${listener} 7 10 4 127.0.0.1 ${port} 0.0.0.0 0 ${NETNS} 0 1024 0 0` });
  // Sockets die in the order their last line is printed; addresses return to the slab then.
  const deaths: { ts: bigint; sock: string }[] = [];
  let eph = FIRST_EPHEMERAL;
  // Abort decisions spread evenly (no RNG: the same recording every time).
  let rstDebt = 0;
  for (let i = 0; i < o.pairs; i++) {
    const t0 = start + 1000n + BigInt(i * period);
    while (deaths.length > 0 && deaths[0]!.ts < t0) slab.give(deaths.shift()!.sock);
    const dial = slab.take();
    const acc = slab.take();
    const sport = eph;
    eph = eph === LAST_EPHEMERAL ? FIRST_EPHEMERAL : eph + 1;
    const dialCpu = i % 2;
    const accCpu = 1 - dialCpu;
    const dTid = pid + 1 + dialCpu;
    const aTid = pid + 3;
    const fd = 3 + (i % 5);
    const tuple = `4 127.0.0.1 ${sport} 127.0.0.1 ${port} ${NETNS} 0`;
    const peer = `4 127.0.0.1 ${port} 127.0.0.1 ${sport} ${NETNS} 0`;
    lines.push({ ts: at(t0, 25), cpu: dialCpu, text: `C ${at(t0, 25)} ${dial} ${pid} ${dTid} 0 ${fd} 4 127.0.0.1 ${port} 1 6 ${t0} ${at(t0, 20)} ${tuple} ${comm}` });
    lines.push({ ts: at(t0, 30), cpu: accCpu, text: `A ${at(t0, 30)} ${acc} ${pid} ${aTid} ${fd + 1} 1 ${ACCEPTED_BITS} ${at(t0, 10)} ${at(t0, 20)} ${peer} ${comm}` });
    rstDebt += rstShare;
    let end: bigint;
    if (rstDebt >= 1) {
      rstDebt -= 1;
      lines.push({ ts: at(t0, 60), cpu: dialCpu, text: `Y ${at(t0, 60)} ${dial} 1 7 ${DIALER_ABORT_BITS} ${pid} ${dTid} ${fd} ${comm}` });
      lines.push({ ts: at(t0, 62), cpu: accCpu, text: `r ${at(t0, 62)} ${acc} 4 127.0.0.1 ${port} 127.0.0.1 ${sport} ${NETNS} 0 1 ${ACCEPTED_RESET_BITS} 0 0 0` });
      end = at(t0, 63);
      lines.push({ ts: end, cpu: dialCpu, text: `R ${end} ${dial} 7 14 4 127.0.0.1 ${sport} 127.0.0.1 ${port} ${NETNS}` });
    } else {
      lines.push({ ts: at(t0, 60), cpu: dialCpu, text: `Y ${at(t0, 60)} ${dial} 1 4 ${DIALER_FIN_BITS} ${pid} ${dTid} ${fd} ${comm}` });
      lines.push({ ts: at(t0, 62), cpu: accCpu, text: `S ${at(t0, 62)} ${acc} 1 8` });
      lines.push({ ts: at(t0, 70), cpu: accCpu, text: `Y ${at(t0, 70)} ${acc} 8 9 ${ACCEPTED_LAST_ACK_BITS} ${pid} ${aTid} ${fd + 1} ${comm}` });
      lines.push({ ts: at(t0, 72), cpu: dialCpu, text: `E ${at(t0, 72)} ${dial} 5 ${DIALER_CLOSED_BITS}` });
      end = at(t0, 73);
      lines.push({ ts: end, cpu: accCpu, text: `E ${end} ${acc} 9 ${ACCEPTED_CLOSED_BITS}` });
    }
    deaths.push({ ts: end, sock: dial }, { ts: end, sock: acc });
  }
  return interleaveCpus(lines, o.cpuRun ?? 64);
}

/**
 * Each CPU's lines in time order, printed as runs of `run` lines: the reader
 * takes a run from the CPU whose oldest line is oldest, so the CPUs never
 * drift further apart than a run (as bpftrace's reader drains busy buffers).
 */
function interleaveCpus(lines: Line[], run: number): string[] {
  const byCpu: Line[][] = [[], []];
  for (const l of lines) byCpu[l.cpu]!.push(l);
  for (const cpu of byCpu) cpu.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  const out: string[] = [];
  const next = [0, 0];
  for (;;) {
    const heads = byCpu.map((list, cpu) => list[next[cpu]!]);
    if (heads[0] === undefined && heads[1] === undefined) break;
    const cpu = heads[1] === undefined || (heads[0] !== undefined && heads[0].ts <= heads[1].ts) ? 0 : 1;
    const list = byCpu[cpu]!;
    const end = Math.min(list.length, next[cpu]! + run);
    for (let i = next[cpu]!; i < end; i++) out.push(list[i]!.text);
    next[cpu] = end;
  }
  return out;
}
