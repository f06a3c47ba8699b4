// A socket's identity across pointer reuse: "node/sock/birth_ts" (docs/EVENTS.md).
// Node names may contain "/" in theory, so the id is read from the right.

export interface SocketIdentity {
  node: string;
  /** struct sock address, lowercase hex. */
  sock: string;
  /** ts_ns of the socket's first event. */
  birthNs: number;
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
  if (!/^(0x)?[0-9a-f]+$/i.test(sock) || !/^\d+$/.test(birth)) return null;
  const birthNs = Number(birth);
  if (!Number.isSafeInteger(birthNs)) return null;
  return { node, sock: sock.toLowerCase(), birthNs };
}
