// A FIFO of (slot, generation, time) triples in typed arrays: dead sockets
// waiting for their linger to expire, traces waiting to settle. The generation
// lets a consumer skip entries whose slot was freed and reused meanwhile.

export class SlotQueue {
  #slot = new Int32Array(64);
  #gen = new Uint32Array(64);
  #time = new Float64Array(64);
  #head = 0;
  #tail = 0;

  get length(): number {
    return this.#tail - this.#head;
  }

  push(slot: number, gen: number, time: number): void {
    if (this.#tail === this.#slot.length) this.#makeRoom();
    this.#slot[this.#tail] = slot;
    this.#gen[this.#tail] = gen;
    this.#time[this.#tail] = time;
    this.#tail++;
  }

  /** Head entry's fields; only valid when length > 0. */
  peekSlot(): number {
    return this.#slot[this.#head]!;
  }
  peekGen(): number {
    return this.#gen[this.#head]!;
  }
  peekTime(): number {
    return this.#time[this.#head]!;
  }

  shift(): void {
    this.#head++;
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
  }

  #makeRoom(): void {
    const n = this.#tail - this.#head;
    // Slide down when at least half is consumed, otherwise double.
    const cap = n * 2 <= this.#slot.length ? this.#slot.length : this.#slot.length * 2;
    const slot = new Int32Array(cap);
    const gen = new Uint32Array(cap);
    const time = new Float64Array(cap);
    slot.set(this.#slot.subarray(this.#head, this.#tail));
    gen.set(this.#gen.subarray(this.#head, this.#tail));
    time.set(this.#time.subarray(this.#head, this.#tail));
    this.#slot = slot;
    this.#gen = gen;
    this.#time = time;
    this.#head = 0;
    this.#tail = n;
  }
}
