// The fast inside of AMP's wire format. A received box is kept as one byte
// array with the offsets of its values (a RawBox), so that decoding a value
// needs no array of its own; the parser takes each whole box from the receive
// buffer at once. Outgoing boxes are written into one growing buffer
// (ByteWriter) and handed to the transport once per batch.
import { ReceiveBuffer } from "../_receive_buffer.ts";
import { TooLong } from "./errors.ts";

/** The longest key, in bytes. */
export const MAX_KEY_LENGTH = 0xff;
/** The longest value, in bytes. */
export const MAX_VALUE_LENGTH = 0xffff;

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** A received box: keys, and where each value lies in `bytes`. */
export class RawBox {
  constructor(
    readonly bytes: Uint8Array,
    readonly keys: string[],
    readonly starts: number[],
    readonly ends: number[],
  ) {}

  /** The index of `key`'s last occurrence (a repeated key keeps its last value), or -1. */
  find(key: string): number {
    const keys = this.keys;
    for (let i = keys.length - 1; i >= 0; i--) if (keys[i] === key) return i;
    return -1;
  }

  /** The value of `key`, as a view, or `undefined`. */
  get(key: string): Uint8Array | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.bytes.subarray(this.starts[i], this.ends[i]);
  }

  /** The box as a Map. */
  toMap(): Map<string, Uint8Array> {
    const map = new Map<string, Uint8Array>();
    for (let i = 0; i < this.keys.length; i++) {
      map.set(this.keys[i], this.bytes.subarray(this.starts[i], this.ends[i]));
    }
    return map;
  }
}

/**
 * Decodes a key: ASCII directly, else as UTF-8, else (not valid UTF-8) one
 * character per byte, so that distinct keys stay distinct.
 */
function decodeKey(bytes: Uint8Array, from: number, to: number): string {
  let ascii = true;
  let text = "";
  for (let i = from; i < to; i++) {
    const b = bytes[i];
    if (b >= 0x80) {
      ascii = false;
      break;
    }
    text += String.fromCharCode(b);
  }
  if (ascii) return text;
  const view = bytes.subarray(from, to);
  try {
    return strictDecoder.decode(view);
  } catch {
    return String.fromCharCode.apply(null, view as unknown as number[]);
  }
}

/** Options of {@linkcode RawBoxParser}. */
export interface RawBoxParserOptions {
  onBox: (box: RawBox) => void;
  onError?: (error: TooLong) => void;
  maxBoxLength: number;
}

/**
 * Finds whole boxes in a stream of chunks. It scans lengths as bytes arrive
 * (remembering how far it got, so a box arriving a byte at a time costs
 * linear time), checks the limits, and takes each complete box at once.
 */
export class RawBoxParser {
  maxBoxLength: number;
  #onBox: (box: RawBox) => void;
  #onError: ((error: TooLong) => void) | undefined;
  #buffer: ReceiveBuffer = new ReceiveBuffer();
  // How far into the current box the scan has got, and what comes next there.
  #scanned = 0;
  #expectKey = true;
  #busy = false;
  #stopped = false;
  #error: TooLong | null = null;
  // The keys of the last box, by position: boxes in a stream repeat them.
  #keyBytes: Uint8Array[] = [];
  #keyText: string[] = [];

  constructor(options: RawBoxParserOptions) {
    this.#onBox = options.onBox;
    this.#onError = options.onError;
    this.maxBoxLength = options.maxBoxLength;
  }

  get error(): TooLong | null {
    return this.#error;
  }

  /** Whether bytes of an unfinished box are waiting for the rest. */
  get inBox(): boolean {
    return this.#buffer.size > 0;
  }

  stop(): void {
    this.#stopped = true;
    this.#buffer.clear();
  }

