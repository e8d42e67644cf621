import type { PushProducer } from "../reactor/interfaces.ts";
import { Protocol } from "./protocol.ts";
import { concat2, LineScanner, notImplemented, ReceiveBuffer, toBytes } from "./_receive_buffer.ts";

/**
 * The base of line-oriented protocols (SMTP, POP3, IRC, HTTP headers, memcached):
 * it cuts the incoming byte stream at each {@linkcode LineReceiver.delimiter} and
 * calls {@linkcode LineReceiver.lineReceived} once per line, so a subclass
 * never sees how the bytes happened to be split into chunks. A protocol that
 * switches to a body of known length (an HTTP body, for instance) calls
 * {@linkcode LineReceiver.setRawMode} and gets the following bytes in
 * {@linkcode LineReceiver.rawDataReceived}, then
 * {@linkcode LineReceiver.setLineMode} with whatever it did not use.
 *
 * Lines are limited to {@linkcode LineReceiver.MAX_LENGTH} bytes so that a peer
 * cannot fill memory with a line that never ends: with no delimiter in at least
 * `MAX_LENGTH + delimiter.length` buffered bytes, or a line longer than
 * `MAX_LENGTH`, the whole buffer goes to
 * {@linkcode LineReceiver.lineLengthExceeded} (by default: close the
 * connection) and is cleared.
 *
 * It is also a push producer: {@linkcode LineReceiver.pauseProducing} (from
 * inside `lineReceived`, or by a consumer it is registered with) holds further
 * lines and pauses the transport; {@linkcode LineReceiver.resumeProducing}
 * delivers the held lines. Parsing stops early when `transport.disconnecting`
 * is set by a `lineReceived`, so no line after a `loseConnection()` is seen.
 *
 * Parsing is iterative and scans each chunk in place with an offset: a chunk
 * with many lines is not re-copied per line, and thousands of switches between
 * line and raw mode in one chunk use no stack. In tests, feed `dataReceived` the
 * same stream in every chunking, down to one byte at a time, and check that
 * the lines are the same.
 *
 * Divergences from Twisted:
 * - `lineReceived` gets a `string` decoded as UTF-8 (invalid bytes become
 *   U+FFFD, never an exception; a byte-order mark is kept); `MAX_LENGTH` still
 *   counts bytes. Binary lines should use raw mode.
 * - `delimiter` may be a `string` (encoded as UTF-8) or bytes; an empty
 *   delimiter makes parsing throw `RangeError` (Twisted silently finds no line).
 * - A truthy value returned by `lineReceived`, `rawDataReceived` or
 *   `lineLengthExceeded` stops parsing and is returned by `dataReceived`, as in
 *   Twisted; the methods are typed `unknown` for that. Prefer
 *   `transport.loseConnection()` or `pauseProducing()` in new code.
 * - `stopProducing()` is final: later `resumeProducing()` calls do nothing and
 *   later data is discarded (Twisted's can be resumed).
 * - The mode is read from the `lineMode` getter (Twisted's `line_mode`
 *   attribute); change it with `setRawMode()` and `setLineMode()`.
 * - The default `lineReceived` and `rawDataReceived` throw an `Error` named
 *   `NotImplementedError`; the pause methods work before `makeConnection`.
 *
 * @example A line echo server, driven by hand
 * ```ts
 * import { LineReceiver, type Transport } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class Shout extends LineReceiver {
 *   override delimiter = "\n";
 *   override lineReceived(line: string): void {
 *     this.sendLine(line.toUpperCase());
 *   }
 * }
 *
 * const written: Array<Uint8Array | string> = [];
 * const transport = { write: (d: Uint8Array | string) => written.push(d) } as unknown as Transport;
 * const p = new Shout();
 * p.makeConnection(transport);
 * // Feed it one byte at a time, as a test should.
 * for (const byte of new TextEncoder().encode("hi\nthere\n")) p.dataReceived(Uint8Array.of(byte));
 * assert.deepEqual(written, ["HI\n", "THERE\n"]);
 * ```
 */
