// Attribute names: the stable ones from @opentelemetry/semantic-conventions;
// the ones still "incubating" there (process.*, host.name) are copied here, as
// that package advises, since its incubating entry point may rename them in
// any minor release; the package is pinned to the version they were read from.
export {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_ERROR_TYPE,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_NODE_NAME,
  ATTR_K8S_POD_NAME,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  NETWORK_TRANSPORT_VALUE_TCP,
  NETWORK_TYPE_VALUE_IPV4,
  NETWORK_TYPE_VALUE_IPV6,
} from "@opentelemetry/semantic-conventions";

/** semantic-conventions 1.45.0 incubating. */
export const ATTR_PROCESS_PID = "process.pid" as const;
/** semantic-conventions 1.45.0 incubating: the executable's name (the kernel's comm). */
export const ATTR_PROCESS_EXECUTABLE_NAME = "process.executable.name" as const;

/** tcptrail's own attributes: what the conventions have no name for. */
export const TCPTRAIL = {
  traceId: "tcptrail.trace_id",
  /** The trace's outcome (COMPLETED, RESET_BY_SERVER...), on every span. */
  traceOutcome: "tcptrail.trace.outcome",
  outcome: "tcptrail.outcome",
  hop: "tcptrail.hop",
  side: "tcptrail.side",
  role: "tcptrail.role",
  leg: "tcptrail.leg",
  link: "tcptrail.link",
  attempt: "tcptrail.attempt",
  attempts: "tcptrail.attempts",
  socketId: "tcptrail.socket_id",
  uid: "tcptrail.uid",
  node: "tcptrail.node",
  netns: "tcptrail.netns",
  resetReason: "tcptrail.reset_reason",
  /** On the span of the socket where the failure began (Trace.reset_origin). */
  resetOrigin: "tcptrail.reset_origin",
  /** RESET_UNTRACED: on the span of the socket that received the RST no traced socket sent. */
  resetReceiver: "tcptrail.reset_receiver",
  pod: "tcptrail.pod",
  explanation: "tcptrail.explanation",
  originalDestinationAddress: "tcptrail.original_destination.address",
  originalDestinationPort: "tcptrail.original_destination.port",
  shared: "tcptrail.shared",
  linkConfidence: "tcptrail.link_confidence",
  open: "tcptrail.open",
  /** Span events: which end sent the segment ("client", "server"; "none" for a RST no traced socket sent). */
  sender: "tcptrail.sender",
  /** Span events: whether this span's socket sent it or received it. */
  direction: "tcptrail.direction",
} as const;
