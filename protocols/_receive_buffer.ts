// The unparsed bytes of a framing receiver, kept without re-concatenating per
// message: parsers scan `bytes` from `start` with an offset and consume by
// moving `start` forward.
//
// While a call to `dataReceived` runs, `bytes` is usually the caller's own
// chunk (no copy at all). When the call ends, `retain()` copies only the
// unconsumed tail into storage this buffer owns, which then grows by doubling,
// so a message arriving one byte at a time costs amortised O(1) per byte.
//
// Owned storage is never exposed while it may still be written to: bytes handed
// to user code are either a view of the caller's chunk, a view of storage that
// is then given away (forgotten, never written again), or a copy.

const EMPTY: Uint8Array = new Uint8Array(0);

/** Owned storage above this size is dropped once the buffer is empty. */
const KEEP_AT_MOST = 64 * 1024;

/** The unconsumed bytes of a receiver: `bytes[start .. bytes.length)`. */
export class ReceiveBuffer {
  /** The bytes; only `[start, bytes.length)` are live. Re-read after user code runs. */
  bytes: Uint8Array = EMPTY;
  /** Where the live bytes begin. Parsers advance it to consume. */
  start: number = 0;
  #storage: Uint8Array = EMPTY;
  #owned: boolean = false;

  /** How many bytes are live. */
  get size(): number {
    return this.bytes.length - this.start;
  }

  /** Adds bytes at the end; the buffer may keep a view of `data` until `retain()`. */
  append(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    const end = this.bytes.length;
    const live = end - this.start;
    if (live === 0) {
      this.bytes = data;
      this.start = 0;
      this.#owned = false;
      return;
    }
    if (this.#owned && end + n <= this.#storage.length) {
      this.#storage.set(data, end);
      this.bytes = this.#storage.subarray(0, end + n);
      return;
    }
    this.#rebase(live + n);
    this.#storage.set(data, live);
    this.bytes = this.#storage.subarray(0, live + n);
  }

