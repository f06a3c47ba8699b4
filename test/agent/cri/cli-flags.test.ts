// `tcptrail agent` (and run, which shares its agent flags) offers the pod
// resolver choice, the CRI socket and the sidecar's container names, and
// hands them to the agent service.
import { Command } from "commander";
import { describe, expect, test } from "vitest";
import { DEFAULT_CRI_SOCKETS, DEFAULT_POD_RESOLVER_MODE, DEFAULT_SIDECAR_CONTAINER_NAMES, POD_RESOLVER_MODES } from "../../../src/agent/cri/mod.js";
import { DEFAULT_SIDECAR_CONTAINERS_FLAG, agentSettings, type AgentCliOptions } from "../../../src/cli/commands/agent.js";
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
    expect(agentSettings(parsed("agent", [])).podResolver).toEqual({ mode: "auto", sidecarContainers: ["istio-proxy"] });
    expect(agentSettings(parsed("agent", ["--pod-resolver", "cri", "--cri-socket", "/x/cri.sock"])).podResolver).toEqual({
      mode: "cri",
      criSocket: "/x/cri.sock",
      sidecarContainers: ["istio-proxy"],
    });
    expect(() => parsed("agent", ["--pod-resolver", "kubelet"])).toThrow(/kubelet/);
  });
});

describe("--sidecar-containers", () => {
  test.each(["agent", "run"])("%s --help says what it does and its default, the resolver's", (name) => {
    const help = command(name).helpInformation().replace(/\s+/g, " ");
    expect(help).toContain("--sidecar-containers <names>");
    expect(help).toContain("even when they do not run as --sidecar-uid");
    expect(help).toContain(`(default: ${DEFAULT_SIDECAR_CONTAINER_NAMES.join(",")})`);
    // The CLI repeats the default (its --help loads no gRPC): held equal here.
    expect(DEFAULT_SIDECAR_CONTAINERS_FLAG).toEqual(DEFAULT_SIDECAR_CONTAINER_NAMES);
  });

  test("a list of names, none for off; a name Kubernetes would refuse is a usage error", () => {
    expect(parsed("agent", ["--sidecar-containers", "istio-proxy, linkerd-proxy"]).sidecarContainers).toEqual(["istio-proxy", "linkerd-proxy"]);
    expect(parsed("run", ["--sidecar-containers", "none"]).sidecarContainers).toEqual([]);
    expect(parsed("agent", ["--sidecar-containers", ""]).sidecarContainers).toEqual([]);
    expect(() => parsed("agent", ["--sidecar-containers", "istio-proxy,Envoy_1"])).toThrow(/Envoy_1/);
  });
});
