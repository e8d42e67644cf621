/**
 * A byte buffer that grows by doubling: what a whole body is gathered into,
 * so a body of N bytes costs O(N) memory however many pieces it came in (a
 * list of the pieces costs an object per piece: ~200 bytes for each byte of
 * a body sent in one-byte chunks).
 *
 * @module
 */

/** The first capacity of a buffer that was given no size. */
const MIN_CAPACITY = 1024;
/** The most bytes reserved up front for an announced size (a server may lie). */
const MAX_RESERVE = 16 * 1024 * 1024;

/** Bytes appended in pieces, given back as one array. */
export class GrowingBuffer {
  #bytes: Uint8Array<ArrayBuffer>;
  #length = 0;

  /**
   * Makes an empty buffer.
   *
   * @param expected How many bytes are expected, when known: reserved up
   * front, up to 16 MiB, so a body of a known length is never copied.
   */
  constructor(expected?: number) {
    const reserve = expected === undefined ? 0 : Math.min(expected, MAX_RESERVE);
    this.#bytes = new Uint8Array(reserve);
  }

  /** How many bytes have been appended. */
  get length(): number {
    return this.#length;
  }

  /**
   * Appends a copy of `data`.
   *
   * @param data The bytes; not kept.
   */
  append(data: Uint8Array): void {
    const need = this.#length + data.length;
    if (need > this.#bytes.length) {
      let capacity = Math.max(this.#bytes.length * 2, MIN_CAPACITY);
      while (capacity < need) capacity *= 2;
      // Grown in place where the allocator can, so the old and the new
      // buffer are rarely both alive: that halves the peak for a large body.
      this.#bytes = new Uint8Array(this.#bytes.buffer.transfer(capacity));
    }
    this.#bytes.set(data, this.#length);
    this.#length = need;
  }

  /**
   * Gives the bytes back as an array of their own (a whole `ArrayBuffer`,
   * no spare room) and empties the buffer.
   *
   * @returns The bytes.
   */
  take(): Uint8Array {
    const bytes = this.#bytes;
    const length = this.#length;
    this.#bytes = new Uint8Array(0);
    this.#length = 0;
    if (bytes.length === length) return bytes;
    // Drops the spare room: in place where the runtime can, else one copy.
    return new Uint8Array(bytes.buffer.transfer(length));
  }
}
