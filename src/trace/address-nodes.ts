// Which node an address lives on, learned from the local addresses of traced
// sockets: a connection whose end at such an address was not seen may still
// be waiting in that node's events (its agent stalled), so its trace waits
// for that node's clock (stitcher.ts). Addresses are StringTable ids.

/** Sockets of two different nodes had this address (loopback, a moved pod IP): no single node. */
const SEVERAL = -1;

export class AddressNodes {
  /** address id → node index, SEVERAL when nodes disagree. */
  readonly #nodes = new Map<number, number>();

  /** A traced socket of node `node` was bound to `ip`. */
  note(ip: number, node: number): void {
    const known = this.#nodes.get(ip);
    if (known === undefined) this.#nodes.set(ip, node);
    else if (known !== node) this.#nodes.set(ip, SEVERAL);
  }

  /** The one node seen with `ip`, else -1. */
  nodeOf(ip: number): number {
    const n = this.#nodes.get(ip);
    return n === undefined || n === SEVERAL ? -1 : n;
  }
}
