// `tcptrail agent` (and run, which shares its agent flags) offers the pod
// resolver choice and the CRI socket, and hands them to the agent service.
import { Command } from "commander";
import { describe, expect, test } from "vitest";
import { DEFAULT_CRI_SOCKETS, DEFAULT_POD_RESOLVER_MODE, POD_RESOLVER_MODES } from "../../../src/agent/cri/mod.js";
import { agentSettings, type AgentCliOptions } from "../../../src/cli/commands/agent.js";
import { registerCommands } from "../../../src/cli/commands/mod.js";

function command(name: string): Command {
  const program = new Command();
  registerCommands(program);
  const cmd = program.commands.find((c) => c.name() === name);
  if (!cmd) throw new Error(`no ${name} command`);
  return cmd;
}

function parsed(name: string, args: string[]): AgentCliOptions {
  const cmd = command(name);
  cmd.exitOverride();
  cmd.action(() => undefined);
  cmd.parse(args, { from: "user" });
  return cmd.opts<AgentCliOptions>();
}

describe("--pod-resolver and --cri-socket", () => {
  test.each(["agent", "run"])("%s --help shows the choices, the default and the sockets tried", (name) => {
    // Commander wraps to its column width: compare with whitespace folded.
    const help = command(name).helpInformation().replace(/\s+/g, " ");
    expect(help).toContain("--pod-resolver <how>");
    expect(help).toContain(`choices: ${POD_RESOLVER_MODES.map((m) => `"${m}"`).join(", ")}`);
    expect(help).toContain(`default: "${DEFAULT_POD_RESOLVER_MODE}"`);
    expect(help).toContain("--cri-socket <path>");
    // The help names the sockets the resolver really tries, in its order.
    expect(help).toContain(DEFAULT_CRI_SOCKETS.join(", then "));
  });

  test("reach the agent service's settings; an unknown mode is refused", () => {
    expect(agentSettings(parsed("agent", [])).podResolver).toEqual({ mode: "auto" });
    expect(agentSettings(parsed("agent", ["--pod-resolver", "cri", "--cri-socket", "/x/cri.sock"])).podResolver).toEqual({ mode: "cri", criSocket: "/x/cri.sock" });
    expect(() => parsed("agent", ["--pod-resolver", "kubelet"])).toThrow(/kubelet/);
  });
});
