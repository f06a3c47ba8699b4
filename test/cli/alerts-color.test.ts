// `tcptrail alerts --color`: the shared flag (src/cli/flags.ts) with the same
// decision as observe and traces (a terminal only, not with NO_COLOR; always
// and never as they say), the severity coloured, JSON never. Alerts read back
// from a real nats-server's alerts stream through the command itself.
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AlertPublisher, formatAlertText } from "../../src/alert/mod.js";
import { registerAlerts } from "../../src/cli/commands/alerts.js";
import { Severity, v1 } from "../../src/model/mod.js";
import { painter, stripColor } from "../../src/query/mod.js";
import { setupNats, type NatsSetup } from "../helpers/mod.js";

const alert = (id: string, severity: Severity, explanation = "nothing listened") =>
  v1.Alert.create({ alertId: id, rule: "refused", severity, traceId: `t-${id}`, explanation, timeUs: Date.now() * 1000, count: 1, sourcePod: "tt-a", destination: "10.88.0.3:8080" });

let nats: NatsSetup;
beforeAll(async () => {
  nats = await setupNats();
  const pub = new AlertPublisher({ publish: (subject, data) => nats.js.publish(subject, data) });
  pub.send(alert("crit", Severity.SEVERITY_CRITICAL));
  pub.send(alert("warn", Severity.SEVERITY_WARNING));
  pub.send(alert("info", Severity.SEVERITY_INFO));
  await pub.drain();
}, 60_000);
afterAll(async () => {
  await nats?.close();
});

/** Runs `tcptrail alerts <args>` through commander, stdout captured, with stdout a TTY or not. */
async function cli(args: string[], tty: boolean, env: Record<string, string | undefined> = {}): Promise<string> {
  const program = new Command().exitOverride();
  registerAlerts(program);
  let out = "";
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const wasTty = process.stdout.isTTY;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  process.stdout.isTTY = tty;
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  try {
    await program.parseAsync(["alerts", "--nats", nats.server.url, "--since", "10m", ...args], { from: "user" });
  } finally {
    write.mockRestore();
    process.stdout.isTTY = wasTty;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return out;
}

const RED = "\x1b[31mCRITICAL\x1b[0m";
const YELLOW = "\x1b[33mWARNING\x1b[0m";
const UNSET = { NO_COLOR: undefined, TCPTRAIL_COLOR: undefined };

describe("alerts --color", () => {
  it("colours a terminal, not a pipe, not with NO_COLOR, always with --color always, never with never, and TCPTRAIL_COLOR", async () => {
    const tty = await cli([], true, UNSET);
    expect(tty.trim().split("\n")).toHaveLength(3);
    expect(tty).toContain(RED);
    expect(await cli([], false, UNSET)).not.toContain("\x1b");
    expect(await cli([], true, { NO_COLOR: "1", TCPTRAIL_COLOR: undefined })).not.toContain("\x1b");
    expect(await cli(["--color", "always"], false, { NO_COLOR: "1" })).toContain(RED);
    expect(await cli(["--color", "never"], true, UNSET)).not.toContain("\x1b");
    expect(await cli([], false, { NO_COLOR: undefined, TCPTRAIL_COLOR: "always" })).toContain(RED);
  });

  it("colours critical red and warning yellow, leaves info plain, and is the plain output without the colour", async () => {
    const plain = await cli(["--color", "never"], true);
    const coloured = await cli(["--color", "always"], true);
    expect(stripColor(coloured)).toBe(plain);
    const line = (id: string) => coloured.split("\n").find((l) => l.includes(`trace=t-${id} `))!;
    expect(line("crit")).toContain(` ${RED} refused `);
    // The padding stays outside the colour, so columns line up as in the plain output.
    expect(line("warn")).toContain(` ${YELLOW}  refused `);
    expect(line("info")).not.toContain("\x1b");
    expect(line("info")).toMatch(/ INFO {5}refused /);
  });

  it("never colours JSON", async () => {
    const json = await cli(["-o", "json", "--color", "always"], true);
    expect(json).not.toContain("\x1b");
    expect(json.trim().split("\n").map((l) => (JSON.parse(l) as { severity: string }).severity).sort()).toEqual(["critical", "info", "warning"]);
  });

  it("keeps escaping what came from the network: the only ESC bytes are the colour's", () => {
    const evil = v1.Alert.create({ ...alert("evil", Severity.SEVERITY_CRITICAL, "pod \x1b[2J said \x1b]0;t\x07"), sourcePod: "p\x1b[2Jx" });
    const coloured = formatAlertText(evil, { paint: painter(true) });
    expect(coloured).toContain("p\\x1b[2Jx → ");
    expect(coloured).toContain("pod \\x1b[2J said \\x1b]0;t\\x07");
    expect(coloured.match(/\x1b/g)).toHaveLength(2);
    expect(stripColor(coloured)).toBe(formatAlertText(evil));
    expect(formatAlertText(evil)).not.toContain("\x1b");
  });
});
