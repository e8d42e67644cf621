import type { Transport } from "../reactor/interfaces.ts";
import { Protocol } from "./protocol.ts";
import { notImplemented, ReceiveBuffer, toBytes } from "./_receive_buffer.ts";

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * Why a {@linkcode NetstringReceiver} gave up on its peer: the bytes are not a
 * netstring (no length, a leading zero, a missing `:` or `,`), or announce one
 * longer than `MAX_LENGTH`. The receiver passes it to
 * {@linkcode NetstringReceiver.handleParseError}; it is never thrown out of
 * `dataReceived`.
 *
 * Divergence from Twisted: Twisted's `NetstringParseError` is a `ValueError`
 * raised and caught inside the receiver; here it extends `Error`, has its
 * `name` set, and reaches user code through `handleParseError`.
 *
 * @example Recognising the error
 * ```ts
 * import { NetstringParseError } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const error = new NetstringParseError("Invalid netstring length: 007");
 * assert.ok(error instanceof Error);
 * assert.equal(error.name, "NetstringParseError");
 * ```
 */
export class NetstringParseError extends Error {
  /**
   * Makes the error.
   *
   * @param message What was wrong with the input.
   */
  constructor(message: string) {
    super(message);
    this.name = "NetstringParseError";
  }
}

/**
 * Sends and receives netstrings (`5:hello,`, see https://cr.yp.to/proto/netstrings.txt):
 * length-prefixed binary strings with a human-readable length, so a message
 * may contain any byte, delimiters included. Override
 * {@linkcode NetstringReceiver.stringReceived}; send with
 * {@linkcode NetstringReceiver.sendString}.
 *
 * It refuses a peer that breaks the format, as Twisted does: a missing length,
 * a length with a leading zero (`007:`; `0:` is fine), a non-digit, a missing
 * `:` or `,`, a length prefix with more digits than `MAX_LENGTH` can need
 * (refused before it is parsed, so a megabyte of digits costs nothing), or a
 * length above {@linkcode NetstringReceiver.MAX_LENGTH}. Each of those is
 * detected as soon as the offending byte arrives: `brokenPeer` is set,
 * {@linkcode NetstringReceiver.handleParseError} is called (by default it
 * closes the connection), and the rest of the stream is ignored.
 *
 * In tests, feed `dataReceived` the same stream in every chunking, down to one
 * byte at a time, and some garbage: it must end in `brokenPeer`, never in an
 * exception.
 *
 * Divergences from Twisted:
 * - A parse error goes through the overridable
 *   {@linkcode NetstringReceiver.handleParseError} with the
 *   {@linkcode NetstringParseError} (Twisted's `_handleParseError` is private
 *   and takes no argument); `brokenPeer` is a boolean.
 * - After a parse error, later data is discarded (Twisted keeps buffering it
 *   and closes the connection again on each chunk).
 * - A `dataReceived` call from inside `stringReceived` appends to the buffer;
 *   the running call parses it.
 * - A `MAX_LENGTH` below 1 allows only a one-digit length (Twisted raises a
 *   math domain error).
 * - Strings are `Uint8Array`s, possibly views into the received chunk: copy
 *   one before changing it. `sendString` also takes a string (sent as UTF-8,
 *   its length counted in bytes). The default `stringReceived` throws an
 *   `Error` named `NotImplementedError`.
 *
 * @example Receiving netstrings one byte at a time
 * ```ts
 * import { NetstringReceiver } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class Collect extends NetstringReceiver {
 *   strings: string[] = [];
 *   override stringReceived(s: Uint8Array): void {
 *     this.strings.push(new TextDecoder().decode(s));
 *   }
 * }
 *
 * const p = new Collect();
 * for (const byte of new TextEncoder().encode("5:hello,0:,4:1:a,,")) {
 *   p.dataReceived(Uint8Array.of(byte));
 * }
 * assert.deepEqual(p.strings, ["hello", "", "1:a,"]);
 * assert.equal(p.brokenPeer, false);
 * ```
 */
export class NetstringReceiver extends Protocol {
  /** The longest string accepted, in bytes (99999). */
  MAX_LENGTH: number = 99999;

  /** Whether the peer sent something that is not a netstring; parsing has stopped. */
  brokenPeer: boolean = false;

  #buffer: ReceiveBuffer = new ReceiveBuffer();
  #busy: boolean = false;
  // -1 while reading a length; else the payload length plus its comma.
  #expected: number = -1;

