import type { PushProducer } from "../reactor/interfaces.ts";
import { Protocol } from "./protocol.ts";
import { notImplemented, ReceiveBuffer, toBytes } from "./_receive_buffer.ts";

/**
 * Thrown by `sendString` of the length-prefixed receivers when the string
 * cannot be framed: its length does not fit in the prefix (256 bytes and more
 * for {@linkcode Int8StringReceiver}, 65536 for
 * {@linkcode Int16StringReceiver}, 2³² for {@linkcode Int32StringReceiver}).
 * Nothing is written.
 *
 * Divergence from Twisted: Twisted's `StringTooLongError` is an
 * `AssertionError`; here it extends `Error`, with its `name` set.
 *
 * @example Too long for one byte of length
 * ```ts
 * import { Int8StringReceiver, StringTooLongError, type Transport } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const p = new Int8StringReceiver();
 * p.makeConnection({ write() {} } as unknown as Transport);
 * assert.throws(() => p.sendString(new Uint8Array(256)), StringTooLongError);
 * ```
 */
export class StringTooLongError extends Error {
  /**
   * Makes the error.
   *
   * @param message How long the string was, and the limit.
   */
  constructor(message: string) {
    super(message);
    this.name = "StringTooLongError";
  }
}

/**
 * The generic length-prefixed receiver behind {@linkcode Int8StringReceiver},
 * {@linkcode Int16StringReceiver} and {@linkcode Int32StringReceiver}: each
 * message is an unsigned big-endian length of
 * {@linkcode IntNStringReceiver.prefixLength} bytes, then that many bytes.
 * A binary-safe framing with no escaping, the cheapest to parse; override
 * {@linkcode IntNStringReceiver.stringReceived}, send with
 * {@linkcode IntNStringReceiver.sendString}.
 *
 * A prefix above {@linkcode IntNStringReceiver.MAX_LENGTH} calls
 * {@linkcode IntNStringReceiver.lengthLimitExceeded} (by default: close the
 * connection), and parsing stops: the offending prefix stays buffered, so each
 * later chunk calls it again and nothing more is delivered. Like
 * {@linkcode LineReceiver}, it is a push producer: `pauseProducing()` holds
 * further strings and pauses the transport, `resumeProducing()` delivers them.
 *
 * In tests, feed `dataReceived` the same stream in every chunking, down to one
 * byte at a time.
 *
 * Divergences from Twisted:
 * - No `recvd` attribute (Twisted's deprecated view of the parse buffer).
 * - After `lengthLimitExceeded`, the strings before the offending prefix are
 *   never delivered again (Twisted redelivers them if more data arrives).
 * - A `dataReceived` call from inside `stringReceived` appends to the buffer;
 *   the running call parses it (Twisted re-parses from the start).
 * - `stopProducing()` is final: later `resumeProducing()` calls do nothing
 *   and later data is discarded.
 * - Strings are `Uint8Array`s, possibly views into the received chunk: copy
 *   one before changing it. `sendString` also takes a string (sent as UTF-8,
 *   its length counted in bytes). The default `stringReceived` throws an
 *   `Error` named `NotImplementedError`.
 *
 * @example A custom prefix size is a subclass
 * ```ts
 * import { IntNStringReceiver } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class Int16Collect extends IntNStringReceiver {
 *   readonly prefixLength: 1 | 2 | 4 = 2;
 *   strings: number[] = [];
 *   override stringReceived(s: Uint8Array): void {
 *     this.strings.push(s.length);
 *   }
 * }
 *
 * const p = new Int16Collect();
 * p.dataReceived(Uint8Array.of(0, 3, 1, 2, 3, 0, 0));
 * assert.deepEqual(p.strings, [3, 0]);
 * ```
 */
export abstract class IntNStringReceiver extends Protocol implements PushProducer {
  /** The size of the length prefix in bytes: 1, 2 or 4. */
  abstract readonly prefixLength: 1 | 2 | 4;

  /** The longest string accepted, in bytes (99999). */
  MAX_LENGTH: number = 99999;

  /**
   * Whether delivery is paused: set by `pauseProducing()` and
   * `stopProducing()`, cleared by `resumeProducing()`.
   */
  paused: boolean = false;

  #buffer: ReceiveBuffer = new ReceiveBuffer();
  #busy: boolean = false;
  #stopped: boolean = false;

