// Which hosts and addresses are this machine's loopback: what the API may
// listen on without a token, and what a Host header may name. Addresses are
// compared through net.BlockList, so every spelling of one address matches
// (::1 and 0:0:0:0:0:0:0:1, 127.0.0.1 and ::ffff:127.0.0.1).
import { BlockList, isIP } from "node:net";

/** The loopback name; other names are looked up in DNS, which an attacker may control. */
export const LOOPBACK_NAME = "localhost";

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

const familyOf = (address: string): "ipv4" | "ipv6" | undefined => {
  const v = isIP(address);
  return v === 4 ? "ipv4" : v === 6 ? "ipv6" : undefined;
};

/** A host name as compared: lower case, without the root's trailing dot ("LocalHost." is localhost). */
export const normalHostName = (name: string): string => name.toLowerCase().replace(/\.$/, "");

/** An IP literal in 127.0.0.0/8 or ::1 (IPv4-mapped included). Names are not addresses: false. */
export function isLoopbackAddress(address: string): boolean {
  const family = familyOf(address);
  return family !== undefined && LOOPBACK.check(address, family);
}

/** "localhost" or a loopback IP literal. */
export const isLoopbackHost = (host: string): boolean => normalHostName(host) === LOOPBACK_NAME || isLoopbackAddress(host);

/** 0.0.0.0 or :: in any spelling: every address of the machine. */
export function isWildcardAddress(address: string): boolean {
  const family = familyOf(address);
  if (!family) return false;
  const any = new BlockList();
  any.addAddress(family === "ipv4" ? "0.0.0.0" : "::", family);
  return any.check(address, family);
}

/** Two IP literals naming the same address; false when either is not an address. */
export function sameAddress(a: string, b: string): boolean {
  const fa = familyOf(a);
  const fb = familyOf(b);
  if (!fa || !fb) return false;
  const list = new BlockList();
  list.addAddress(a, fa);
  return list.check(b, fb);
}
