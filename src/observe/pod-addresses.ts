// `--to-pod` and `--pod` need the pod at an event's remote end, and events
// carry only its address. The stream says which pod owns an address: every
// socket's local address is in the socket's pod. So observe learns the
// address book from the events it reads (all of them, also those filtered
// out), and a remote end on loopback is the socket's own pod (same netns).
// An address not yet seen as anyone's local end (a pod on a node whose events
// this observe does not read, a peer outside the mesh) has no pod.
import { isIP } from "node:net";
import type { ConnEvent } from "../model/mod.js";

/** Addresses remembered at most; the least recently seen are forgotten first. */
export const DEFAULT_MAX_POD_ADDRESSES = 65_536;

const isLoopback = (ip: string): boolean => ip === "::1" || (isIP(ip) === 4 && ip.startsWith("127.")) || ip.startsWith("::ffff:127.");
// A listener bound to the wildcard tells nothing about whose address it is.
const isUnspecified = (ip: string): boolean => ip === "0.0.0.0" || ip === "::";

type Ends = Pick<ConnEvent, "pod" | "local" | "remote">;

export class PodAddresses {
  readonly #max: number;
  readonly #podByIp = new Map<string, string>();

  constructor(maxAddresses = DEFAULT_MAX_POD_ADDRESSES) {
    this.#max = maxAddresses;
  }

  /** Learns the local address of the event's socket, when it names a pod. */
  learn(ev: Ends): void {
    const ip = ev.local?.ip;
    if (!ev.pod || !ip || isLoopback(ip) || isUnspecified(ip)) return;
    // Re-inserted so the Map's order is the order of last sight: an IP
    // reused by a new pod takes the new name.
    this.#podByIp.delete(ip);
    this.#podByIp.set(ip, ev.pod);
    if (this.#podByIp.size > this.#max) this.#podByIp.delete(this.#podByIp.keys().next().value!);
  }

  /** The pod at the event's remote end, or undefined when it is not known. */
  remotePod(ev: Ends): string | undefined {
    const ip = ev.remote?.ip;
    if (!ip) return undefined;
    if (isLoopback(ip)) return ev.pod || undefined;
    return this.#podByIp.get(ip);
  }
}
