// issue 12 part 5, through the built CLI as a user runs it: a stored trace
// whose process and pod names carry ESC[2J, a bidi override and a newline is
// printed escaped by traces, why and timeline, and exactly by -o json.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TcpState } from "../../src/model/mod.js";
import { startQueryServer, type QueryServer } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { NODE, meshTrace, sockOf, socketIdOf, stateEvent } from "../store/fixtures.js";

const MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
const EVIL = "x\u001b[2Jy\u202ez\nw";
const EVIL_SHOWN = "x\\x1b[2Jy\\u202ez\\x0aw";
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const T0 = 9_000_000;

let tmp: TempDir;
let store: SqliteTraceStore;
let server: QueryServer;
beforeAll(async () => {
  tmp = await makeTempDir("escape-cli");
  store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
  const t = meshTrace({ id: "evil-1", startUs: T0, podA: EVIL, podB: EVIL });
  for (const h of t.hops) h.client!.comm = h.server!.comm = EVIL;
  await store.putTraces([t]);
  const birth = Number(socketIdOf(0, 1, T0).split("/")[2]);
  await store.putEvents({ node: NODE, bootId: "b", agentStartUs: 1 }, [
    stateEvent({ sock: sockOf(0, 1), tNs: birth, local: ["10.88.0.2", 40000], remote: ["10.88.0.3", 8080], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT, pod: EVIL }),
  ]);
  server = await startQueryServer({ store, port: 0 });
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  await tmp?.remove();
});

async function cli(args: string[]) {
  const r = await execa(process.execPath, [MAIN, ...args, "--api", server.url], { reject: false, env: { TCPTRAIL_API: "" }, timeout: 30_000 });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe("the built CLI escapes names from the kernel and the network", () => {
  it.each([["traces"], ["why", "evil-1"], ["timeline", "evil-1"]])("%s %s", async (...args) => {
    const r = await cli(args.filter(Boolean));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stdout).toContain(EVIL_SHOWN);
  });

  it("-o json keeps the exact names", async () => {
    const r = await cli(["traces", "-o", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).hops[0].client.pod).toBe(EVIL);
  });
});
