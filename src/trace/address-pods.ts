// Which pod an address belongs to, learned from the local addresses of traced
// sockets. It answers "is this address traced territory?" (an end there should
// have been seen) and "whose address sent this RST?" when no socket did.
// Addresses and pods are StringTable ids (0 = "").

/** Sockets of two different pods had this address (loopback, host network): no single pod. */
const SEVERAL = -1;

export class AddressPods {
  /** address id → pod id, 0 while no socket there named its pod, SEVERAL when they disagree. */
  readonly #pods = new Map<number, number>();

  /** A traced socket of `pod` (0 when unknown) was bound to `ip`. */
  note(ip: number, pod: number): void {
    const known = this.#pods.get(ip);
    if (known === undefined || known === 0) this.#pods.set(ip, pod);
    else if (pod !== 0 && known !== pod) this.#pods.set(ip, SEVERAL);
  }

  has(ip: number): boolean {
    return this.#pods.has(ip);
  }

  /** The one pod seen at `ip`, else 0 (never seen, unnamed, or several pods). */
  podOf(ip: number): number {
    const p = this.#pods.get(ip) ?? 0;
    return p === SEVERAL ? 0 : p;
  }

  get size(): number {
    return this.#pods.size;
  }
}
