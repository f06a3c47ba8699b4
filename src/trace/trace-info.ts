// What the stitcher knows about a trace beyond the proto: the propagation of
// the failure, hop by hop, in time order (the proto only has room for it in
// the explanation sentence).

export interface Relay {
  /** Hop number, 1-based like Hop.index. */
  hop: number;
  /** Which end of the hop sent it. */
  by: "client" | "server";
  kind: "FIN" | "RST";
  /** Wall-clock µs. */
  atUs: number;
}

export interface TraceInfo {
  propagation: Relay[];
  /** A proxy link could not be decided (pooled connections). */
  pooled: boolean;
  /** Why the trace is INCOMPLETE ("" otherwise). */
  incompleteReason: string;
  /** Sockets stitched into it (phantom refusals included). */
  sockets: number;
}
