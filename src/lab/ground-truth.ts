// Reduce tcpdump text (one capture per pod netns, `-i any -nn -tt -S`) to the
// list of SYN/FIN/RST segments that crossed the lab's wires, each once, in
// the netns that sent it.

export interface WireEndpoint {
  ip: string;
  port: number;
}

export type TcpFlag = "SYN" | "ACK" | "FIN" | "RST" | "PSH" | "URG" | "ECE" | "CWR";

export interface WirePacket {
  /** Pod (netns name) whose capture saw the segment. */
  netns: string;
  /** "lo", "eth0". */
  iface: string;
  /**
   * "out": this netns sent the segment (loopback segments are both sent and
   * received here, and count as "out"). "in": received, and no capture saw it
   * leave (its sender is outside the captured pods).
   */
  direction: "in" | "out";
  /** Addresses as on the wire: after OUTPUT NAT when sent, before PREROUTING NAT when received. */
  src: WireEndpoint;
  dst: WireEndpoint;
  flags: TcpFlag[];
  /** Absolute sequence number (first of the range). */
  seq: number;
  tsUs: number;
}

const FLAG_CHARS: Record<string, TcpFlag> = { S: "SYN", F: "FIN", R: "RST", P: "PSH", U: "URG", E: "ECE", W: "CWR", ".": "ACK" };

// 1795305060.179649 lo    In  IP 10.88.201.2.39648 > 127.0.0.1.15001: Flags [S], seq 3781401792, win ...
const LINE =
  /^(\d+)\.(\d{6}) (\S+)\s+(In|Out|M|B|P)\s+IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]*)\](?:, seq (\d+))?/;

/** Parse one pod's capture; lines that are not IPv4 TCP (or are truncated) are skipped. */
export function parseTcpdumpText(netns: string, text: string): WirePacket[] {
  const out: WirePacket[] = [];
  for (const line of text.split("\n")) {
    const p = parseTcpdumpLine(netns, line);
    if (p) out.push(p);
  }
  return out;
}

/** One tcpdump segment line, or undefined (payload lines of -A, IPv6, status lines). */
export function parseTcpdumpLine(netns: string, line: string): WirePacket | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const flags = [...(m[9] ?? "")].map((c) => FLAG_CHARS[c]).filter((f): f is TcpFlag => f !== undefined);
  return {
    netns,
    iface: m[3] ?? "",
    direction: m[4] === "Out" ? "out" : "in",
    src: { ip: m[5] ?? "", port: Number(m[6]) },
    dst: { ip: m[7] ?? "", port: Number(m[8]) },
    flags,
    seq: Number(m[10] ?? 0),
    tsUs: Number(m[1]) * 1_000_000 + Number(m[2]),
  };
}

const LO_COPY_WINDOW_US = 1000;

const segmentKey = (p: WirePacket): string =>
  `${p.src.ip}:${p.src.port}>${p.dst.ip}:${p.dst.port}/${p.flags.join("")}/${p.seq}`;

/**
 * One logical segment per transmission, in time order: loopback copies
 * (out+in) merge into one "out" segment; a segment received on eth0 is
 * dropped when the sending pod's capture has it (it is reported there).
 */
export function reduceCapture(captures: Record<string, string>): WirePacket[];
export function reduceCapture<P extends WirePacket>(captures: readonly P[]): P[];
export function reduceCapture(captures: Record<string, string> | readonly WirePacket[]): WirePacket[] {
  const packets: readonly WirePacket[] = isPacketList(captures)
    ? captures
    : Object.entries(captures).flatMap(([netns, text]) => parseTcpdumpText(netns, text));
  const result: WirePacket[] = [];
  // Last loopback copy per segment: an out copy and an in copy close in time are one transmission.
  const loLast = new Map<string, WirePacket>();
  const sentOnWire = new Set<string>();
  for (const p of packets) if (p.iface !== "lo" && p.direction === "out") sentOnWire.add(segmentKey(p));
  for (const p of [...packets].sort((a, b) => a.tsUs - b.tsUs)) {
    const key = segmentKey(p);
    if (p.iface === "lo") {
      const k = `${p.netns}/${key}`;
      const prev = loLast.get(k);
      loLast.set(k, p);
      // A retransmission has the same key but comes later (200 ms at least) and is kept.
      if (prev && prev.direction !== p.direction && p.tsUs - prev.tsUs <= LO_COPY_WINDOW_US) continue;
      result.push({ ...p, direction: "out" });
    } else if (p.direction === "out" || !sentOnWire.has(key)) {
      result.push(p);
    }
  }
  return result;
}

const isPacketList = (c: Record<string, string> | readonly WirePacket[]): c is readonly WirePacket[] => Array.isArray(c);

export const hasFlag = (p: WirePacket, f: TcpFlag): boolean => p.flags.includes(f);

export function formatWirePacket(p: WirePacket): string {
  return `${p.netns} ${p.iface} ${p.direction} ${p.src.ip}:${p.src.port} > ${p.dst.ip}:${p.dst.port} [${p.flags.join(",")}]`;
}
