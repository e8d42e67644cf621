/**
 * An incremental HTTP/1.x response parser: fed a connection's bytes in chunks
 * of any size, it reports the response head, the body's bytes and the end of
 * the response, or throws {@linkcode ParseError}. It knows nothing of
 * sockets: the HTTP client drives it, and tests feed it directly.
 *
 * @module
 */
import { BadResponseVersion, ParseError } from "./parse_error.ts";
import { concat, encode, latin1, TOKEN, trimOWS } from "./_syntax.ts";

/** The most bytes a status line plus headers may take (per response). */
export const MAX_HEADER_BYTES = 64 * 1024;
/** The most bytes a chunk-size line may take, extensions included (as Twisted). */
export const MAX_CHUNK_SIZE_LINE = 1024;
/** The most bytes the trailer section of a chunked body may take. */
export const MAX_TRAILER_BYTES = 64 * 1024;
/**
 * The most interim (1xx) responses skipped before the final one: a server
 * may send a few (`100 Continue`, `103 Early Hints`, `102 Processing` while
 * it works); one that sends them without end fails the request instead of
 * holding it forever.
 */
export const MAX_INTERIM_RESPONSES = 100;
/**
 * The most empty lines accepted before each status line (RFC 9112 section
 * 2.2 lets a recipient ignore some; aiohttp sends one after a `100
 * Continue`).
 */
export const MAX_EMPTY_LINES = 16;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const EMPTY = new Uint8Array(0);
const VERSION = /^HTTP\/(\d+)\.(\d+)$/;
const STATUS_CODE = /^\d{3}$/;
const DIGITS = /^\d+$/;
const HEX = /^[0-9A-Fa-f]+$/;
/** Chunk data pieces shorter than this are gathered (see `#gatherPiece`). */
const SMALL_PIECE = 64;
/** The first buffer small pieces are gathered into in a feed; later ones double. */
const MIN_GATHER = 1024;
// Chunk extensions: what Twisted allows (visible ASCII, spaces and tabs).
const CHUNK_EXTENSION = /^[\t\x20-\x7e]*$/;

/**
 * How the body of a response is delimited: `"none"` (HEAD, 204, 304,
 * `Content-Length: 0`), `"length"` (`Content-Length`), `"chunked"`
 * (`Transfer-Encoding: chunked`) or `"close"` (read until the connection
 * closes).
 */
export type BodyMode = "none" | "length" | "chunked" | "close";

/** A response's status line and headers, as the parser reports them. */
export interface ResponseHead {
  /** The version, as Twisted has it: `["HTTP", 1, 1]`. */
  readonly version: readonly [protocol: string, major: number, minor: number];
  /** The status code. */
  readonly code: number;
  /** The reason phrase, possibly empty. */
  readonly phrase: string;
  /** Every header in the order received, names as sent, values ISO-8859-1 decoded. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  /** How the body is delimited. */
  readonly bodyMode: BodyMode;
  /** The body's length when known: `Content-Length`, or 0 without a body. */
  readonly length: number | undefined;
  /** Whether the connection may carry another request after this response. */
  readonly persistent: boolean;
}

/** What the parser reports to. */
export interface ResponseParserHandler {
  /**
   * An interim (1xx) response has been read and skipped, such as the
   * `100 Continue` a request with `Expect: 100-continue` waits for.
   *
   * @param code Its status code.
   */
  interim?(code: number): void;
  /**
   * The status line and headers of the final (non-1xx) response have arrived.
   *
   * @param head The head.
   */
  head(head: ResponseHead): void;
  /**
   * Some bytes of the body (transfer coding removed). The array is a view of
   * the fed chunk: copy it to keep it past the chunk's lifetime.
   *
   * @param data The bytes.
   */
  body(data: Uint8Array): void;
  /**
   * The response is complete. Nothing more is reported.
   *
   * @param rest The bytes fed after the end of the response.
   * @param trailers The trailer fields of a chunked body, in order.
   */
  done(rest: Uint8Array, trailers: ReadonlyArray<readonly [name: string, value: string]>): void;
}