  /**
   * Attaches the transport, resetting the parser first (as Twisted does).
   *
   * @param transport The connection.
   */
  override makeConnection(transport: Transport): void {
    this.#buffer.clear();
    this.#expected = -1;
    this.brokenPeer = false;
    super.makeConnection(transport);
  }

  /**
   * Parses netstrings and calls {@linkcode NetstringReceiver.stringReceived}
   * for each complete one. Bad input never throws: it ends in
   * {@linkcode NetstringReceiver.handleParseError}.
   *
   * @param data The next chunk of the stream, of any size.
   * @throws {Error} Whatever `stringReceived` or `handleParseError` throws.
   */
  override dataReceived(data: Uint8Array): void {
    if (this.brokenPeer) return;
    const buffer = this.#buffer;
    buffer.append(data);
    if (this.#busy) return;
    this.#busy = true;
    try {
      this.#parse();
    } finally {
      this.#busy = false;
      if (this.brokenPeer) buffer.clear();
      else buffer.retain();
    }
  }

  #parse(): void {
    const buffer = this.#buffer;
    while (buffer.start < buffer.bytes.length && !this.brokenPeer) {
      if (this.#expected < 0) {
        const bytes = buffer.bytes;
        const start = buffer.start;
        const end = bytes.length;
        const maxDigits = this.#maxLengthSize();
        let i = start;
        let length = 0;
        while (i < end && i - start <= maxDigits) {
          const c = bytes[i];
          if (c < DIGIT_0 || c > DIGIT_9) break;
          length = length * 10 + (c - DIGIT_0);
          i++;
        }
        const digits = i - start;
        if (digits === 0 || (digits > 1 && bytes[start] === DIGIT_0)) {
          return this.#fail("The netstring does not start with a valid length");
        }
        if (digits > maxDigits || length > this.MAX_LENGTH) {
          return this.#fail(`The netstring is longer than MAX_LENGTH (${this.MAX_LENGTH})`);
        }
        if (i === end) return; // the length may go on in the next chunk
        if (bytes[i] !== COLON) {
          return this.#fail("The netstring's length is not followed by a colon");
        }
        buffer.start = i + 1;
        this.#expected = length + 1;
      }
      if (buffer.size < this.#expected) return;
      const length = this.#expected - 1;
      if (buffer.bytes[buffer.start + length] !== COMMA) {
        return this.#fail("The netstring is not terminated by a comma");
      }
      this.#expected = -1;
      this.stringReceived(buffer.consume(length, 1));
    }
  }

  // Twisted's bound on the length's digits: ceil(log10(MAX_LENGTH)) + 1,
  // computed on integers to be exact at powers of ten.
  #maxLengthSize(): number {
    const max = Math.floor(this.MAX_LENGTH);
    if (!(max >= 1)) return 1;
    const digits = String(max).length;
    return /^10*$/.test(String(max)) ? digits : digits + 1;
  }

  #fail(message: string): void {
    this.brokenPeer = true;
    this.handleParseError(new NetstringParseError(message));
  }

  /**
   * Called with each complete netstring's payload: override it.
   *
   * @param s The payload, without length or comma.
   * @throws {Error} `NotImplementedError` unless overridden.
   */
  stringReceived(s: Uint8Array): void {
    throw notImplemented(`NetstringReceiver.stringReceived(<${s.length} bytes>)`);
  }

  /**
   * Called once when the peer breaks the format, after `brokenPeer` is set;
   * closes the connection by default. Override it to log the error, and call
   * `super.handleParseError(error)` to still close.
   *
   * @param error What was wrong.
   */
  handleParseError(error: NetstringParseError): void {
    void error;
    this.transport?.loseConnection();
  }

  /**
   * Writes `s` as one netstring: its byte length, `:`, the bytes, `,`.
   *
   * @param s The payload; a string is sent as UTF-8.
   * @throws {Error} If the protocol has no transport yet.
   */
  sendString(s: Uint8Array | string): void {
    const transport = this.transport;
    if (transport === null) throw new Error("Cannot send a string: the protocol has no transport");
    const payload = toBytes(s);
    const prefix = `${payload.length}:`;
    const out = new Uint8Array(prefix.length + payload.length + 1);
    for (let i = 0; i < prefix.length; i++) out[i] = prefix.charCodeAt(i);
    out.set(payload, prefix.length);
    out[out.length - 1] = COMMA;
    transport.write(out);
  }
}
