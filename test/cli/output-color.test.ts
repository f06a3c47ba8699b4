// issue 13 part 5: one set of output names and one --color across commands,
// colour decided by where stdout goes, and escaping kept under the colour.
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { useColor } from "../../src/cli/color.js";
import { registerCommands } from "../../src/cli/commands/mod.js";
import { COLOR_MODES, OUTPUT_FORMATS } from "../../src/cli/flags.js";
import { EventKind, ResetReason, Role, TcpState, type ConnEventInit } from "../../src/model/mod.js";
import { formatCompact } from "../../src/observe/mod.js";
import { painter, stripColor } from "../../src/query/mod.js";
import { formatColumns } from "../../src/query/columns.js";
import { decodeBatch, encodeBatch } from "../../src/transport/mod.js";

const ev = (p: Partial<ConnEventInit>) =>
  decodeBatch(encodeBatch({ node: "n", bootId: "b", agentStartUs: 1 }, [{ seq: 1, timeUs: 1_700_000_000_000_000, tsNs: 5_000_000_000n, ...p }])).events[0]!;

describe("useColor", () => {
  it("auto: a terminal without NO_COLOR only; always and never as they say", () => {
    expect(useColor("auto", { isTTY: true }, {})).toBe(true);
    expect(useColor("auto", { isTTY: false }, {})).toBe(false);
    expect(useColor("auto", {}, {})).toBe(false);
    expect(useColor("auto", { isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(useColor("auto", { isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(useColor("always", { isTTY: false }, { NO_COLOR: "1" })).toBe(true);
    expect(useColor("never", { isTTY: true }, {})).toBe(false);
  });
});

describe("observe's compact line in colour", () => {
  const reset = ev({
    kind: EventKind.EVENT_KIND_RESET_SENT,
    pod: "p\x1b[2Jx",
    local: { ip: "10.0.0.1", port: 80 },
    remote: { ip: "10.0.0.2", port: 5000 },
    resetReason: ResetReason.RESET_REASON_NO_SOCKET,
    owner: { pid: 7, tid: 7, comm: "evil\x1b]0;t\x07" },
    role: Role.ROLE_APP,
  });
  const fin = ev({ kind: EventKind.EVENT_KIND_STATE_CHANGE, pod: "p", oldState: TcpState.TCP_STATE_ESTABLISHED, newState: TcpState.TCP_STATE_CLOSE_WAIT });

  it("paints RST red and FIN yellow, and is the plain line without the colour", () => {
    const coloured = formatCompact("n", reset, { paint: painter(true) });
    expect(coloured).toContain(" \x1b[31mRESET_SENT\x1b[0m ");
    expect(stripColor(coloured)).toBe(formatCompact("n", reset));
    expect(formatCompact("n", fin, { paint: painter(true) })).toContain(" \x1b[33mSTATE_CHANGE\x1b[0m ");
  });

  it("keeps escaping what came from the kernel: the only ESC bytes are the colour's", () => {
    const coloured = formatCompact("n", reset, { paint: painter(true) });
    expect(coloured).toContain("n/p\\x1b[2Jx");
    expect(coloured).toContain("evil\\x1b]0;t\\x07");
    expect(coloured.match(/\x1b/g)).toHaveLength(2);
    expect(formatCompact("n", reset)).not.toContain("\x1b");
  });

  it("column widths count what the terminal shows", () => {
    const red = painter(true)("bad", "RST");
    expect(formatColumns([[red, "x"], ["FIN_WAIT", "y"]])).toBe(`${red}       x\nFIN_WAIT  y`);
  });
});

describe("the commands' -o and --color", () => {
  const program = new Command();
  registerCommands(program);
  const cmd = (name: string) => program.commands.find((c) => c.name() === name)!;
  const opt = (name: string, long: string) => cmd(name).options.find((o) => o.long === long);

  it("offer compact, table and json where they can, and say in --help why not where they cannot", () => {
    expect(opt("traces", "--output")!.argChoices).toEqual([...OUTPUT_FORMATS]);
    expect(opt("timeline", "--output")!.argChoices).toEqual([...OUTPUT_FORMATS]);
    expect(opt("why", "--output")!.argChoices).toEqual([...OUTPUT_FORMATS]);
    for (const stream of ["observe", "alerts"]) {
      expect(opt(stream, "--output")!.argChoices).toEqual(["compact", "json"]);
      expect(cmd(stream).helpInformation().replace(/\s+/g, " ")).toMatch(/no table: a stream of \w+ has no last row/);
    }
  });

  it("have --color, the same one, where they print compact or table output in colour", () => {
    for (const name of ["observe", "traces", "timeline", "why", "alerts"]) {
      const o = opt(name, "--color")!;
      expect(o.argChoices, name).toEqual([...COLOR_MODES]);
      expect(o.defaultValue, name).toBe("auto");
      expect(o.envVar, name).toBe("TCPTRAIL_COLOR");
    }
  });

  it("traces has -f", () => {
    expect(opt("traces", "--follow")?.short).toBe("-f");
  });
});
