// Pods as named network namespaces on one bridge in the root namespace.
// The bridge has no address and pods have no default route: the only thing a
// pod can reach is the connected subnet, i.e. the other pods.
import { readFile } from "node:fs/promises";
import { LabCommandError, LabOptionError } from "./errors.js";
import { run } from "./exec.js";
import { sleep } from "./processes.js";
import type { PodState } from "./state-file.js";

/** Linux interface names are at most IFNAMSIZ-1 = 15 bytes. */
const IFNAME_MAX = 15;
const POD_NAME = /^[a-z0-9]+$/;
const PREFIX = /^[a-z0-9-]{1,8}$/;

export interface PodPlanOptions {
  prefix: string;
  pods: readonly string[];
  plainPods: readonly string[];
  /** An IPv4 /24 ("10.88.0.0/24"): pod i gets .(i+2). */
  subnet: string;
}

export function bridgeName(prefix: string): string {
  return `${prefix}br0`;
}

export function planPods(o: PodPlanOptions): PodState[] {
  if (!PREFIX.test(o.prefix)) throw new LabOptionError(`prefix "${o.prefix}" must be 1-8 of [a-z0-9-]`, { property: "prefix" });
  const base = parseSubnet24(o.subnet);
  if (o.pods.length === 0 || o.pods.length > 200) throw new LabOptionError("between 1 and 200 pods", { property: "pods" });
  if (new Set(o.pods).size !== o.pods.length) throw new LabOptionError(`duplicate pod in ${o.pods.join(",")}`, { property: "pods" });
  for (const p of o.plainPods) {
    if (!o.pods.includes(p)) throw new LabOptionError(`plain pod "${p}" is not one of the pods ${o.pods.join(",")}`, { property: "plainPods" });
  }
  return o.pods.map((name, i) => {
    if (!POD_NAME.test(name)) throw new LabOptionError(`pod name "${name}" must be [a-z0-9]+`, { property: "pods" });
    const netns = `${o.prefix}${name}`;
    const hostVeth = `${netns}-v`;
    if (hostVeth.length > IFNAME_MAX) throw new LabOptionError(`pod name "${netns}" too long for an interface name`, { property: "pods" });
    return { name, netns, ip: `${base}.${i + 2}`, prefixLen: 24, meshed: !o.plainPods.includes(name), hostVeth };
  });
}

/** "10.88.7.0/24" → "10.88.7". Only /24s: enough pods, and no arithmetic to get wrong. */
export function parseSubnet24(subnet: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(subnet);
  if (!m || m.slice(1, 4).some((x) => Number(x) > 255)) {
    throw new LabOptionError(`subnet "${subnet}" must be an IPv4 /24 like 10.88.0.0/24`, { property: "subnet" });
  }
  return `${m[1]}.${m[2]}.${m[3]}`;
}

export async function netnsExists(netns: string): Promise<boolean> {
  const r = await run("ip", ["netns", "list"]);
  return r.stdout.split("\n").some((l) => l.split(" ")[0] === netns);
}

export async function linkExists(name: string): Promise<boolean> {
  return (await run("ip", ["link", "show", "dev", name], { allowFailure: true })).ok;
}

export async function createBridge(name: string): Promise<void> {
  await run("ip", ["link", "add", name, "type", "bridge"]);
  await disableIpv6(name);
  await run("ip", ["link", "set", name, "up"]);
}

/** Create the netns with lo up, and its veth pair (pod end eth0 with the pod address, host end on the bridge). */
export async function createPod(pod: PodState, bridge: string): Promise<void> {
  await run("ip", ["netns", "add", pod.netns]);
  // IPv4 only: no router solicitations or DAD traffic in the captures.
  await run("sysctl", ["-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], {
    netns: pod.netns,
  });
  await run("ip", ["-n", pod.netns, "link", "set", "lo", "up"]);
  await run("ip", ["link", "add", pod.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", pod.netns]);
  await disableIpv6(pod.hostVeth);
  await run("ip", ["link", "set", pod.hostVeth, "master", bridge, "up"]);
  await run("ip", ["-n", pod.netns, "addr", "add", `${pod.ip}/${pod.prefixLen}`, "dev", "eth0"]);
  await run("ip", ["-n", pod.netns, "link", "set", "eth0", "up"]);
}

/** Apply an iptables-restore text to the pod's tables (atomic per table). */
export async function applyIptables(netns: string, rules: string): Promise<void> {
  await run("iptables-restore", [], { netns, input: rules });
}

/** Remove the pod's netns (its veth pair and iptables rules go with it). Idempotent. */
export async function deletePod(pod: Pick<PodState, "netns" | "hostVeth">): Promise<void> {
  if (await netnsExists(pod.netns)) await run("ip", ["netns", "delete", pod.netns]);
  // The kernel dismantles a netns (and so the veth pair) asynchronously: give it
  // a moment, then remove a host end that stays (its pod end was never moved in).
  for (let i = 0; i < 50 && (await linkExists(pod.hostVeth)); i++) await sleep(20);
  if (await linkExists(pod.hostVeth)) {
    const r = await run("ip", ["link", "delete", pod.hostVeth], { allowFailure: true });
    if (!r.ok && (await linkExists(pod.hostVeth))) throw LabCommandError.failed(`ip link delete ${pod.hostVeth}`, r.stderr);
  }
}

export async function deleteBridge(name: string): Promise<void> {
  if (await linkExists(name)) await run("ip", ["link", "delete", name, "type", "bridge"]);
}

async function disableIpv6(ifname: string): Promise<void> {
  await run("sysctl", ["-q", "-w", `net.ipv6.conf.${ifname}.disable_ipv6=1`], { allowFailure: true });
}

/** "1" when bridged IPv4 frames traverse the root namespace's iptables (br_netfilter loaded). */
export async function bridgeNetfilterSetting(): Promise<string | undefined> {
  try {
    return (await readFile("/proc/sys/net/bridge/bridge-nf-call-iptables", "utf8")).trim();
  } catch {
    return undefined;
  }
}