/** Options for {@linkcode HTTPResponseParser}. */
export interface HTTPResponseParserOptions {
  /** The request's method: a response to `HEAD` has no body. Default `"GET"`. */
  method?: string;
  /** The most bytes the status line and headers may take (default 64 KiB). */
  maxHeaderBytes?: number;
}

/**
 * How a response stood when its connection closed, as
 * {@linkcode HTTPResponseParser.connectionLost} reports it:
 * - `"complete"`: the response had ended already;
 * - `"potentialDataLoss"`: a close-delimited body ended with the connection
 *   (it is complete, unless the connection broke);
 * - `"dataLoss"`: in the middle of a body whose length was known (by
 *   `Content-Length` or chunking);
 * - `"incompleteHead"`: after some bytes of the response, before the end of
 *   its headers;
 * - `"noResponse"`: before any byte of the response;
 * - `"failed"`: after the parser threw a `ParseError`, or after `stop()`.
 */
export type ParserEnd =
  | "complete"
  | "potentialDataLoss"
  | "dataLoss"
  | "incompleteHead"
  | "noResponse"
  | "failed";

const enum State {
  Status,
  Headers,
  Length,
  ChunkSize,
  ChunkData,
  ChunkCRLF,
  Trailers,
  Close,
  Done,
  Failed,
}

/**
 * Parses one HTTP/1.0 or HTTP/1.1 response from bytes fed in chunks of any
 * size, as Twisted's `HTTPClientParser` does, without copying the body.
 *
 * Lines may end in CRLF or a bare LF in the head (as Twisted accepts), but
 * chunked framing must use CRLF. Folded header lines (obs-fold) are joined
 * with one space. Repeated headers are all kept, in order. Up to
 * {@linkcode MAX_EMPTY_LINES} empty lines before a status line are ignored
 * (RFC 9112 section 2.2). Interim responses (100 to 199) are skipped, up to
 * {@linkcode MAX_INTERIM_RESPONSES} of them; codes 000 to 099 are final, as
 * Twisted, Node and llhttp take them. A body is delimited by
 * `Transfer-Encoding: chunked` (which wins over `Content-Length`; with both,
 * the connection is not persistent, as RFC 9112 section 6.3 requires), then
 * by `Content-Length` (several headers must agree), else by the end of the
 * connection; a response to HEAD, and 204 and 304 responses, have none.
 * Chunk extensions are ignored; trailers are kept.
 *
 * Stricter than Twisted, which takes any integer status and any version:
 * the status code must be three digits and the version `HTTP/1.x`; a
 * transfer coding other than `chunked` is a `ParseError` too (Twisted fails
 * with a `KeyError`).
 *
 * Every violation throws {@linkcode ParseError} out of
 * {@linkcode HTTPResponseParser.feed}, after which the parser is failed and
 * takes nothing more. Tests should feed the same stream in every chunking,
 * down to one byte at a time.
 *
 * @example Parsing a chunked response fed in two pieces
 * ```ts
 * import { HTTPResponseParser } from "./_parser.ts";
 * import assert from "node:assert/strict";
 *
 * const events: string[] = [];
 * const parser = new HTTPResponseParser({
 *   head: (h) => events.push(`${h.code} ${h.bodyMode}`),
 *   body: (b) => events.push(new TextDecoder().decode(b)),
 *   done: () => events.push("done"),
 * });
 * const wire = new TextEncoder().encode(
 *   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
 * );
 * parser.feed(wire.subarray(0, 53));
 * parser.feed(wire.subarray(53));
 * assert.deepEqual(events, ["200 chunked", "hel", "lo", "done"]);
 * ```
 */
export class HTTPResponseParser {
  readonly #handler: ResponseParserHandler;
  readonly #head: boolean;
  readonly #maxHeaderBytes: number;

  #state: State = State.Status;
  #received = false;
  // Interim responses skipped, and empty lines before the next status line.
  #interim = 0;
  #emptyLines = 0;

  // A line in progress: its pieces so far, and the bytes they hold.
  #pieces: Uint8Array[] = [];
  #lineBytes = 0;
  // Bytes of the head (or trailers) so far, for the size limits.
  #sectionBytes = 0;

