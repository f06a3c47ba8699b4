// Plain snapshots of the sockets of one finished trace: what classification
// and explanation read. Built once per emitted trace, so they can be ordinary
// objects; times are wall-clock µs (0 = never) so that ends on different nodes
// compare, and ns on the socket's own node where one socket's order matters.
import type { KernelNs, PodLabels, ResetReason, Role, SidecarLeg, TcpState } from "../model/mod.js";

export interface AddressView {
  ip: string;
  port: number;
}

export interface SockView {
  /** "node/sock/birth_ns". */
  socketId: string;
  node: string;
  pod: string;
  /** The pod's labels, when its node's events listed any. */
  labels: PodLabels | undefined;
  netns: number;
  ip: string;
  port: number;
  remoteIp: string;
  remotePort: number;
  uid: number;
  pid: number;
  comm: string;
  role: Role;
  leg: SidecarLeg;
  /** A kernel reset without a socket (NO_SOCKET): the refusing side of a hop. */
  phantom: boolean;
  bornUs: number;
  estUs: number;
  finSentUs: number;
  finRecvUs: number;
  rstSentUs: number;
  rstRecvUs: number;
  deathUs: number;
  /** Kernel ns (0n = never), exact: one socket's FIN/RST order can hang on 1 ns. */
  finSentNs: KernelNs;
  finRecvNs: KernelNs;
  rstSentNs: KernelNs;
  rstRecvNs: KernelNs;
  rstReason: ResetReason;
  retransmits: number;
  /** The state it left for CLOSE (UNSPECIFIED while alive). */
  closeFrom: TcpState;
  connectTarget: AddressView | null;
  connectRet: number;
  originalDst: AddressView | null;
  dead: boolean;
  /** An agent gap overlapped its life: events between its open and close may be missing. */
  gap: boolean;
  /** Its open or its close fell inside an agent gap: how it opened or ended is unknown. */
  gapInside: boolean;
  /** Alive across an agent gap, nothing of it seen since: its close is taken as lost in the gap. */
  closeInGap: boolean;
  midstream: boolean;
  missingClose: boolean;
  pooled: boolean;
  /** It sent its FIN/RST with no close() or shutdown() first: its process exited (crashed, was killed). */
  exitClosed: boolean;
}

export interface HopView {
  /** The hop's number along the chain, 1-based like Hop.index (hops[index - 1] is this view). */
  index: number;
  client: SockView | null;
  server: SockView | null;
  /** A NO_SOCKET reset from the server's kernel aimed at the (already paired) client. */
  refusal: SockView | null;
  /** "proxy" or "pooled" for the link to the previous hop, "" for the first. */
  link: string;
  /** Joined through REDIRECT rather than a mirrored 4-tuple. */
  redirected: boolean;
  /** One end is missing although its address belongs to traced territory. */
  missingExpected: boolean;
  /** Number (like index) of the hop whose server dialed this one (through a proxy), 0 for the first hop. */
  parent: number;
  /** Which connect attempt of its proxy this hop is, 1-based (1 when not retried). */
  attempt: number;
  /** How many attempts that proxy made for the same downstream (1 when not retried). */
  attempts: number;
  /** A later attempt replaced this one (or the attempt it led from): its failure did not end the trace. */
  retried: boolean;
  /**
   * Its connection served other traces too (a pooled upstream, or a hop behind
   * one): its ends are snapshots clipped to this trace's use of it, so an end
   * event after that use is not in them.
   */
  shared: boolean;
  /** Shared hops: this trace's use of the connection, wall µs (end 0 while in use). */
  useStartUs: number;
  useEndUs: number;
  /** Shared hops: LinkConfidence of the link to this trace's downstream. */
  linkConfidence: number;
}