  dataReceived(data: Uint8Array): void {
    if (this.#stopped) return;
    const buffer = this.#buffer;
    buffer.append(data);
    if (this.#busy) return;
    this.#busy = true;
    try {
      this.#parse();
    } finally {
      this.#busy = false;
      if (!this.#stopped) buffer.retain();
    }
  }

  #parse(): void {
    const buffer = this.#buffer;
    while (!this.#stopped) {
      const bytes = buffer.bytes;
      const base = buffer.start;
      const end = bytes.length;
      let pos = base + this.#scanned;
      let expectKey = this.#expectKey;
      let boxEnd = -1;
      while (end - pos >= 2) {
        const length = (bytes[pos] << 8) | bytes[pos + 1];
        if (expectKey) {
          if (length === 0) {
            boxEnd = pos + 2;
            break;
          }
          if (length > MAX_KEY_LENGTH) {
            this.#fail(new TooLong({ isKey: true, isLocal: false, length }));
            return;
          }
        }
        const total = pos - base + 2 + length + 2;
        if (total > this.maxBoxLength) {
          this.#fail(
            new TooLong({ isKey: false, isLocal: false, length: total, limit: this.maxBoxLength }),
          );
          return;
        }
        if (end - pos - 2 < length) break;
        pos += 2 + length;
        expectKey = !expectKey;
      }
      if (boxEnd < 0) {
        this.#scanned = pos - base;
        this.#expectKey = expectKey;
        return;
      }
      this.#scanned = 0;
      this.#expectKey = true;
      const box = buffer.consume(boxEnd - base, 0);
      this.#onBox(this.#split(box));
    }
  }

  // Splits a whole box into keys and value offsets.
  #split(box: Uint8Array): RawBox {
    const keys: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    const cachedBytes = this.#keyBytes;
    const cachedText = this.#keyText;
    let pos = 0;
    const last = box.length - 2;
    for (let i = 0; pos < last; i++) {
      const keyLength = (box[pos] << 8) | box[pos + 1];
      const keyStart = pos + 2;
      let key: string | undefined;
      const cached = cachedBytes[i];
      if (cached !== undefined && cached.length === keyLength) {
        let k = 0;
        while (k < keyLength && cached[k] === box[keyStart + k]) k++;
        if (k === keyLength) key = cachedText[i];
      }
      if (key === undefined) {
        key = decodeKey(box, keyStart, keyStart + keyLength);
        if (i < 32) {
          cachedBytes[i] = box.slice(keyStart, keyStart + keyLength);
          cachedText[i] = key;
        }
      }
      pos = keyStart + keyLength;
      const valueLength = (box[pos] << 8) | box[pos + 1];
      keys.push(key);
      starts.push(pos + 2);
      ends.push(pos + 2 + valueLength);
      pos += 2 + valueLength;
    }
    return new RawBox(box, keys, starts, ends);
  }

  #fail(error: TooLong): void {
    this.#error = error;
    this.stop();
    if (this.#onError === undefined) throw error;
    this.#onError(error);
  }
}

/** Parses bytes holding whole boxes; `null` if they end inside a box. */
export function parseRawBoxes(bytes: Uint8Array): { boxes: RawBox[]; complete: boolean } {
  const boxes: RawBox[] = [];
  const parser = new RawBoxParser({
    onBox: (box) => boxes.push(box),
    maxBoxLength: Number.MAX_SAFE_INTEGER,
  });
  parser.dataReceived(bytes);
  return { boxes, complete: !parser.inBox };
}

/** A growing output buffer that boxes are written into. */
export class ByteWriter {
  bytes: Uint8Array = new Uint8Array(1024);
  length = 0;

  ensure(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Writes a key (already checked) with its length. */
  key(key: Uint8Array): void {
    const n = key.length;
    this.ensure(n + 2);
    const out = this.bytes;
    let at = this.length;
    out[at++] = 0;
    out[at++] = n;
    for (let i = 0; i < n; i++) out[at + i] = key[i];
    this.length = at + n;
  }

  /** Writes a value with its length. */
  value(value: Uint8Array, keyName: string): void {
    const n = value.length;
    if (n > MAX_VALUE_LENGTH) {
      throw new TooLong({ isKey: false, isLocal: true, length: n, keyName });
    }
    this.ensure(n + 2);
    const out = this.bytes;
    const at = this.length;
    out[at] = n >> 8;
    out[at + 1] = n & 0xff;
    if (n <= 32) { for (let i = 0; i < n; i++) out[at + 2 + i] = value[i]; }
    else out.set(value, at + 2);
    this.length = at + 2 + n;
  }

  /** Writes an ASCII string as a value with its length. */
  asciiValue(text: string): void {
    const n = text.length;
    this.ensure(n + 2);
    const out = this.bytes;
    const at = this.length;
    out[at] = n >> 8;
    out[at + 1] = n & 0xff;
    for (let i = 0; i < n; i++) out[at + 2 + i] = text.charCodeAt(i);
    this.length = at + 2 + n;
  }

  /** Writes a string as a UTF-8 value with its length. */
  utf8Value(text: string, keyName: string): void {
    this.ensure(text.length * 3 + 2);
    const at = this.length;
    const { written } = encoder.encodeInto(text, this.bytes.subarray(at + 2));
    if (written > MAX_VALUE_LENGTH) {
      throw new TooLong({ isKey: false, isLocal: true, length: written, keyName });
    }
    this.bytes[at] = written >> 8;
    this.bytes[at + 1] = written & 0xff;
    this.length = at + 2 + written;
  }

  /** Ends a box. */
  end(): void {
    this.ensure(2);
    this.bytes[this.length++] = 0;
    this.bytes[this.length++] = 0;
  }

  /** Everything written, as a new array; the writer is then empty. */
  take(): Uint8Array {
    const out = this.bytes.slice(0, this.length);
    this.length = 0;
    if (this.bytes.length > 256 * 1024) this.bytes = new Uint8Array(1024);
    return out;
  }
}
