// AMP's wire format: boxes of key/value pairs, each string prefixed with its
// length as an unsigned 16-bit big-endian integer, an empty key ending the box.
// The encoder, the incremental parser and the whole-buffer parser.
import { MalformedAmpBox, TooLong } from "./errors.ts";
import {
  MAX_KEY_LENGTH,
  MAX_VALUE_LENGTH,
  parseRawBoxes,
  type RawBox,
  RawBoxParser,
} from "./_raw_box.ts";

export { MAX_KEY_LENGTH, MAX_VALUE_LENGTH };

/**
 * One AMP box: keys to raw values. Keys are UTF-8 on the wire, values are
 * bytes that the command's argument types decode. The order of keys does not
 * matter to AMP; {@linkcode encodeBox} writes them sorted, as Twisted does.
 */
export type AmpBox = Map<string, Uint8Array>;

/** The key of a question's tag. */
export const ASK = "_ask";
/** The key of an answer's tag. */
export const ANSWER = "_answer";
/** The key of a question's command name. */
export const COMMAND = "_command";
/** The key of an error's tag. */
export const ERROR = "_error";
/** The key of an error's code. */
export const ERROR_CODE = "_error_code";
/** The key of an error's description. */
export const ERROR_DESCRIPTION = "_error_description";
/** The code of an error the responder's command does not map. */
export const UNKNOWN_ERROR_CODE = "UNKNOWN";
/** The code of a command the peer has no responder for. */
export const UNHANDLED_ERROR_CODE = "UNHANDLED";

const encoder = new TextEncoder();

/** Encodes a key as UTF-8, checking its length. */
export function keyBytes(key: string): Uint8Array {
  const bytes = encoder.encode(key);
  if (bytes.length === 0 || bytes.length > MAX_KEY_LENGTH) {
    throw new TooLong({ isKey: true, isLocal: true, length: bytes.length });
  }
  return bytes;
}

/** Byte-wise comparison, the order Twisted sorts keys in. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Serializes the first `count` pairs, in the order given. Keys must already
 * be checked; values are checked here.
 */
export function encodePairs(
  keys: readonly Uint8Array[],
  values: readonly Uint8Array[],
  count: number,
  keyNames?: readonly string[],
): Uint8Array {
  let total = 2;
  for (let i = 0; i < count; i++) {
    const length = values[i].length;
    if (length > MAX_VALUE_LENGTH) {
      throw new TooLong({ isKey: false, isLocal: true, length, keyName: keyNames?.[i] });
    }
    total += 4 + keys[i].length + length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const key = keys[i];
    const value = values[i];
    out[at] = 0;
    out[at + 1] = key.length;
    out.set(key, at + 2);
    at += 2 + key.length;
    out[at] = value.length >> 8;
    out[at + 1] = value.length & 0xff;
    if (value.length <= 16) {
      for (let k = 0; k < value.length; k++) out[at + 2 + k] = value[k];
    } else {
      out.set(value, at + 2);
    }
    at += 2 + value.length;
  }
  // The final two zero bytes are already there.
  return out;
}

/**
 * Serializes a box as Twisted does: keys sorted byte-wise, each key and value
 * prefixed with its 16-bit big-endian length, then two zero bytes.
 *
 * @param box The keys and their values. A string value is sent as UTF-8.
 * @returns The bytes of the box.
 * @throws {TooLong} For an empty key, a key over 255 bytes or a value over
 * 65,535 bytes.
 *
 * @example
 * ```ts
 * import { encodeBox } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeBox(new Map([["b", "2"], ["a", "1"]]));
 * assert.deepEqual([...bytes], [0, 1, 97, 0, 1, 49, 0, 1, 98, 0, 1, 50, 0, 0]);
 * ```
 */
export function encodeBox(box: ReadonlyMap<string, Uint8Array | string>): Uint8Array {
  const pairs: Array<[Uint8Array, Uint8Array, string]> = [];
  for (const [key, value] of box) {
    pairs.push([keyBytes(key), typeof value === "string" ? encoder.encode(value) : value, key]);
  }
  pairs.sort((a, b) => compareBytes(a[0], b[0]));
  return encodePairs(
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
    pairs.length,
    pairs.map((p) => p[2]),
  );
}

/** Options of {@linkcode BoxParser}. */
export interface BoxParserOptions {
  /** Called with each complete box, in order. */
  onBox: (box: AmpBox) => void;
  /**
   * Called once when the stream breaks a limit; the parser then ignores
   * everything after. Without it, the error is thrown from `dataReceived`.
   */
  onError?: (error: TooLong) => void;
  /** The longest box accepted, counting every length prefix (default 16 MiB). */
  maxBoxLength?: number;
}

