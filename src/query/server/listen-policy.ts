// Where the API may listen. Without a token it answers anyone who can reach
// it, so it stays on loopback; anything else (a LAN address, 0.0.0.0, a name
// that DNS resolves) needs a token. Checked before anything listens, by the
// server and by the main job (so `tcptrail run` refuses before it starts NATS).
import { UnprotectedListenError } from "./errors.js";
import { isLoopbackHost } from "./loopback.js";

/** Where the API listens unless told: loopback only. */
export const DEFAULT_API_HOST = "127.0.0.1";
export const DEFAULT_API_PORT = 7070;

/** @throws UnprotectedListenError when `host` is not loopback and no token protects the API. */
export function checkListen(host: string, hasToken: boolean): void {
  if (hasToken || isLoopbackHost(host)) return;
  throw new UnprotectedListenError(
    `the query API would listen on ${host}, which is not a loopback address, without a token: anyone who can reach it could read every trace. ` +
      "Give it a bearer token (tcptrail run: --api-token-file FILE or TCPTRAIL_API_TOKEN) or listen on 127.0.0.1, ::1 or localhost",
    { property: "listen" },
  );
}
