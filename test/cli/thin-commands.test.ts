// Thin commands stay thin: `tcptrail observe`, `traces`, `timeline`, `why` and
// `alerts` run (up to failing to reach their server) without loading the API
// server (fastify), the store (better-sqlite3's native addon), the agent or
// the runtime. Checked on the built CLI, with a module resolution hook that
// lists every module the process resolves.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../helpers/mod.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(ROOT, "dist/src/cli/main.js");
const HOOK = fileURLToPath(new URL("./fixtures/record-imports.mjs", import.meta.url));
// Nothing listens on port 9 (discard) or 1 on loopback: every command fails fast after loading its modules.
const DEAD_API = "http://127.0.0.1:9";
const DEAD_NATS = "nats://127.0.0.1:1";

const temp = await makeTempDir("thin-commands");
afterAll(() => temp.remove());

let runs = 0;
/** Runs a node script with the hook; returns the exit code and every module it resolved. */
function loads(args: string[]): { status: number | null; stderr: string; modules: string[] } {
  const file = join(temp.path, `imports-${runs++}.txt`);
  const r = spawnSync(process.execPath, ["--import", HOOK, ...args], {
    env: { ...process.env, TCPTRAIL_RECORD_IMPORTS: file, TCPTRAIL_API: "", TCPTRAIL_NATS: "" },
    encoding: "utf8",
    timeout: 30_000,
  });
  let modules: string[] = [];
  try {
    modules = readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    // no module resolved at all: the assertions below say so
  }
  return { status: r.status, stderr: r.stderr, modules };
}

const HEAVY = [
  ["fastify", /\/node_modules\/fastify\//],
  ["better-sqlite3", /\/node_modules\/better-sqlite3\//],
  ["the query server", /\/dist\/src\/query\/server\//],
  // store-url.js is the one store module the shared flag set needs (--store is
  // checked when parsed): it imports the error base only, no driver.
  ["the store", /\/dist\/src\/store\/(?!store-url\.js$)/],
  ["pg", /\/node_modules\/pg\//],
  ["the agent", /\/dist\/src\/agent\//],
  ["the runtime", /\/dist\/src\/runtime\//],
  ["the lab", /\/dist\/src\/lab\//],
] as const;

const heavyIn = (modules: string[]): string[] =>
  HEAVY.filter(([, re]) => modules.some((m) => re.test(m))).map(([name]) => name);

describe("thin CLI commands", () => {
  it("the hook sees what the API server loads (so an empty finding below means something)", () => {
    const r = loads(["-e", `await import(${JSON.stringify(join(ROOT, "dist/src/query/server/mod.js"))})`]);
    expect(r.status, r.stderr).toBe(0);
    expect(heavyIn(r.modules)).toEqual(expect.arrayContaining(["fastify", "better-sqlite3", "the query server", "the store"]));
  });

  it.each([
    ["observe", ["observe", "--since", "1h30m", "--nats", DEAD_NATS], /observe\/observe\.js$/],
    ["alerts", ["alerts", "--since", "1h30m", "--nats", DEAD_NATS], /alert\/reader\.js$/],
    ["traces", ["traces", "--since", "1h30m", "--api", DEAD_API], /query\/client\.js$/],
    ["timeline", ["timeline", "reset-1", "--since", "1h30m", "--api", DEAD_API], /query\/render-timeline\.js$/],
    ["why", ["why", "10.88.0.2:40001", "--since", "1h30m", "--api", DEAD_API], /query\/render-why\.js$/],
  ])("%s loads its own modules and none of the server, store, agent or lab", (_name, args, own) => {
    const r = loads([MAIN, ...args]);
    // Exit 1: the command ran (its flags parsed) and failed only at the unreachable server.
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^tcptrail: cannot reach/);
    expect(r.modules.some((m) => own.test(m)), `expected ${own} among ${r.modules.length} modules`).toBe(true);
    expect(heavyIn(r.modules)).toEqual([]);
  });

  it("--help of the whole CLI loads no command's modules", () => {
    const r = loads([MAIN, "--help"]);
    expect(r.status).toBe(0);
    expect(r.modules.some((m) => /\/dist\/src\/(observe|query|transport|alert)\//.test(m))).toBe(false);
  });
});
