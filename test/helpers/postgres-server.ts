// A private PostgreSQL 15 for tests: initdb into a temp dir, the server on a
// Unix socket in that dir only (listen_addresses='', so no TCP port and no
// clash with any other server), trust auth for the local socket. PostgreSQL
// refuses to run as root, so under root both run as the `postgres` system
// user (Debian's package creates it) through setpriv, which execs: the pid
// spawned is the postmaster's. close() stops it by that pid (fast shutdown,
// then SIGKILL if it lingers) and removes the dir; a failed start cleans up too.
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdir } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { isRoot } from "./root.js";
import { makeTempDir } from "./temp-dir.js";
import { waitFor } from "./wait-for.js";

/** Debian 12's server binaries (the `postgresql` package, deploy/setup.sh). */
export const DEFAULT_PG_BIN_DIR = "/usr/lib/postgresql/15/bin";
/** The port only names the socket file (.s.PGSQL.<port>) in the private dir. */
const PG_PORT = 5432;
const PG_USER = "tcptrail";
const STOP_TIMEOUT_MS = 10_000;

export interface TestPostgresOptions {
  /** Names the temp dir. Default "pg". */
  label?: string;
  /** Default DEFAULT_PG_BIN_DIR. */
  binDir?: string;
}

export interface TestPostgres {
  /** The postmaster's pid. */
  readonly pid: number;
  readonly dir: string;
  /** URL of database `name` on this server. */
  url(name: string): string;
  /** Create an empty database and return its URL: one per test keeps tests apart on one server. */
  createDatabase(name: string): Promise<string>;
  /** Stop the server by its pid and remove its dir. Idempotent. */
  close(): Promise<void>;
}

export async function startPostgres(o: TestPostgresOptions = {}): Promise<TestPostgres> {
  const binDir = o.binDir ?? DEFAULT_PG_BIN_DIR;
  const tmp = await makeTempDir(o.label ?? "pg");
  const data = join(tmp.path, "data");
  const sock = join(tmp.path, "sock");
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const stop = async (): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const pid = child.pid!;
    process.kill(pid, "SIGINT"); // fast shutdown: ends sessions, no checkpoint wait for clients
    const timer = setTimeout(() => {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  try {
    await mkdir(sock);
    // As root the server runs as `postgres`: it must own its dirs (mkdtemp's are root's, 0700).
    const asPostgres: string[] = [];
    if (isRoot()) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
      await chmod(tmp.path, 0o755);
      await chown(tmp.path, uid, gid);
      await chown(sock, uid, gid);
      asPostgres.push("setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--");
    }
    const run = (bin: string, args: string[]): [string, string[]] =>
      asPostgres.length ? [asPostgres[0]!, [...asPostgres.slice(1), join(binDir, bin), ...args]] : [join(binDir, bin), args];
    const [initCmd, initArgs] = run("initdb", ["-D", data, "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
    execFileSync(initCmd, initArgs, { stdio: ["ignore", "ignore", "pipe"] });
    const [cmd, args] = run("postgres", [
      "-D", data, "-k", sock, "-p", String(PG_PORT),
      "-c", "listen_addresses=",
      // A test server: durability is not what is tested, speed is welcome.
      "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
    ]);
    child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    exited = new Promise((resolve) => child!.once("exit", () => resolve()));
    const url = (name: string): string => `postgresql://${PG_USER}@localhost:${PG_PORT}/${name}?host=${encodeURIComponent(sock)}`;
    await waitFor(
      async () => {
        if (child!.exitCode !== null) throw new Error(`postgres exited with ${child!.exitCode}: ${stderr}`);
        const c = new pg.Client({ connectionString: url("postgres") });
        try {
          await c.connect();
          await c.query("SELECT 1");
          return true;
        } catch {
          return false;
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      { what: "the private PostgreSQL to accept connections", timeoutMs: 30_000, intervalMs: 50 },
    );
    let closed = false;
    return {
      pid: child.pid!,
      dir: tmp.path,
      url,
      async createDatabase(name: string) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new TypeError(`createDatabase: ${name} is not a plain identifier`);
        const c = new pg.Client({ connectionString: url("postgres") });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name}`);
        } finally {
          await c.end();
        }
        return url(name);
      },
      async close() {
        if (closed) return;
        closed = true;
        try {
          await stop();
        } finally {
          await tmp.remove();
        }
      },
    };
  } catch (e) {
    await stop().catch(() => undefined);
    await tmp.remove();
    throw e;
  }
}
