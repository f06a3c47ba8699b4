// TCP sockets of a network namespace, read from /proc/<pid>/net/tcp of a
// process inside it: lets the lab wait for a listener or an established
// connection without sending a single probe packet.
import { readFile } from "node:fs/promises";

/** Kernel TCP state numbers (include/net/tcp_states.h). */
export const TCP_ESTABLISHED = 1;
export const TCP_LISTEN = 10;

export interface ProcTcpSocket {
  local: { ip: string; port: number };
  remote: { ip: string; port: number };
  state: number;
}

function hexEndpoint(s: string): { ip: string; port: number } {
  const [addr = "", port = "0"] = s.split(":");
  // IPv4 addresses are printed as a host-order (little-endian here) u32.
  const n = Number.parseInt(addr, 16);
  const ip = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join(".");
  return { ip, port: Number.parseInt(port, 16) };
}

export function parseProcNetTcp(text: string): ProcTcpSocket[] {
  const out: ProcTcpSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !f[1] || !f[2] || !f[3]) continue;
    out.push({ local: hexEndpoint(f[1]), remote: hexEndpoint(f[2]), state: Number.parseInt(f[3], 16) });
  }
  return out;
}

/** IPv4 TCP sockets of the netns `pid` lives in; [] when the process is gone. */
export async function tcpSocketsOf(pid: number): Promise<ProcTcpSocket[]> {
  try {
    return parseProcNetTcp(await readFile(`/proc/${pid}/net/tcp`, "utf8"));
  } catch {
    return [];
  }
}