  /** Makes the live bytes independent of any chunk passed to `append`. */
  retain(): void {
    const live = this.bytes.length - this.start;
    if (live === 0) {
      this.clear();
      if (this.#storage.length > KEEP_AT_MOST) this.#storage = EMPTY;
    } else if (!this.#owned) {
      this.#rebase(live);
      this.bytes = this.#storage.subarray(0, live);
    }
  }

  /** Forgets the live bytes. */
  clear(): void {
    this.bytes = EMPTY;
    this.start = 0;
    this.#owned = false;
  }

  /** Returns the live bytes, which the caller may keep, and empties the buffer. */
  takeAll(): Uint8Array {
    const out = this.bytes.subarray(this.start);
    if (this.#owned) this.#storage = EMPTY; // given away: never written again
    this.clear();
    return out;
  }

  /**
   * Returns the next `length` live bytes, which the caller may keep, and
   * consumes them plus `skip` more.
   */
  consume(length: number, skip: number): Uint8Array {
    const from = this.start;
    const to = from + length;
    if (!this.#owned) {
      this.start = to + skip;
      return this.bytes.subarray(from, to);
    }
    if (to + skip >= this.bytes.length) {
      const out = this.bytes.subarray(from, to);
      this.#storage = EMPTY;
      this.clear();
      return out;
    }
    this.start = to + skip;
    return this.bytes.slice(from, to);
  }

  /** Returns `bytes[from, to)` as bytes the caller may keep, consuming nothing. */
  copy(from: number, to: number): Uint8Array {
    return this.#owned ? this.bytes.slice(from, to) : this.bytes.subarray(from, to);
  }

  // Moves the live bytes to the front of owned storage with room for `needed`.
  #rebase(needed: number): void {
    const live = this.bytes.subarray(this.start);
    if (this.#storage.length >= needed) {
      if (this.#owned) this.#storage.copyWithin(0, this.start, this.bytes.length);
      else this.#storage.set(live, 0);
    } else {
      const grown = new Uint8Array(Math.max(needed, this.#storage.length * 2, 256));
      grown.set(live, 0);
      this.#storage = grown;
    }
    this.start = 0;
    this.#owned = true;
    this.bytes = this.#storage.subarray(0, live.length);
  }
}

/** How many bytes `indexOfByte` scans in JavaScript before calling `indexOf`. */
const SHORT_SCAN = 256;

/**
 * `bytes.indexOf(byte, from)`, faster for short distances: a JIT-compiled loop
 * costs about a third of a nanosecond per byte, while each native `indexOf`
 * call costs tens of nanoseconds, so the loop wins for typical line lengths
 * and `indexOf` takes over for long ones.
 */
export function indexOfByte(bytes: Uint8Array, byte: number, from: number): number {
  const n = bytes.length;
  const stop = Math.min(n, from + SHORT_SCAN);
  for (let i = from; i < stop; i++) if (bytes[i] === byte) return i;
  return stop < n ? bytes.indexOf(byte, stop) : -1;
}

/**
 * Finds the first `delimiter` in `bytes` at or after `from`: its first byte
 * is located with `indexOfByte`, the rest compared in place.
 */
export function indexOfDelimiter(bytes: Uint8Array, delimiter: Uint8Array, from: number): number {
  const first = delimiter[0];
  const dl = delimiter.length;
  if (dl === 1) return indexOfByte(bytes, first, from);
  const last = bytes.length - dl;
  while (from <= last) {
    const i = indexOfByte(bytes, first, from);
    if (i < 0 || i > last) return -1;
    let k = 1;
    while (k < dl && bytes[i + k] === delimiter[k]) k++;
    if (k === dl) return i;
    from = i + 1;
  }
  return -1;
}

/** Encodes a string as UTF-8, or returns bytes as they are. */
export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

const encoder = new TextEncoder();

/**
 * The one decoder every line receiver shares: invalid UTF-8 becomes U+FFFD
 * (never an exception), and a byte-order mark is kept as data.
 */
export const lineDecoder: TextDecoder = new TextDecoder("utf-8", {
  fatal: false,
  ignoreBOM: true,
});

/** How far ahead `LineScanner` decodes at once, in bytes. */
const DECODE_WINDOW = 16 * 1024;

/**
 * Finds and decodes lines, cheaply. The first search in a chunk decodes a
 * window of whole lines ahead with one call; when that window is pure ASCII
 * (and so is the delimiter), delimiters are searched in the decoded text and
 * lines are slices of it, since byte offsets are then character offsets.
 * Otherwise delimiters are searched in the bytes and each line is decoded on
 * its own with `lineDecoder`; the results are the same either way. (A slice
 * may share the window's memory in V8, so a line kept for long can hold up to
 * `DECODE_WINDOW` bytes of text alive: a bounded cost for a 3x speed-up.)
 */
export class LineScanner {
  #bytes: Uint8Array | null = null;
  #from: number = 0;
  #to: number = 0;
  #text: string = "";
  #ascii: boolean = false;
  #delimiter: Uint8Array | null = null;
  #delimiterText: string | null = null;

  /**
   * Finds the first `delimiter` in `bytes` at or after `from`, for a line that
   * starts at `start`. The bytes must not change until `reset()`, except by
   * appending through a new array.
   *
   * @returns Its index, or -1.
   */
  find(bytes: Uint8Array, delimiter: Uint8Array, start: number, from: number): number {
    if (delimiter !== this.#delimiter) {
      this.#delimiter = delimiter;
      this.#delimiterText = delimiter.every((b) => b < 0x80)
        ? String.fromCharCode(...delimiter)
        : null;
    }
    const delimiterText = this.#delimiterText;
    if (delimiterText === null) return indexOfDelimiter(bytes, delimiter, from);
    if (bytes !== this.#bytes || start < this.#from || from >= this.#to) {
      this.#fill(bytes, start, delimiter[delimiter.length - 1]);
    }
    if (!this.#ascii || from < this.#from) return indexOfDelimiter(bytes, delimiter, from);
    const i = this.#text.indexOf(delimiterText, from - this.#from);
    if (i >= 0) return i + this.#from;
    // Not in the window: search the bytes after it (one may straddle its end).
    return indexOfDelimiter(bytes, delimiter, Math.max(from, this.#to - delimiter.length + 1));
  }

  /** Decodes `bytes[start, end)` as UTF-8. */
  decode(bytes: Uint8Array, start: number, end: number): string {
    if (this.#ascii && bytes === this.#bytes && start >= this.#from && end <= this.#to) {
      return this.#text.slice(start - this.#from, end - this.#from);
    }
    return lineDecoder.decode(bytes.subarray(start, end));
  }

  /** Forgets the window, so that it does not keep the chunk alive. */
  reset(): void {
    this.#bytes = null;
    this.#text = "";
    this.#ascii = false;
    this.#from = this.#to = 0;
  }

  // Decodes from `start` through the last `last` byte within DECODE_WINDOW.
  #fill(bytes: Uint8Array, start: number, last: number): void {
    const to = bytes.lastIndexOf(last, Math.min(bytes.length - 1, start + DECODE_WINDOW)) + 1;
    this.#bytes = bytes;
    this.#from = start;
    if (to <= start) {
      this.#to = start;
      this.#ascii = false;
      this.#text = "";
      return;
    }
    const text = lineDecoder.decode(bytes.subarray(start, to));
    this.#to = to;
    // Same length and no U+FFFD: every byte was ASCII.
    this.#ascii = text.length === to - start && text.indexOf("\ufffd") < 0;
    this.#text = this.#ascii ? text : "";
  }
}

/** Concatenates two byte arrays into one new array. */
export function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The error a default event method throws: Twisted raises `NotImplementedError`. */
export function notImplemented(what: string): Error {
  const error = new Error(`${what} is not implemented: override it`);
  error.name = "NotImplementedError";
  return error;
}