  // The head being read.
  #version: readonly [string, number, number] = ["HTTP", 1, 1];
  #code = 0;
  #phrase = "";
  #fields: Array<[string, string]> = [];

  // The body being read.
  #remaining = 0;
  #crlf = 0;
  // Small pieces of chunked data gathered during one feed, to be reported
  // as one: #gather[#gatherStart, #gatherEnd) is not yet reported. Reported
  // views are never written to again, so the body's reader may keep them.
  #gather: Uint8Array | undefined;
  #gatherStart = 0;
  #gatherEnd = 0;

  /**
   * Makes a parser for one response.
   *
   * @param handler Hears the head, the body and the end.
   * @param options The request's method and the header size limit.
   */
  constructor(handler: ResponseParserHandler, options: HTTPResponseParserOptions = {}) {
    this.#handler = handler;
    this.#head = (options.method ?? "GET").toUpperCase() === "HEAD";
    this.#maxHeaderBytes = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
  }

  /** Whether the response has ended (`done` was reported). */
  get finished(): boolean {
    return this.#state === State.Done;
  }

  /**
   * Stops the parser: it takes nothing more, and reports nothing more, even
   * from inside the `feed` that is running.
   */
  stop(): void {
    if (this.#state !== State.Done) this.#state = State.Failed;
  }

  /**
   * Parses more bytes. Once the response has ended, or after a failure,
   * bytes are ignored.
   *
   * @param data The next bytes from the connection, of any length.
   * @throws {ParseError} If the bytes are not a valid response.
   */
  feed(data: Uint8Array): void {
    const n = data.length;
    if (n > 0 && this.#state <= State.Close) this.#received = true;
    let pos = 0;
    try {
      while (pos < n) {
        switch (this.#state) {
          case State.ChunkSize:
            pos = this.#chunkSizeFast(data, pos);
            if (this.#state === State.ChunkSize) pos = this.#lineBytesReceived(data, pos);
            break;
          case State.Status:
          case State.Headers:
          case State.Trailers:
            pos = this.#lineBytesReceived(data, pos);
            break;
          case State.Length: {
            const end = Math.min(n, pos + this.#remaining);
            this.#remaining -= end - pos;
            this.#handler.body(data.subarray(pos, end));
            pos = end;
            if (this.#remaining === 0 && this.#state === State.Length) this.#finish(data, pos);
            break;
          }
          case State.ChunkData: {
            const end = Math.min(n, pos + this.#remaining);
            this.#remaining -= end - pos;
            if (end - pos < SMALL_PIECE) this.#gatherPiece(data, pos, end);
            else {
              this.#flushGathered();
              this.#handler.body(data.subarray(pos, end));
            }
            pos = end;
            if (this.#remaining === 0 && this.#state === State.ChunkData) {
              this.#state = State.ChunkCRLF;
              this.#crlf = 0;
            }
            break;
          }
          case State.ChunkCRLF: {
            const want = this.#crlf === 0 ? CR : LF;
            if (data[pos] !== want) {
              throw new ParseError(
                "Chunk data is not followed by CRLF",
                data.subarray(pos, pos + 16),
              );
            }
            pos++;
            if (++this.#crlf === 2) this.#state = State.ChunkSize;
            break;
          }
          case State.Close:
            this.#handler.body(pos === 0 ? data : data.subarray(pos));
            pos = n;
            break;
          default: // Done or Failed: the rest is not ours.
            this.#flushGathered();
            return;
        }
      }
      this.#flushGathered();
    } catch (error) {
      // What came before the error is still the body's.
      if (this.#state !== State.Failed) this.#flushGathered();
      this.#state = State.Failed;
      this.#pieces = [];
      throw error;
    } finally {
      this.#gather = undefined;
    }
  }

  /**
   * Copies a small piece of chunk data onto the gathered bytes: a body sent
   * as many tiny chunks is then reported once per feed, not once per chunk.
   */
  #gatherPiece(data: Uint8Array, pos: number, end: number): void {
    let gather = this.#gather;
    let at = this.#gatherEnd;
    if (gather === undefined || gather.length - at < end - pos) {
      // Full (or none yet): report what it holds and start another, twice
      // the size, at most what is left of this feed.
      this.#flushGathered();
      const size = gather === undefined ? MIN_GATHER : gather.length * 2;
      gather = this.#gather = new Uint8Array(Math.min(size, data.length - pos));
      this.#gatherStart = at = 0;
    }
    for (let i = pos; i < end; i++) gather[at++] = data[i];
    this.#gatherEnd = at;
  }

  /** Reports the gathered bytes, if any. */
  #flushGathered(): void {
    if (this.#gather === undefined || this.#gatherEnd === this.#gatherStart) return;
    const start = this.#gatherStart;
    this.#gatherStart = this.#gatherEnd;
    this.#handler.body(this.#gather.subarray(start, this.#gatherEnd));
  }

  /**
   * Reads a chunk-size line made only of hex digits and CRLF straight from
   * `data`, without building a string. Anything else (extensions, a line
   * split across feeds, bad bytes) is left to the general line reader.
   *
   * @returns Where the line ended, or `pos` if it was left.
   */
  #chunkSizeFast(data: Uint8Array, pos: number): number {
    if (this.#pieces.length !== 0) return pos;
    let size = 0;
    let i = pos;
    for (; i < data.length && i - pos <= 13; i++) {
      const byte = data[i];
      const digit = byte >= 0x30 && byte <= 0x39
        ? byte - 0x30
        : byte >= 0x61 && byte <= 0x66
        ? byte - 0x57
        : byte >= 0x41 && byte <= 0x46
        ? byte - 0x37
        : -1;
      if (digit === -1) break;
      size = size * 16 + digit;
    }
    const digits = i - pos;
    if (digits === 0 || digits > 13 || data[i] !== CR || data[i + 1] !== LF) return pos;
    this.#startChunk(size);
    return i + 2;
  }

  /**
   * Says the connection has closed, and how that leaves the response. A
   * close-delimited body ends here (the parser is then finished).
   *
   * @returns How the response stood; see {@linkcode ParserEnd}.
   */
  connectionLost(): ParserEnd {
    switch (this.#state) {
      case State.Done:
        return "complete";
      case State.Failed:
        return "failed";
      case State.Close:
        this.#state = State.Done;
        return "potentialDataLoss";
      case State.Status:
      case State.Headers:
        this.#state = State.Failed;
        return this.#received ? "incompleteHead" : "noResponse";
      default:
        this.#state = State.Failed;
        return "dataLoss";
    }
  }

  // -------------------------------------------------------------------------
  // Lines
  // -------------------------------------------------------------------------

  /** Takes bytes of a line from `pos`; handles the line if it is complete. */
  #lineBytesReceived(data: Uint8Array, pos: number): number {
    const lf = data.indexOf(LF, pos);
    const end = lf === -1 ? data.length : lf + 1;
    const taken = end - pos;
    this.#lineBytes += taken;
    const state = this.#state;
    if (state === State.ChunkSize) {
      if (this.#lineBytes > MAX_CHUNK_SIZE_LINE) {
        throw new ParseError(
          `Chunk size line is longer than ${MAX_CHUNK_SIZE_LINE} bytes`,
          concat(this.#pieces, data.subarray(pos, end)),
        );
      }
    } else {
      this.#sectionBytes += taken;
      const limit = state === State.Trailers ? MAX_TRAILER_BYTES : this.#maxHeaderBytes;
      if (this.#sectionBytes > limit) {
        throw new ParseError(
          state === State.Trailers
            ? `Trailers are longer than ${limit} bytes`
            : `Response headers are longer than ${limit} bytes`,
          concat(this.#pieces, data.subarray(pos, end)),
        );
      }
    }
    if (lf === -1) {
      // A copy: the parser keeps no view of a fed chunk once feed() returns,
      // so its caller may reuse the buffer (a protocol with borrowsData).
      this.#pieces.push(data.slice(pos));
      return data.length;
    }
    let line = this.#pieces.length === 0
      ? data.subarray(pos, lf)
      : concat(this.#pieces, data.subarray(pos, lf));
    this.#pieces = [];
    this.#lineBytes = 0;
    if (line.length > 0 && line[line.length - 1] === CR) {
      line = line.subarray(0, line.length - 1);
    } else if (state === State.ChunkSize || state === State.Trailers) {
      throw new ParseError("Chunked framing line does not end with CRLF", line);
    }
    if (line.indexOf(CR) !== -1 || line.indexOf(0) !== -1) {
      throw new ParseError("Line holds a CR or NUL byte", line);
    }
    switch (state) {
      case State.Status:
        if (line.length === 0) {
          if (++this.#emptyLines > MAX_EMPTY_LINES) {
            throw new ParseError(
              `More than ${MAX_EMPTY_LINES} empty lines before the status line`,
              line,
            );
          }
          break;
        }
        this.#statusLine(line);
        break;
      case State.Headers:
        if (line.length === 0) return this.#headersDone(data, lf + 1);
        this.#fieldLine(line, this.#fields, "header");
        break;
      case State.ChunkSize:
        this.#chunkSizeLine(line);
        break;
      case State.Trailers:
        if (line.length === 0) {
          this.#finish(data, lf + 1);
          return data.length;
        }
        this.#fieldLine(line, this.#fields, "trailer");
        break;
    }
    return lf + 1;
  }

  #statusLine(line: Uint8Array): void {
    const text = latin1(line);
    const firstSpace = text.indexOf(" ");
    if (firstSpace === -1) throw new ParseError("Status line has no status code", line);
    const version = VERSION.exec(text.slice(0, firstSpace));
    if (version === null) {
      throw new BadResponseVersion("Not an HTTP version", line.subarray(0, firstSpace));
    }
    const major = Number(version[1]);
    const minor = Number(version[2]);
    if (major !== 1) {
      throw new BadResponseVersion(
        `HTTP/${major}.x is not supported`,
        line.subarray(0, firstSpace),
      );
    }
    const secondSpace = text.indexOf(" ", firstSpace + 1);
    const code = secondSpace === -1
      ? text.slice(firstSpace + 1)
      : text.slice(firstSpace + 1, secondSpace);
    if (!STATUS_CODE.test(code)) throw new ParseError("Status code is not 3 digits", line);
    if (code[0] === "1" && this.#interim >= MAX_INTERIM_RESPONSES) {
      throw new ParseError(
        `More than ${MAX_INTERIM_RESPONSES} interim (1xx) responses before the final one`,
        line,
      );
    }
    this.#emptyLines = 0;
    this.#version = ["HTTP", major, minor];
    this.#code = Number(code);
    this.#phrase = secondSpace === -1 ? "" : text.slice(secondSpace + 1);
    this.#fields = [];
    this.#state = State.Headers;
  }

  /** Parses `name: value` (or a folded continuation) into `fields`. */
  #fieldLine(line: Uint8Array, fields: Array<[string, string]>, what: string): void {
    const first = line[0];
    if (first === SP || first === HTAB) {
      // obs-fold: a continuation of the previous field, joined with a space.
      const last = fields[fields.length - 1];
      if (last === undefined) {
        throw new ParseError(`Folded ${what} line comes before any ${what}`, line);
      }
      const more = trimOWS(latin1(line));
      if (more !== "") last[1] = last[1] === "" ? more : `${last[1]} ${more}`;
      return;
    }
    const colon = line.indexOf(0x3a);
    if (colon === -1) throw new ParseError(`The ${what} line has no colon`, line);
    const name = latin1(line.subarray(0, colon));
    if (!TOKEN.test(name)) throw new ParseError(`Invalid ${what} name`, line);
    fields.push([name, trimOWS(latin1(line.subarray(colon + 1)))]);
  }

  #chunkSizeLine(line: Uint8Array): void {
    const text = latin1(line);
    const semicolon = text.indexOf(";");
    const size = trimOWS(semicolon === -1 ? text : text.slice(0, semicolon));
    if (!HEX.test(size) || size.length > 13) {
      throw new ParseError("Chunk size is not a hexadecimal number", line);
    }
    if (semicolon !== -1 && !CHUNK_EXTENSION.test(text.slice(semicolon + 1))) {
      throw new ParseError("Invalid characters in chunk extensions", line);
    }
    this.#startChunk(parseInt(size, 16));
  }

  /** A chunk of `length` bytes follows; 0 is the last chunk. */
  #startChunk(length: number): void {
    if (length === 0) {
      this.#state = State.Trailers;
      this.#fields = [];
      this.#sectionBytes = 0;
    } else {
      this.#state = State.ChunkData;
      this.#remaining = length;
    }
  }

  // -------------------------------------------------------------------------
  // The end of the head
  // -------------------------------------------------------------------------

  /** The blank line after the headers: works out the body, reports the head. */
  #headersDone(data: Uint8Array, pos: number): number {
    const code = this.#code;
    if (code >= 100 && code < 200) {
      // 1xx: an interim response, skipped as Twisted does. (000-099 are final.)
      this.#interim++;
      this.#state = State.Status;
      this.#sectionBytes = 0;
      this.#fields = [];
      this.#handler.interim?.(code);
      return pos;
    }
    const fields = this.#fields;
    let contentLength: string | undefined;
    let contentLengthLine: string | undefined;
    let codings: string[] | undefined;
    let connection = "";
    for (const [name, value] of fields) {
      const lower = name.length === 14 || name.length === 17 || name.length === 10
        ? name.toLowerCase()
        : "";
      if (lower === "content-length") {
        for (const part of value.split(",")) {
          const length = trimOWS(part);
          if (!DIGITS.test(length)) {
            throw new ParseError("Invalid Content-Length", encode(`${name}: ${value}`));
          }
          if (contentLength !== undefined && Number(length) !== Number(contentLength)) {
            throw new ParseError(
              "Conflicting Content-Length values",
              encode(`${contentLengthLine}, ${value}`),
            );
          }
          contentLength = length;
          contentLengthLine ??= `${name}: ${value}`;
        }
      } else if (lower === "transfer-encoding") {
        codings ??= [];
        for (const part of value.split(",")) {
          const coding = trimOWS(part).toLowerCase();
          if (coding !== "" && coding !== "identity") codings.push(coding);
        }
        if (codings.some((c) => c !== "chunked") || codings.length > 1) {
          throw new ParseError("Unsupported transfer coding", encode(`${name}: ${value}`));
        }
      } else if (lower === "connection") {
        connection += `,${value.toLowerCase()}`;
      }
    }
    const tokens = connection.split(",").map(trimOWS);
    const [, , minor] = this.#version;
    let persistent = minor >= 1 ? !tokens.includes("close") : tokens.includes("keep-alive");

    let bodyMode: BodyMode;
    let length: number | undefined;
    if (this.#head || code === 204 || code === 304) {
      bodyMode = "none";
      length = 0;
    } else if (codings !== undefined && codings.length > 0) {
      bodyMode = "chunked";
      // Both framings: a smuggling attempt or a broken server (RFC 9112 6.3).
      if (contentLength !== undefined) persistent = false;
    } else if (contentLength !== undefined) {
      length = Number(contentLength);
      if (!Number.isSafeInteger(length)) {
        throw new ParseError("Content-Length is too large", encode(contentLengthLine!));
      }
      bodyMode = length === 0 ? "none" : "length";
    } else {
      bodyMode = "close";
      persistent = false;
    }
    this.#handler.head({
      version: this.#version,
      code,
      phrase: this.#phrase,
      headers: fields,
      bodyMode,
      length,
      persistent,
    });
    if (this.#state !== State.Headers) return data.length; // stopped by the handler
    switch (bodyMode) {
      case "none":
        this.#fields = [];
        this.#finish(data, pos);
        return data.length;
      case "length":
        this.#state = State.Length;
        this.#remaining = length!;
        break;
      case "chunked":
        this.#state = State.ChunkSize;
        this.#lineBytes = 0;
        break;
      case "close":
        this.#state = State.Close;
        break;
    }
    return pos;
  }

  /** The response has ended at `pos` of `data`. */
  #finish(data: Uint8Array, pos: number): void {
    this.#flushGathered();
    if (this.#state === State.Failed) return; // stopped by the body's reader
    const trailers = this.#state === State.Trailers ? this.#fields : [];
    this.#state = State.Done;
    this.#fields = [];
    this.#handler.done(pos < data.length ? data.subarray(pos) : EMPTY, trailers);
  }
}