  /**
   * Parses length-prefixed strings and calls
   * {@linkcode IntNStringReceiver.stringReceived} for each complete one.
   *
   * @param data The next chunk of the stream, of any size (empty is fine: it
   * delivers strings held while paused).
   * @throws {Error} Whatever `stringReceived` or `lengthLimitExceeded` throws.
   */
  override dataReceived(data: Uint8Array): void {
    if (this.#stopped) return;
    const buffer = this.#buffer;
    buffer.append(data);
    if (this.#busy) return;
    this.#busy = true;
    try {
      this.#parse();
    } finally {
      this.#busy = false;
      buffer.retain();
    }
  }

  #parse(): void {
    const buffer = this.#buffer;
    const prefixLength = this.prefixLength;
    while (!this.paused) {
      const bytes = buffer.bytes;
      const start = buffer.start;
      const available = bytes.length - start - prefixLength;
      if (available < 0) return;
      let length: number;
      if (prefixLength === 4) {
        length = bytes[start] * 0x1000000 +
          ((bytes[start + 1] << 16) | (bytes[start + 2] << 8) | bytes[start + 3]);
      } else if (prefixLength === 2) {
        length = (bytes[start] << 8) | bytes[start + 1];
      } else {
        length = bytes[start];
      }
      if (length > this.MAX_LENGTH) {
        this.lengthLimitExceeded(length);
        return;
      }
      if (available < length) return;
      buffer.start = start + prefixLength;
      this.stringReceived(buffer.consume(length, 0));
    }
  }

  /**
   * Called with each complete string: override it.
   *
   * @param s The string, without its prefix.
   * @throws {Error} `NotImplementedError` unless overridden.
   */
  stringReceived(s: Uint8Array): void {
    throw notImplemented(`${this.constructor.name}.stringReceived(<${s.length} bytes>)`);
  }

  /**
   * Called when a prefix announces more than `MAX_LENGTH` bytes; closes the
   * connection by default. Parsing stops before that string.
   *
   * @param length The announced length.
   */
  lengthLimitExceeded(length: number): void {
    void length;
    this.transport?.loseConnection();
  }

  /**
   * Writes `s` with its length prefix, in one write.
   *
   * @param s The payload; a string is sent as UTF-8.
   * @throws {StringTooLongError} If its length does not fit in the prefix
   * (`length >= 2 ** (8 * prefixLength)`).
   * @throws {Error} If the protocol has no transport yet.
   */
  sendString(s: Uint8Array | string): void {
    const payload = toBytes(s);
    const prefixLength = this.prefixLength;
    const length = payload.length;
    const limit = 2 ** (8 * prefixLength);
    if (length >= limit) {
      throw new StringTooLongError(
        `Cannot send ${length} bytes with a ${prefixLength}-byte length prefix: the limit is ${
          limit - 1
        }`,
      );
    }
    const transport = this.transport;
    if (transport === null) throw new Error("Cannot send a string: the protocol has no transport");
    const out = new Uint8Array(prefixLength + length);
    for (let i = prefixLength - 1, n = length; i >= 0; i--, n = Math.floor(n / 256)) {
      out[i] = n & 0xff;
    }
    out.set(payload, prefixLength);
    transport.write(out);
  }

  /**
   * Holds further strings and pauses the transport (so it stops reading).
   */
  pauseProducing(): void {
    this.paused = true;
    this.transport?.pauseProducing();
  }

  /**
   * Resumes the transport and delivers the strings held while paused, at once.
   * Does nothing after `stopProducing()`.
   */
  resumeProducing(): void {
    if (this.#stopped) return;
    this.paused = false;
    this.transport?.resumeProducing();
    this.dataReceived(new Uint8Array(0));
  }

  /** Stops delivering for good and stops the transport producing. */
  stopProducing(): void {
    this.paused = true;
    this.#stopped = true;
    this.#buffer.clear();
    this.transport?.stopProducing();
  }
}

/**
 * Receives and sends strings prefixed by a 4-byte big-endian length, the most
 * common binary framing (many RPC, game and IPC protocols). Override `stringReceived`; see {@linkcode IntNStringReceiver}
 * for limits, pausing and the divergences from Twisted.
 *
 * @example Framing and parsing
 * ```ts
 * import { Int32StringReceiver, type Transport } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class Collect extends Int32StringReceiver {
 *   strings: string[] = [];
 *   override stringReceived(s: Uint8Array): void {
 *     this.strings.push(new TextDecoder().decode(s));
 *   }
 * }
 *
 * const written: Uint8Array[] = [];
 * const p = new Collect();
 * p.makeConnection({ write: (d: Uint8Array) => written.push(d) } as unknown as Transport);
 * p.sendString("foo");
 * assert.deepEqual(written, [Uint8Array.of(0, 0, 0, 3, 0x66, 0x6f, 0x6f)]);
 * // Feed it one byte at a time in tests.
 * for (const byte of written[0]) p.dataReceived(Uint8Array.of(byte));
 * assert.deepEqual(p.strings, ["foo"]);
 * ```
 */
export class Int32StringReceiver extends IntNStringReceiver {
  /** Four bytes of length. */
  readonly prefixLength: 4 = 4;
}

/**
 * Receives and sends strings prefixed by a 2-byte big-endian length (at most
 * 65535 bytes each). See {@linkcode IntNStringReceiver}.
 *
 * @example Framing
 * ```ts
 * import { Int16StringReceiver, type Transport } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const written: Uint8Array[] = [];
 * const p = new Int16StringReceiver();
 * p.makeConnection({ write: (d: Uint8Array) => written.push(d) } as unknown as Transport);
 * p.sendString("foo");
 * assert.deepEqual(written, [Uint8Array.of(0, 3, 0x66, 0x6f, 0x6f)]);
 * ```
 */
export class Int16StringReceiver extends IntNStringReceiver {
  /** Two bytes of length. */
  readonly prefixLength: 2 = 2;
}

/**
 * Receives and sends strings prefixed by a 1-byte length (at most 255 bytes
 * each). See {@linkcode IntNStringReceiver}.
 *
 * @example Framing
 * ```ts
 * import { Int8StringReceiver, type Transport } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const written: Uint8Array[] = [];
 * const p = new Int8StringReceiver();
 * p.makeConnection({ write: (d: Uint8Array) => written.push(d) } as unknown as Transport);
 * p.sendString("foo");
 * assert.deepEqual(written, [Uint8Array.of(3, 0x66, 0x6f, 0x6f)]);
 * ```
 */
export class Int8StringReceiver extends IntNStringReceiver {
  /** One byte of length. */
  readonly prefixLength: 1 = 1;
}
