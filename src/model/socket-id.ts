// A socket's identity across pointer reuse: "node/sock/birth_ts" (docs/EVENTS.md).
// Node names may contain "/" in theory, so the id is read from the right.
// The birth is the exact decimal of the kernel ns (any uptime, see kernel-time.ts).
import { parseKernelNs, type KernelNs } from "./kernel-time.js";

export interface SocketIdentity {
  node: string;
  /** struct sock address, lowercase hex. */
  sock: string;
  /** Kernel ns of the socket's first event. */
  birthNs: KernelNs;
}

export function formatSocketId(id: SocketIdentity): string {
  return `${id.node}/${id.sock}/${id.birthNs}`;
}

/** The parts of a socket id, or null when it is not of that form. */
export function parseSocketId(s: string): SocketIdentity | null {
  const b = s.lastIndexOf("/");
  const a = b > 0 ? s.lastIndexOf("/", b - 1) : -1;
  if (a <= 0) return null;
  const node = s.slice(0, a);
  const sock = s.slice(a + 1, b);
  const birth = s.slice(b + 1);
  if (!/^(0x)?[0-9a-f]+$/i.test(sock)) return null;
  const birthNs = parseKernelNs(birth);
  if (birthNs === null) return null;
  return { node, sock: sock.toLowerCase(), birthNs };
}
