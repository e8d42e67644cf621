import { Protocol } from "./protocol.ts";
import {
  concat2,
  indexOfDelimiter,
  LineScanner,
  notImplemented,
  ReceiveBuffer,
  toBytes,
} from "./_receive_buffer.ts";

/**
 * A leaner {@linkcode LineReceiver} for protocols that are lines and nothing
 * else: no raw mode, no pausing, so nothing to check between lines but the
 * connection state. Each chunk is cut at every
 * {@linkcode LineOnlyReceiver.delimiter} and
 * {@linkcode LineOnlyReceiver.lineReceived} is called once per complete line.
 *
 * Limits, as in Twisted: a complete line longer than
 * {@linkcode LineOnlyReceiver.MAX_LENGTH} bytes goes to
 * {@linkcode LineOnlyReceiver.lineLengthExceeded} (by default: close the
 * connection) and the other complete lines of that chunk are dropped; an
 * unfinished line that can no longer fit (`MAX_LENGTH + delimiter.length`
 * bytes or more without a delimiter) goes there too, and stays buffered. Once
 * `transport.disconnecting` is set, the remaining lines of the chunk are
 * dropped.
 *
 * In tests, feed `dataReceived` the same stream in every chunking, down to one
 * byte at a time.
 *
 * Divergences from Twisted:
 * - `lineReceived` gets a `string` decoded as UTF-8 (invalid bytes become
 *   U+FFFD, never an exception; a byte-order mark is kept); `MAX_LENGTH`
 *   counts bytes.
 * - `delimiter` may be a `string` (encoded as UTF-8) or bytes; an empty one
 *   makes parsing throw `RangeError`.
 * - An unfinished line is reported at `MAX_LENGTH + delimiter.length` bytes,
 *   as `LineReceiver` does, not at `MAX_LENGTH + 1`: Twisted's rule reports a
 *   line of exactly `MAX_LENGTH` bytes whose delimiter is split across chunks,
 *   so its result depended on the chunking.
 * - A `dataReceived` call from inside `lineReceived` appends to the buffer
 *   and its lines are delivered in stream order by the running call (Twisted
 *   parses them at once, ahead of the rest of the outer chunk).
 * - `sendLine` writes the line and the delimiter in one `write` (Twisted uses
 *   `writeSequence`); the bytes on the wire are the same.
 * - The default `lineReceived` throws an `Error` named `NotImplementedError`.
 *
 * @example Counting lines
 * ```ts
 * import { LineOnlyReceiver } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class Collect extends LineOnlyReceiver {
 *   lines: string[] = [];
 *   override lineReceived(line: string): void {
 *     this.lines.push(line);
 *   }
 * }
 *
 * const p = new Collect();
 * // In tests, feed dataReceived one byte at a time as well.
 * p.dataReceived(new TextEncoder().encode("one\r\ntwo\r\nthr"));
 * p.dataReceived(new TextEncoder().encode("ee\r\n"));
 * assert.deepEqual(p.lines, ["one", "two", "three"]);
 * ```
 */
export class LineOnlyReceiver extends Protocol {
  /** What ends a line: `"\r\n"` by default. A string is encoded as UTF-8. */
  delimiter: string | Uint8Array = "\r\n";

  /** The longest line accepted, in bytes, delimiter excluded (16384). */
  MAX_LENGTH: number = 16384;

  #buffer: ReceiveBuffer = new ReceiveBuffer();
  #scanner: LineScanner = new LineScanner();
  #busy: boolean = false;
  #scanned: number = 0;
  #delimiterSource: string | Uint8Array | null = null;
  #delimiterBytes: Uint8Array = new Uint8Array(0);

  /**
   * Cuts the received bytes into lines and calls
   * {@linkcode LineOnlyReceiver.lineReceived} for each.
   *
   * @param data The next chunk of the stream, of any size.
   * @returns What `lineLengthExceeded` returned, if it was called.
   * @throws {RangeError} If `delimiter` is empty. Whatever `lineReceived`
   * throws propagates; the line it was given is consumed, the lines after it
   * stay buffered for the next call (Twisted drops them).
   */
  override dataReceived(data: Uint8Array): unknown {
    const buffer = this.#buffer;
    buffer.append(data);
    if (this.#busy) return undefined;
    this.#busy = true;
    try {
      return this.#parse();
    } finally {
      this.#busy = false;
      this.#scanner.reset();
      buffer.retain();
    }
  }

  #parse(): unknown {
    const buffer = this.#buffer;
    const delimiter = this.#delimiter();
    for (;;) {
      const bytes = buffer.bytes;
      const start = buffer.start;
      const end = this.#scanner.find(bytes, delimiter, start, start + this.#scanned);
      if (end < 0) break;
      this.#scanned = 0;
      buffer.start = end + delimiter.length;
      if (this.transport?.disconnecting) {
        this.#dropCompleteLines(delimiter);
        return undefined;
      }
      if (end - start > this.MAX_LENGTH) {
        const line = buffer.copy(start, end);
        this.#dropCompleteLines(delimiter);
        return this.lineLengthExceeded(line);
      }
      this.lineReceived(this.#scanner.decode(bytes, start, end));
    }
    const size = buffer.size;
    this.#scanned = Math.max(0, size - delimiter.length + 1);
    if (size >= this.MAX_LENGTH + delimiter.length) {
      return this.lineLengthExceeded(buffer.copy(buffer.start, buffer.bytes.length));
    }
    return undefined;
  }

  // Consumes every complete line left, delivering none.
  #dropCompleteLines(delimiter: Uint8Array): void {
    const buffer = this.#buffer;
    for (;;) {
      const end = indexOfDelimiter(buffer.bytes, delimiter, buffer.start);
      if (end < 0) break;
      buffer.start = end + delimiter.length;
    }
    this.#scanned = Math.max(0, buffer.size - delimiter.length + 1);
  }

  #delimiter(): Uint8Array {
    const source = this.delimiter;
    if (source !== this.#delimiterSource) {
      const bytes = toBytes(source);
      if (bytes.length === 0) {
        throw new RangeError("LineOnlyReceiver.delimiter must not be empty");
      }
      this.#delimiterSource = source;
      this.#delimiterBytes = bytes;
      this.#scanned = 0;
    }
    return this.#delimiterBytes;
  }

  /**
   * Called with each line, without its delimiter: override it.
   *
   * @param line The line, decoded as UTF-8 (invalid bytes become U+FFFD).
   * @throws {Error} `NotImplementedError` unless overridden.
   */
  lineReceived(line: string): void {
    throw notImplemented(`LineOnlyReceiver.lineReceived(${JSON.stringify(line.slice(0, 40))})`);
  }

  /**
   * Called with a line longer than `MAX_LENGTH`: complete, or still unfinished
   * with `MAX_LENGTH + delimiter.length` bytes or more. Closes the connection
   * by default.
   *
   * @param line The long line's bytes, without a delimiter.
   * @returns Whatever the override returns; `dataReceived` returns it.
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
}
