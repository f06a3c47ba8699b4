// Who sent a RST that no traced socket sent (iptables REJECT, a middlebox):
// not a socket, so no process; what the wire says instead. The RST came from
// the address the receiving socket was talking to, so its source is that
// socket's remote endpoint at the time, and its pod is the pod traced sockets
// were seen bound to that address, if any.
import type { SockView } from "./hop-view.js";

export interface WireSender {
  ip: string;
  port: number;
  /** "" when no traced socket was seen at that address, or sockets of several pods were. */
  pod: string;
}

function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

/** `podOfAddress`: the one pod whose traced sockets had this local address, else "". */
export function untracedSender(receiver: SockView, podOfAddress: (ip: string) => string): WireSender {
  const ip = receiver.remoteIp;
  // Loopback never leaves the namespace: the sender is in the receiver's own
  // pod, whatever other pods use the same loopback address.
  const pod = isLoopback(ip) ? receiver.pod : podOfAddress(ip);
  return { ip, port: receiver.remotePort, pod };
}