export class LineReceiver extends Protocol implements PushProducer {
  /**
   * What ends a line: `"\r\n"` by default. A string is encoded as UTF-8.
   * Override it in a subclass field (`override delimiter = "\n"`) or assign it,
   * even from `lineReceived`.
   */
  delimiter: string | Uint8Array = "\r\n";

  /**
   * The longest line accepted, in bytes, delimiter excluded (16384). Longer
   * lines go to {@linkcode LineReceiver.lineLengthExceeded}.
   */
  MAX_LENGTH: number = 16384;

  /**
   * Whether delivery is paused: set by {@linkcode LineReceiver.pauseProducing}
   * and {@linkcode LineReceiver.stopProducing}, cleared by
   * {@linkcode LineReceiver.resumeProducing}. Data received meanwhile is
   * buffered.
   */
  paused: boolean = false;

  #buffer: ReceiveBuffer = new ReceiveBuffer();
  #scanner: LineScanner = new LineScanner();
  #lineMode: boolean = true;
  #busy: boolean = false;
  #stopped: boolean = false;
  // How many live bytes (from the buffer's start) are known to hold no delimiter.
  #scanned: number = 0;
  #delimiterSource: string | Uint8Array | null = null;
  #delimiterBytes: Uint8Array = new Uint8Array(0);

  /** Whether the receiver is in line mode (`true`, the default) or raw mode. */
  get lineMode(): boolean {
    return this.#lineMode;
  }

  /**
   * Cuts the received bytes into lines and calls
   * {@linkcode LineReceiver.lineReceived} for each, or passes them to
   * {@linkcode LineReceiver.rawDataReceived} in raw mode. A call from inside
   * one of those methods only appends to the buffer; the running call parses
   * it.
   *
   * @param data The next chunk of the stream, of any size (empty is fine: it
   * delivers lines held while paused).
   * @returns The first truthy value returned by `lineReceived`,
   * `rawDataReceived` or `lineLengthExceeded`, or `undefined`.
   * @throws {RangeError} If `delimiter` is empty. Whatever `lineReceived` or
   * `rawDataReceived` throws propagates; the line it was given is consumed.
   */
  override dataReceived(data: Uint8Array): unknown {
    if (this.#stopped) return undefined;
    const buffer = this.#buffer;
    if (this.#busy) {
      buffer.append(data);
      return undefined;
    }
    this.#busy = true;
    try {
      buffer.append(data);
      return this.#parse();
    } finally {
      this.#busy = false;
      this.#scanner.reset();
      buffer.retain();
    }
  }

  #parse(): unknown {
    const buffer = this.#buffer;
    while (buffer.start < buffer.bytes.length && !this.paused) {
      if (!this.#lineMode) {
        this.#scanned = 0;
        const why = this.rawDataReceived(buffer.takeAll());
        if (why) return why;
        continue;
      }
      const delimiter = this.#delimiter();
      const bytes = buffer.bytes;
      const start = buffer.start;
      const end = this.#scanner.find(bytes, delimiter, start, start + this.#scanned);
      if (end < 0) {
        const size = bytes.length - start;
        if (size >= this.MAX_LENGTH + delimiter.length) {
          this.#scanned = 0;
          return this.lineLengthExceeded(buffer.takeAll());
        }
        // The last delimiter.length - 1 bytes may begin a delimiter.
        this.#scanned = Math.max(0, size - delimiter.length + 1);
        return undefined;
      }
      this.#scanned = 0;
      if (end - start > this.MAX_LENGTH) {
        return this.lineLengthExceeded(buffer.takeAll());
      }
      buffer.start = end + delimiter.length;
      const why = this.lineReceived(this.#scanner.decode(bytes, start, end));
      if (why || this.transport?.disconnecting) return why;
    }
    return undefined;
  }

  #delimiter(): Uint8Array {
    const source = this.delimiter;
    if (source !== this.#delimiterSource) {
      const bytes = toBytes(source);
      if (bytes.length === 0) throw new RangeError("LineReceiver.delimiter must not be empty");
      this.#delimiterSource = source;
      this.#delimiterBytes = bytes;
      this.#scanned = 0;
    }
    return this.#delimiterBytes;
  }

