// Sockets by the client's endpoint of their connection: a client socket by its
// local address, a server socket (and a refusal) by its remote address. Both
// ends of a hop land on the same key, whether or not NAT rewrote the server's
// side. Chains run through the table's `next` column, so an entry costs one
// Map slot and no array.
import { NONE, type SocketTable } from "./socket-table.js";

/** ip id (interned) and port as one number: small ids keep it a V8 Smi. */
export function endpointKey(ipId: number, port: number): number {
  return ipId * 65536 + port;
}

export class EndpointIndex {
  readonly #t: SocketTable;
  readonly #heads = new Map<number, number>();

  constructor(table: SocketTable) {
    this.#t = table;
  }

  get size(): number {
    return this.#heads.size;
  }

  first(key: number): number {
    return this.#heads.get(key) ?? NONE;
  }

  add(slot: number, key: number): void {
    const head = this.#heads.get(key);
    this.#t.next[slot] = head ?? NONE;
    this.#heads.set(key, slot);
  }

  remove(slot: number, key: number): void {
    const t = this.#t;
    let prev = NONE;
    let s = this.#heads.get(key) ?? NONE;
    while (s !== NONE && s !== slot) {
      prev = s;
      s = t.next[s]!;
    }
    if (s === NONE) return;
    const nxt = t.next[s]!;
    if (prev === NONE) {
      if (nxt === NONE) this.#heads.delete(key);
      else this.#heads.set(key, nxt);
    } else t.next[prev] = nxt;
    t.next[s] = NONE;
  }
}
