/**
 * A response whose head has arrived, and the shapes its body is delivered
 * through: {@linkcode Response} with `deliverBody`, the
 * {@linkcode ResponseBodyProtocol} that receives the body, the
 * {@linkcode ResponseBodyProducer} it gets to pause it, and what a response
 * knows of its request ({@linkcode ClientRequest}).
 *
 * @module
 */
import type { Failure } from "../../defer/failure.ts";
import { BodyStream } from "./_body_stream.ts";
import { Headers } from "./headers.ts";

/**
 * What a response body is delivered to by {@linkcode Response.deliverBody}:
 * any torsion `Protocol` fits. It gets `makeConnection(producer)` first,
 * then `dataReceived` for each piece of the body, then `connectionLost`
 * once, with {@linkcode ResponseDone} (complete),
 * {@linkcode PotentialDataLoss} (a body without a declared length ended with
 * the connection) or {@linkcode ResponseFailed} (broken or malformed).
 */
export interface ResponseBodyProtocol {
  /**
   * Called once, before any data, with a handle to pause the body.
   *
   * @param producer Pauses, resumes or stops the body.
   */
  makeConnection(producer: ResponseBodyProducer): void;
  /**
   * Called with each piece of the body, transfer coding removed.
   *
   * @param data The bytes; they are not reused, so they may be kept.
   */
  dataReceived(data: Uint8Array): void;
  /**
   * Called once when the body has ended.
   *
   * @param reason `ResponseDone`, `PotentialDataLoss` or `ResponseFailed`.
   */
  connectionLost(reason: Failure): void;
}

/**
 * The handle a {@linkcode ResponseBodyProtocol} gets to its body (what it
 * sees as its `transport`): flow control over the connection the body
 * arrives on. It is not a writable transport.
 */
export interface ResponseBodyProducer {
  /** Stops reading the body from the connection until `resumeProducing()`. */
  pauseProducing(): void;
  /** Reads again after `pauseProducing()`. */
  resumeProducing(): void;
  /** Gives up on the body: closes its connection; the body fails. */
  stopProducing(): void;
  /** Gives up on the body: closes its connection at once; the body fails. */
  abortConnection(): void;
}

/** What a {@linkcode Response} knows of the request it answers. */
export interface ClientRequest {
  /** The method, such as `"GET"`. */
  readonly method: string;
  /** The full URL requested (Twisted's name). */
  readonly absoluteURI: string;
  /** The same as `absoluteURI`. */
  readonly url: string;
  /** The headers sent, `Host` included. */
  readonly headers: Headers;
}

/** Everything a {@linkcode Response} is made of. */
export interface ResponseOptions {
  /** The version, as Twisted has it: `["HTTP", 1, 1]`. */
  version: readonly [protocol: string, major: number, minor: number];
  /** The status code. */
  code: number;
  /** The reason phrase. */
  phrase: string;
  /** The headers (default: none). */
  headers?: Headers;
  /** The body's length, when known. */
  length?: number;
  /** The request answered. */
  request?: ClientRequest;
}

let bodyStreamOf: (response: Response) => BodyStream;

/**
 * The body stream of a response, for the connection that fills it.
 *
 * @param response The response.
 * @returns Its body stream.
 */
export function bodyOf(response: Response): BodyStream {
  return bodyStreamOf(response);
}

/**
 * An HTTP response whose status line and headers have arrived; its body
 * arrives later, through {@linkcode Response.deliverBody} or
 * {@linkcode readBody}. An {@linkcode Agent}'s request fires with it.
 *
 * Until the body is asked for, its connection is paused (what has already
 * arrived is kept): read every body, or its connection stays open and busy.
 * On a connection that is not kept alive, the body ends once the
 * connection has closed, so nothing is left open when `readBody` fires.
 *
 * Divergences from Twisted: `headers` holds every header, including the
 * connection-control ones (`Content-Length`, `Transfer-Encoding`,
 * `Connection`) that Twisted keeps apart; `length` is `undefined` where
 * Twisted has `UNKNOWN_LENGTH`; `status` is an alias of `code`; a chunked
 * body's trailers are kept in `trailers`.
 *
 * @example Reading a response's head, then its body
 * ```ts ignore
 * import { Agent, readBody } from "@torsion/torsion/protocols";
 *
 * const response = await new Agent().request("GET", "http://127.0.0.1:8080/");
 * console.log(response.code, response.phrase, response.headers.getRawHeaders("content-type"));
 * console.log(new TextDecoder().decode(await readBody(response)));
 * ```
 */
export class Response {
  /** The version, as Twisted has it: `["HTTP", 1, 1]`. */
  readonly version: readonly [protocol: string, major: number, minor: number];
  /** The status code, such as 200. */
  readonly code: number;
  /** The reason phrase, such as `"OK"` (possibly empty). */
  readonly phrase: string;
  /** Every header of the response. */
  readonly headers: Headers;
  /**
   * The body's length when known in advance (`Content-Length`, or 0 when
   * there is no body); `undefined` for a chunked or close-delimited body.
   */
  readonly length: number | undefined;
  /** The request this answers, when the response came from an agent. */
  readonly request: ClientRequest | undefined;
  /** The trailer fields of a chunked body, once the body has ended. */
  readonly trailers: Headers = new Headers();
  /** The redirect response this one followed, when a redirect agent made it. */
  previousResponse: Response | undefined;

  #body = new BodyStream();

  static {
    bodyStreamOf = (response) => response.#body;
  }

  /**
   * Makes a response; agents do. One made by hand has a body that never
   * arrives.
   *
   * @param options The status line, headers, length and request.
   */
  constructor(options: ResponseOptions) {
    this.version = options.version;
    this.code = options.code;
    this.phrase = options.phrase;
    this.headers = options.headers ?? new Headers();
    this.length = options.length;
    this.request = options.request;
  }

  /** The status code: the same as {@linkcode Response.code}. */
  get status(): number {
    return this.code;
  }

  /**
   * Records the redirect response this one followed.
   *
   * @param previousResponse The redirect.
   */
  setPreviousResponse(previousResponse: Response): void {
    this.previousResponse = previousResponse;
  }

  /**
   * Hands the body to a protocol: `makeConnection(producer)`, then the
   * bytes (those buffered first), then `connectionLost` with
   * {@linkcode ResponseDone}, {@linkcode PotentialDataLoss} or
   * {@linkcode ResponseFailed}. If the body has already ended, all of that
   * happens before this returns.
   *
   * @param protocol What receives the body.
   * @throws {Error} If the body was already delivered.
   */
  deliverBody(protocol: ResponseBodyProtocol): void {
    this.#body.deliver(protocol);
  }
}
