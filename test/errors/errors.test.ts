// One error pattern across tcptrail: every error class a module exports is a
// TcptrailError built as (message, options?), with one stable code of the
// form ERR_<AREA>_<KIND> no other class shares, its own class name as `name`,
// the cause it was given, and an isXxxError guard next to it. The classes are
// found by walking what each module's public surface exports, so a new error
// class is held to this without anyone adding it here.
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TcptrailError } from "../../src/errors/mod.js";

const SRC = fileURLToPath(new URL("../../src", import.meta.url));

/** Each folder's public surface (its mod.ts, one or two levels down, like query/server); the CLI, which has none, by its errors.ts. */
function surfaces(): string[] {
  const found: string[] = [join(SRC, "cli", "errors.ts")];
  const walk = (dir: string, depth: number): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === "gen") continue;
      const sub = join(dir, entry.name);
      if (existsSync(join(sub, "mod.ts"))) found.push(join(sub, "mod.ts"));
      if (depth < 2) walk(sub, depth + 1);
    }
  };
  walk(SRC, 1);
  return found;
}

type ErrorClass = new (message: string, options?: Record<string, unknown>) => Error;

interface Exported {
  cls: ErrorClass;
  /** Where it was found, for the failure message. */
  module: string;
  /** Every export of that module, to find its guard. */
  exports: Record<string, unknown>;
}

const isErrorClass = (v: unknown): v is ErrorClass => typeof v === "function" && v.prototype instanceof Error;

const byClass = new Map<ErrorClass, Exported>();
for (const file of surfaces()) {
  const exports = (await import(file)) as Record<string, unknown>;
  for (const v of Object.values(exports)) {
    // The base itself is what the others are checked against.
    if (isErrorClass(v) && v !== (TcptrailError as unknown) && !byClass.has(v)) byClass.set(v, { cls: v, module: file.slice(SRC.length + 1), exports });
  }
}
const classes = [...byClass.values()];

// What the classes' options objects need between them: a class whose
// constructor reads an option missing here fails below, and then it belongs here.
const OPTIONS = {
  property: "someOption",
  source: "rules.yaml",
  retryable: false,
  command: "ip link",
  stderr: "boom",
  url: "nats://127.0.0.1:1",
  binary: "nats-server",
  status: 500,
  error: "INTERNAL",
  value: "bogus",
  expected: "a duration",
  limit: 1,
  tracepoint: "tcp:tcp_send_reset",
  path: "/tmp/x.db",
  found: 2,
  supported: 1,
  param: "cursor",
};

function make(cls: ErrorClass, cause: unknown): Error & { code?: unknown } {
  return new cls("the message", { ...OPTIONS, cause });
}

/** Classes that another exported error class extends: an area base (PreflightError) may leave `code` to its subclasses. */
const isBase = (cls: ErrorClass): boolean => classes.some((o) => o.cls !== cls && o.cls.prototype instanceof cls);

describe("the error classes tcptrail exports", () => {
  it("are found in the modules' public surfaces (the walk sees them)", () => {
    const names = classes.map((c) => c.cls.name);
    // One from each end of the pipeline and the base's own helper: an empty or partial walk fails here.
    expect(names).toEqual(expect.arrayContaining(["InvalidArgumentError", "MalformedMessageError", "AlertRuleError", "UsageError"]));
    expect(classes.length).toBeGreaterThan(20);
  });

  it.each(classes.map((c) => [c.cls.name, c] as const))("%s extends TcptrailError, keeps its name, message and cause", (name, { cls, module }) => {
    expect(cls.prototype instanceof TcptrailError, `${name} (${module}) must extend TcptrailError`).toBe(true);
    const cause = new Error("underneath");
    const e = make(cls, cause);
    expect(e.name).toBe(name);
    expect(e.cause).toBe(cause);
    // Some kinds prefix where it happened (AlertRuleError: the file and rule); none drop the message.
    expect(e.message).toContain("the message");
  });

  it.each(classes.map((c) => [c.cls.name, c] as const))("%s has an ERR_ code, or is an area base of classes that do", (name, { cls }) => {
    const code = make(cls, undefined).code;
    if (code === undefined && isBase(cls)) return;
    expect(code, name).toMatch(/^ERR_[A-Z]+(_[A-Z]+)+$|^ERR_INVALID_ARGUMENT$/);
  });

  it.each(classes.map((c) => [c.cls.name, c] as const))("%s has its isXxxError guard beside it, telling it from other errors", (name, { cls, exports, module }) => {
    const guard = exports[`is${name}`];
    expect(typeof guard, `${module} exports is${name}`).toBe("function");
    const isIt = guard as (e: unknown) => boolean;
    expect(isIt(make(cls, undefined))).toBe(true);
    expect(isIt(new Error("the message"))).toBe(false);
  });

  it("no two classes share a code", () => {
    const owners = new Map<string, string[]>();
    for (const { cls } of classes) {
      const code = make(cls, undefined).code;
      if (typeof code !== "string") continue;
      owners.set(code, [...(owners.get(code) ?? []), cls.name]);
    }
    const shared = [...owners].filter(([, names]) => names.length > 1);
    expect(shared).toEqual([]);
  });
});
