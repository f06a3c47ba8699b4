// A trace that waits on an idle node: node-b served one connection and went
// quiet; `idleMs` later node-a's app dials node-b's address and a REJECT
// answers (a RST no socket sent: no event on node-b). The hop has a client end
// only, at an address node-b's events made traced, so the stitcher waits for
// node-b's clock to pass the close before finishing it (node-b's agent might
// be stalled with that end's events).
import { MeshLab, APP_UID, type Rec } from "./mesh-lab.js";
import { appA, closeCleanly, meshChain, podA, podB } from "./scenarios.js";

const MS = 1_000_000;

export const IDLE_NODE_REJECTED_PORT = 42_000;

export function idleNodeScenario(idleMs: number): Rec[] {
  const lab = new MeshLab({ "node-a": { offsetNs: 7_000_000_000 }, "node-b": { offsetNs: 900_000_000_000 } });
  const A = podA("node-a");
  const B = podB("node-b");
  closeCleanly(lab, meshChain(lab, A, B));
  lab.wait("node-b", idleMs * MS);
  const dst = { ip: B.ip, port: 9090 };
  const c = lab.sock(A, { ip: A.ip, port: IDLE_NODE_REJECTED_PORT }, dst, { uid: APP_UID, role: "APP" });
  lab.state(c, "SYN_SENT", { localPort: 0 });
  lab.syscall(c, "CONNECT", appA, { ret: -115, target: dst });
  lab.resetReceived(c);
  lab.state(c, "CLOSE");
  lab.syscall(c, "CLOSE", appA);
  return lab.records;
}