  /**
   * Called with each line, without its delimiter: override it. Parsing stops
   * after this call if the transport is disconnecting or the protocol paused.
   *
   * @param line The line, decoded as UTF-8 (invalid bytes become U+FFFD).
   * @returns Nothing; a truthy value (Twisted style) stops parsing and is
   * returned by `dataReceived`.
   * @throws {Error} `NotImplementedError` unless overridden.
   */
  lineReceived(line: string): unknown {
    throw notImplemented(`LineReceiver.lineReceived(${JSON.stringify(line.slice(0, 40))})`);
  }

  /**
   * Called in raw mode with everything received since the previous call:
   * override it if you use {@linkcode LineReceiver.setRawMode}. Hand bytes
   * that belong to the next line back with
   * {@linkcode LineReceiver.setLineMode}`(rest)`.
   *
   * @param data The bytes, yours to keep.
   * @returns Nothing; a truthy value stops parsing and is returned by
   * `dataReceived` (Twisted's way of reporting an error from here).
   * @throws {Error} `NotImplementedError` unless overridden.
   */
  rawDataReceived(data: Uint8Array): unknown {
    throw notImplemented(`LineReceiver.rawDataReceived(<${data.length} bytes>)`);
  }

  /**
   * Called when a line is too long, with the whole buffer (which is then
   * empty): either `MAX_LENGTH + delimiter.length` bytes or more without a
   * delimiter, or a line longer than `MAX_LENGTH` followed by its delimiter and
   * everything received after it. Closes the connection by default; an
   * override may carry on, for example with `setLineMode(rest)`.
   *
   * @param line The buffered bytes, starting with (part of) the long line.
   * @returns Whatever the override returns: a truthy value is returned by
   * `dataReceived`.
   */
  lineLengthExceeded(line: Uint8Array): unknown {
    void line;
    this.transport?.loseConnection();
    return undefined;
  }

  /**
   * Writes `line` followed by the delimiter, in one write.
   *
   * @param line The line, without its delimiter; a string is sent as UTF-8.
   * @throws {Error} If the protocol has no transport yet.
   */
  sendLine(line: string | Uint8Array): void {
    const transport = this.transport;
    if (transport === null) throw new Error("Cannot send a line: the protocol has no transport");
    const delimiter = this.delimiter;
    if (typeof line === "string" && typeof delimiter === "string") {
      transport.write(line + delimiter);
    } else {
      transport.write(concat2(toBytes(line), toBytes(delimiter)));
    }
  }

  /**
   * Switches to raw mode: the rest of the current chunk and all later data go
   * to {@linkcode LineReceiver.rawDataReceived}. Call it from `lineReceived`.
   */
  setRawMode(): void {
    this.#lineMode = false;
  }

  /**
   * Switches back to line mode. From `rawDataReceived`, pass the bytes you did
   * not use: they are parsed for lines before anything received later. Do not
   * pass `extra` from `lineReceived`: it would be parsed after the rest of the
   * current chunk.
   *
   * @param extra Bytes (or a UTF-8 string) to parse as the start of the line stream.
   * @returns What `dataReceived(extra)` returns when called outside parsing;
   * `undefined` otherwise.
   */
  setLineMode(extra?: Uint8Array | string): unknown {
    this.#lineMode = true;
    if (extra !== undefined && extra.length > 0) return this.dataReceived(toBytes(extra));
    return undefined;
  }

  /**
   * Empties the buffer and returns what it held: bytes received but not yet
   * parsed. Useful from `lineReceived` when the rest of the stream is no
   * longer lines (a protocol upgrade, for instance).
   *
   * @returns The buffered bytes, yours to keep.
   */
  clearLineBuffer(): Uint8Array {
    this.#scanned = 0;
    return this.#buffer.takeAll();
  }

  /**
   * Holds further lines and pauses the transport (so it stops reading).
   * Call it from `lineReceived` to handle one line at a time.
   */
  pauseProducing(): void {
    this.paused = true;
    this.transport?.pauseProducing();
  }

  /**
   * Resumes the transport and delivers the lines held while paused, at once
   * (by calling `dataReceived` with no data). Does nothing after
   * {@linkcode LineReceiver.stopProducing}.
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
