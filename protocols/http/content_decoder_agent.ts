/**
 * {@linkcode ContentDecoderAgent}: asks servers for compressed bodies and
 * decompresses them for the application.
 *
 * @module
 */
import type { Deferred } from "../../defer/deferred.ts";
import type { AgentLike } from "./agent.ts";
import type { BodyProducer } from "./body_producer.ts";
import {
  BrotliDecoder,
  type ContentDecoder,
  DeflateDecoder,
  GzipDecoder,
} from "./content_decoders.ts";
import { Headers, type HeadersLike } from "./headers.ts";
import type { Response } from "./response.ts";

/** Every decoder torsion has, in the order they are offered. */
const ALL_DECODERS: ReadonlyArray<readonly [string, ContentDecoder]> = [
  ["gzip", GzipDecoder],
  ["deflate", DeflateDecoder],
  ["br", BrotliDecoder],
];

/**
 * Wraps an agent to ask for compressed bodies and hand them over
 * decompressed: Twisted's `ContentDecoderAgent`. Each request gets an
 * `Accept-Encoding` header naming the decoders' codings, in order (unless
 * the request has one already). Each response whose `Content-Encoding` ends
 * in codings the agent knows is wrapped in their decoders, the last coding
 * first, so `Content-Encoding: gzip, br` is un-brotlied then gunzipped; the
 * first unknown coding (from the end) stops the unwrapping and is left in
 * `Content-Encoding` with those before it, its body as received, as Twisted
 * does. A decoded response has no `Content-Length` and an unknown `length`.
 *
 * Decoding streams: bytes are decompressed as they arrive and flow control
 * reaches the connection. Read a body with `readBody(response, { maxSize })`
 * when the server is not trusted: `maxSize` bounds the decompressed size,
 * so a small body that would expand to gigabytes fails with
 * `BodyTooLargeError` as soon as it passes the limit.
 *
 * Divergences from Twisted: the decoders are optional (default: gzip,
 * deflate and br); a request's own `Accept-Encoding` is kept as given.
 *
 * @example Fetching a compressed page
 * ```ts ignore
 * import { Agent, ContentDecoderAgent, readBody } from "@torsion/torsion/protocols";
 *
 * const agent = new ContentDecoderAgent(new Agent());
 * const response = await agent.request("GET", "http://127.0.0.1:8080/");
 * const body = await readBody(response, { maxSize: 16 * 2 ** 20 });
 * ```
 */
export class ContentDecoderAgent implements AgentLike {
  readonly #agent: AgentLike;
  readonly #decoders: Map<string, ContentDecoder>;
  readonly #supported: string;

  /**
   * Wraps an agent.
   *
   * @param agent The agent that issues each request.
   * @param decoders Codings and their decoders, such as
   *   `[["gzip", GzipDecoder]]`, in the order they are offered (default:
   *   gzip, deflate and br).
   * @throws {TypeError} For an empty list, a repeated or invalid coding, or
   *   a decoder that is not a class.
   */
  constructor(
    agent: AgentLike,
    decoders: Iterable<readonly [coding: string, decoder: ContentDecoder]> = ALL_DECODERS,
  ) {
    this.#agent = agent;
    this.#decoders = new Map();
    for (const [coding, decoder] of decoders) {
      const name = String(coding).toLowerCase();
      if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
        throw new TypeError(`Invalid content coding ${JSON.stringify(coding)}`);
      }
      if (this.#decoders.has(name)) throw new TypeError(`Content coding ${name} is given twice`);
      if (typeof decoder !== "function") {
        throw new TypeError(`The decoder for ${name} must be a class, not ${typeof decoder}`);
      }
      this.#decoders.set(name, decoder);
    }
    if (this.#decoders.size === 0) throw new TypeError("ContentDecoderAgent needs a decoder");
    this.#supported = [...this.#decoders.keys()].join(", ");
  }

  /**
   * Issues a request asking for compressed content.
   *
   * @param method The method.
   * @param url The URL.
   * @param headers Headers to send; `Accept-Encoding` is added unless given.
   * @param body The body: a string, bytes or a body producer.
   * @returns A Deferred of the response, decoded when the agent knows how.
   * @throws {TypeError} As the wrapped agent's `request`.
   */
  request(
    method: string,
    url: string | URL,
    headers?: HeadersLike,
    body?: string | Uint8Array | BodyProducer,
  ): Deferred<Response> {
    const sent = new Headers(headers);
    if (!sent.hasHeader("accept-encoding")) sent.addRawHeader("Accept-Encoding", this.#supported);
    return this.#agent.request(method, url, sent, body).addCallback((response) =>
      this.#decode(response)
    );
  }

  #decode(response: Response): Response {
    const codings = (response.headers.getRawHeaders("content-encoding") ?? []).join(",")
      .split(",").map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== "");
    let decoded = response;
    for (let i = codings.length - 1; i >= 0; i--) {
      const decoder = this.#decoders.get(codings[i]);
      if (decoder === undefined) break;
      decoded = new decoder(decoded);
    }
    return decoded;
  }
}
