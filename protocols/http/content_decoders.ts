/**
 * The content decoders a {@linkcode ContentDecoderAgent} applies to a
 * response whose body was compressed by the server:
 * {@linkcode GzipDecoder} (`gzip`), {@linkcode DeflateDecoder} (`deflate`)
 * and {@linkcode BrotliDecoder} (`br`), and the shape every decoder has
 * ({@linkcode ContentDecoder}).
 *
 * @module
 */
import type { Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from "node:zlib";
import { deliverDecoded, type MakeInflater } from "./_decoding_body.ts";
import type { Headers } from "./headers.ts";
import { Response, type ResponseBodyProtocol } from "./response.ts";

/**
 * A content decoder, as {@linkcode ContentDecoderAgent} takes them: a class
 * that wraps a response whose body has one content coding and is itself
 * the response with that coding removed. Twisted's decoders are callables
 * taking and returning an `IResponse`; here they are constructed with
 * `new`.
 */
export type ContentDecoder = new (response: Response) => Response;

/** The decoded response's headers: no `Content-Length`, one coding fewer. */
function decodedHeaders(response: Response): Headers {
  const headers = response.headers.copy();
  headers.removeHeader("content-length");
  const codings = (headers.getRawHeaders("content-encoding") ?? []).join(",").split(",")
    .map((coding) => coding.trim()).filter((coding) => coding !== "");
  codings.pop();
  if (codings.length === 0) headers.removeHeader("content-encoding");
  else headers.setRawHeaders("content-encoding", [codings.join(", ")]);
  return headers;
}

function decoded(response: Response): Response {
  return new Response({
    version: response.version,
    code: response.code,
    phrase: response.phrase,
    headers: decodedHeaders(response),
    request: response.request,
  });
}

/**
 * Whether two bytes open a zlib stream (RFC 1950): deflate method, a window
 * of at most 32 KiB, and the check bits right.
 */
function isZlibHeader(head: Uint8Array): boolean {
  if (head.length < 2) return false;
  const cmf = head[0];
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | head[1]) % 31 === 0;
}

const gunzip: MakeInflater = (): Transform => createGunzip();
// "deflate" is meant to be zlib-wrapped (RFC 9110), but some servers send
// raw deflate: look at the first two bytes, as browsers do.
const inflate: MakeInflater = (head): Transform =>
  isZlibHeader(head) ? createInflate() : createInflateRaw();
const unbrotli: MakeInflater = (): Transform => createBrotliDecompress();

/**
 * Decodes a `gzip` body: Twisted's `GzipDecoder`. It is the response with
 * the last content coding removed from `Content-Encoding`, no
 * `Content-Length` and an unknown `length`; its body is decompressed as it
 * arrives, in pieces of at most 16 KiB, and a reader that stops (such as
 * `readBody` past its `maxSize`) stops the decompression, so a small body
 * that would expand to gigabytes costs no more memory than the reader
 * allows. Corrupt or truncated data fails the body with
 * {@linkcode ResponseFailed} and closes the connection.
 *
 * Usually made by a {@linkcode ContentDecoderAgent}. Twisted's
 * `GzipDecoder` keeps `Content-Length`; this one drops it, since it no
 * longer tells the body's length.
 *
 * @example Decoding a response by hand
 * ```ts ignore
 * import { Agent, GzipDecoder, readBody } from "@torsion/torsion/protocols";
 *
 * const response = await new Agent().request("GET", "http://127.0.0.1:8080/", {
 *   "Accept-Encoding": "gzip",
 * });
 * const body = await readBody(new GzipDecoder(response), { maxSize: 2 ** 20 });
 * ```
 */
export class GzipDecoder extends Response {
  readonly #original: Response;

  /**
   * Wraps a response.
   *
   * @param response A response whose last content coding is gzip.
   */
  constructor(response: Response) {
    super(decoded(response));
    this.#original = response;
    this.previousResponse = response.previousResponse;
  }

  /**
   * Delivers the decompressed body.
   *
   * @param protocol What receives it.
   * @throws {Error} If the body was already delivered.
   */
  override deliverBody(protocol: ResponseBodyProtocol): void {
    deliverDecoded(this.#original, this, protocol, gunzip);
  }
}

/**
 * Decodes a `deflate` body: zlib-wrapped deflate as RFC 9110 has it, or raw
 * deflate, which some servers send instead (told apart by the first two
 * bytes, as browsers do). In all else like {@linkcode GzipDecoder}.
 * Twisted has no such decoder.
 *
 * @example
 * ```ts ignore
 * import { Agent, ContentDecoderAgent, DeflateDecoder } from "@torsion/torsion/protocols";
 *
 * const agent = new ContentDecoderAgent(new Agent(), [["deflate", DeflateDecoder]]);
 * ```
 */
export class DeflateDecoder extends Response {
  readonly #original: Response;

  /**
   * Wraps a response.
   *
   * @param response A response whose last content coding is deflate.
   */
  constructor(response: Response) {
    super(decoded(response));
    this.#original = response;
    this.previousResponse = response.previousResponse;
  }

  /**
   * Delivers the decompressed body.
   *
   * @param protocol What receives it.
   * @throws {Error} If the body was already delivered.
   */
  override deliverBody(protocol: ResponseBodyProtocol): void {
    deliverDecoded(this.#original, this, protocol, inflate);
  }
}

/**
 * Decodes a `br` (Brotli, RFC 7932) body with `node:zlib`. In all else
 * like {@linkcode GzipDecoder}. Twisted has no such decoder.
 *
 * @example
 * ```ts ignore
 * import { Agent, BrotliDecoder, ContentDecoderAgent } from "@torsion/torsion/protocols";
 *
 * const agent = new ContentDecoderAgent(new Agent(), [["br", BrotliDecoder]]);
 * ```
 */
export class BrotliDecoder extends Response {
  readonly #original: Response;

  /**
   * Wraps a response.
   *
   * @param response A response whose last content coding is br.
   */
  constructor(response: Response) {
    super(decoded(response));
    this.#original = response;
    this.previousResponse = response.previousResponse;
  }

  /**
   * Delivers the decompressed body.
   *
   * @param protocol What receives it.
   * @throws {Error} If the body was already delivered.
   */
  override deliverBody(protocol: ResponseBodyProtocol): void {
    deliverDecoded(this.#original, this, protocol, unbrotli);
  }
}