/** The default of {@linkcode BoxParserOptions.maxBoxLength}: 16 MiB. */
export const DEFAULT_MAX_BOX_LENGTH: number = 16 * 1024 * 1024;

/**
 * Parses a stream of AMP boxes as it arrives, in chunks of any size, and
 * hands each complete box to `onBox`. It checks the limits of the format: a
 * key longer than 255 bytes is a {@linkcode TooLong} error (Twisted closes the
 * connection for it), as is a box longer than `maxBoxLength`, which keeps the
 * memory one connection can hold bounded. Values cannot break their limit:
 * 16 bits of length hold at most 65,535.
 *
 * A box may be empty (just two zero bytes); what an empty box means is for
 * the receiver to say. Keys repeated in one box keep their last value, as in
 * Twisted. Keys are text: decoded as UTF-8, or, for bytes that are not valid
 * UTF-8, one character per byte. Values are views of the received bytes: keep them, but copy one
 * before changing it.
 *
 * In tests, feed it the same stream in every chunking, down to one byte at a
 * time: the boxes and errors must be the same.
 *
 * @example Two boxes, fed one byte at a time
 * ```ts
 * import { type AmpBox, BoxParser, encodeBox } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const boxes: AmpBox[] = [];
 * const parser = new BoxParser({ onBox: (box) => boxes.push(box) });
 * const stream = [...encodeBox(new Map([["a", "1"]])), ...encodeBox(new Map())];
 * for (const byte of stream) parser.dataReceived(Uint8Array.of(byte));
 * assert.equal(boxes.length, 2);
 * assert.equal(new TextDecoder().decode(boxes[0].get("a")), "1");
 * assert.equal(boxes[1].size, 0);
 * ```
 */
export class BoxParser {
  #parser: RawBoxParser;

  /**
   * Makes a parser.
   *
   * @param options Where boxes and errors go, and the box limit.
   */
  constructor(options: BoxParserOptions) {
    const onBox = options.onBox;
    this.#parser = new RawBoxParser({
      onBox: (box: RawBox) => onBox(box.toMap()),
      onError: options.onError,
      maxBoxLength: options.maxBoxLength ?? DEFAULT_MAX_BOX_LENGTH,
    });
  }

  /** The longest box accepted, in bytes, counting every length prefix. */
  get maxBoxLength(): number {
    return this.#parser.maxBoxLength;
  }

  set maxBoxLength(value: number) {
    this.#parser.maxBoxLength = value;
  }

  /** The limit the stream broke, if it did. */
  get error(): TooLong | null {
    return this.#parser.error;
  }

  /** Whether bytes of an unfinished box are waiting for the rest. */
  get inBox(): boolean {
    return this.#parser.inBox;
  }

  /** Ignores all data from now on (the connection is closing). */
  stop(): void {
    this.#parser.stop();
  }

  /**
   * Parses the next chunk of the stream.
   *
   * @param data Bytes of any length.
   * @throws {TooLong} When a limit is broken and there is no `onError`.
   * @throws {Error} Whatever `onBox` throws; the parser stays usable.
   */
  dataReceived(data: Uint8Array): void {
    this.#parser.dataReceived(data);
  }
}

/**
 * Parses bytes that hold whole boxes and nothing else, such as the value of
 * an {@linkcode AmpList} argument.
 *
 * Divergence from Twisted: bytes left after the last complete box are an
 * error here (Twisted's `parseString` drops them silently).
 *
 * @param bytes The serialized boxes.
 * @returns The boxes, in order.
 * @throws {TooLong} For a key over 255 bytes.
 * @throws {MalformedAmpBox} If the bytes end inside a box.
 *
 * @example
 * ```ts
 * import { encodeBox, parseBoxes } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const boxes = parseBoxes(encodeBox(new Map([["x", "y"]])));
 * assert.deepEqual([...boxes[0].keys()], ["x"]);
 * ```
 */
export function parseBoxes(bytes: Uint8Array): AmpBox[] {
  return checkedRawBoxes(bytes).map((box) => box.toMap());
}

/** {@linkcode parseBoxes} without the Maps. */
export function checkedRawBoxes(bytes: Uint8Array): RawBox[] {
  const { boxes, complete } = parseRawBoxes(bytes);
  if (!complete) {
    throw new MalformedAmpBox(
      `${bytes.length} bytes of boxes end inside a box, after ${boxes.length} whole ones`,
    );
  }
  return boxes;
}
