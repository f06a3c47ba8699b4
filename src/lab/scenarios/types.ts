// What a scenario is and what it reports: the connections it made and, for
// every FIN and RST it causes, who is expected to send it and how that
// segment looks on the sender's wire (so the ground truth can be checked).
import type { Logger } from "../../log/logger.js";
import type { ClientResult } from "../app/client-script.js";
import type { WireEndpoint } from "../ground-truth.js";
import type { PooledUse, RacedRequest } from "../http-wire.js";
import type { LabState } from "../state-file.js";

/** "app": the app or client process; "sidecar": HAProxy; "none": no socket (netfilter). */
export type ExpectedRole = "app" | "sidecar" | "none";

/** How a segment appears in the capture of the netns that sent it (unset fields match anything). */
export interface WireSelector {
  iface?: string;
  src?: Partial<WireEndpoint>;
  dst?: Partial<WireEndpoint>;
}

export interface ExpectedSegment {
  flag: "FIN" | "RST";
  /** Netns (pod) that sends it. */
  fromPod: string;
  role: ExpectedRole;
  /** The hop, sender first: "sidecar-b→app-b". */
  hop: string;
  /** Process owning the sending socket, when one exists (and is known). */
  pid?: number;
  wire: WireSelector;
  /** A RST only netfilter sends (REJECT): tcptrail must report that no traced socket sent it. Default: false. */
  untraced?: boolean;
  /** The kernel's reset reason tcptrail must report ("NO_SOCKET"), when the scenario pins it. */
  resetReason?: string;
  /** May be absent: one side of a race the scenario cannot pin (the words say which). Default: false. */
  optional?: boolean;
  /** One sentence: who sends it and why. */
  words: string;
}

export interface ScenarioConnection {
  clientPod: string;
  target: WireEndpoint;
  path: string;
  /** The client process (also the owner of the first socket of the chain). */
  pid: number;
  result: ClientResult;
}

export interface ScenarioResult {
  name: string;
  /** What the scenario did, step by step. */
  did: string[];
  connections: ScenarioConnection[];
  expectations: ExpectedSegment[];
  /**
   * Scenarios whose client sidecar pools upstream connections (`pooled`,
   * `keepalive-race`): for every client connection, the upstream connection
   * (4-tuple on the client sidecar's eth0) that carried its requests, and the
   * passthrough into the app it reached, from the packet capture (request ids
   * followed hop by hop). What tcptrail's links of pooled hops are checked against.
   */
  pooled?: PooledUse[];
  /**
   * Requests that met the keep-alive race, from the packet capture: sent on a
   * pooled upstream the app had closed (or was closing) and never answered,
   * with the FIN/RST times on the wire and what the client got. Present (maybe
   * empty: no false race) wherever `pooled` is.
   */
  races?: RaceReport[];
  startUs: number;
  endUs: number;
}

export interface RaceReport extends RacedRequest {
  /** What the client got for the request: "502", "ECONNRESET", "no answer". */
  clientGot: string;
}

export interface ScenarioContext {
  state: LabState;
  log: Logger;
}

export interface Scenario {
  name: string;
  summary: string;
  /** Pods the scenario needs (by short name), for a clear error on a smaller lab. */
  pods: readonly string[];
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
