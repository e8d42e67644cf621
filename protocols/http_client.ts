/**
 * An HTTP/1.1 client in Twisted's shape: {@linkcode Agent} issues requests
 * and fires with a {@linkcode Response} once its head has arrived;
 * {@linkcode readBody} collects the body; {@linkcode HTTPConnectionPool}
 * keeps connections alive between requests; {@linkcode RedirectAgent}
 * follows redirects; {@linkcode getPage} does all of it in one call, as
 * Twisted's old `getPage` did.
 *
 * Everything runs over the reactor's `connectTCP` (and `connectSSL` for
 * HTTPS, when the reactor has it), so the client works with a fake reactor
 * too.
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import { CancelledError } from "../defer/errors.ts";
import { Failure } from "../defer/failure.ts";
import { fail, succeed } from "../defer/helpers.ts";
import { gatherResults } from "../defer/deferred_list.ts";
import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import { reactor as defaultReactor } from "../reactor/deno_reactor.ts";
import type { Address, ClientFactoryLike, Connector } from "../reactor/interfaces.ts";
import { Logger } from "../reactor/log.ts";

import { ClientFactory } from "./factory.ts";
import { Protocol } from "./protocol.ts";
import {
  BadResponseVersion,
  HTTPResponseParser,
  ParseError,
  type ResponseHead,
  TOKEN,
} from "./_http_parser.ts";
import { Headers, type HeadersLike } from "./http_headers.ts";

const logger = new Logger("http");

export { BadResponseVersion, Headers, type HeadersLike, ParseError };

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** Methods a pool retries once on a new connection (Twisted's list). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "TRACE"]);
/** Methods that send `Content-Length: 0` without a body, as Twisted does. */
const EXPECTS_BODY = new Set(["POST", "PUT", "PATCH"]);
/** Headers dropped when a redirect leaves the origin (Twisted's list). */
const SENSITIVE_HEADERS = [
  "authorization",
  "cookie",
  "cookie2",
  "proxy-authorization",
  "www-authenticate",
];

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * The reason a body protocol's `connectionLost` gets when the whole body has
 * arrived: the normal end of a response, not a failure.
 *
 * @example Telling a complete body from a broken one
 * ```ts
 * import { Failure } from "@torsion/torsion/defer";
 * import { ResponseDone } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const reason = new Failure(new ResponseDone());
 * assert.ok(reason.check(ResponseDone));
 * ```
 */
export class ResponseDone extends Error {
  /**
   * Makes the reason.
   *
   * @param message The message.
   */
  constructor(message = "The response body was fully received") {
    super(message);
    this.name = "ResponseDone";
  }
}

/**
 * The reason a body protocol's `connectionLost` gets when a body without a
 * declared length (no `Content-Length`, not chunked) ended with its
 * connection: it is probably complete, but a broken connection would look
 * the same.
 *
 * Divergence from Twisted: {@linkcode readBody} (and so `getPage`) treats
 * it as success and fires with the body, where Twisted's `readBody` fails
 * with `PartialDownloadError`.
 *
 * @example
 * ```ts
 * import { PotentialDataLoss } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.match(new PotentialDataLoss().message, /connection closed/);
 * ```
 */
export class PotentialDataLoss extends Error {
  /**
   * Makes the reason.
   *
   * @param message The message.
   */
  constructor(
    message = "The response body had no declared length and ended when the connection closed",
  ) {
    super(message);
    this.name = "PotentialDataLoss";
  }
}

/**
 * One of the `reasons` of a {@linkcode ResponseFailed} when the connection
 * closed in the middle of a body whose length was known (`Content-Length`,
 * or chunked before the last chunk): bytes are missing for sure. Twisted
 * calls it `_DataLoss`.
 *
 * @example
 * ```ts
 * import { DataLoss } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new DataLoss(3, 10);
 * assert.equal(e.received, 3);
 * assert.equal(e.expected, 10);
 * assert.match(e.message, /3 of the 10/);
 * ```
 */
export class DataLoss extends Error {
  /** How many body bytes had arrived. */
  readonly received: number;
  /** The declared length, or `undefined` for a chunked body. */
  readonly expected: number | undefined;

  /**
   * Makes the reason.
   *
   * @param received How many body bytes had arrived.
   * @param expected The declared length, if any.
   */
  constructor(received: number, expected?: number) {
    super(
      expected === undefined
        ? `The connection closed after ${received} bytes of a chunked response body, before its last chunk`
        : `The connection closed after ${received} of the ${expected} bytes of the response body`,
    );
    this.name = "DataLoss";
    this.received = received;
    this.expected = expected;
  }
}

function describeReasons(reasons: readonly Failure[]): string {
  return reasons.map((f) => f.getErrorMessage()).join("; ");
}

/**
 * The request was sent (or partly sent) but its response could not be
 * received whole: a malformed response (`ParseError` among the `reasons`),
 * a connection lost in the middle of the head or the body (the connection's
 * reason, and a {@linkcode DataLoss} for a cut body), a redirect that could
 * not be followed. As in Twisted, `reasons` lists the underlying failures.
 *
 * A request's Deferred fails with it before the head has arrived; a body
 * protocol's `connectionLost` gets it after.
 *
 * @example Finding the parse error inside
 * ```ts
 * import { Failure } from "@torsion/torsion/defer";
 * import { ParseError, ResponseFailed } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new ResponseFailed([new Failure(new ParseError("Status code is not 3 digits", new Uint8Array()))]);
 * assert.ok(e.reasons[0].check(ParseError));
 * assert.match(e.message, /Status code is not 3 digits/);
 * ```
 */
export class ResponseFailed extends Error {
  /** The underlying failures, most significant first. */
  readonly reasons: readonly Failure[];
  /** The response, when its head had arrived. */
  readonly response: Response | undefined;

  /**
   * Makes the error.
   *
   * @param reasons What went wrong.
   * @param response The response, if its head had arrived.
   * @param message A message; by default one built from the reasons.
   */
  constructor(reasons: readonly Failure[], response?: Response, message?: string) {
    super(message ?? `The response failed: ${describeReasons(reasons)}`);
    this.name = "ResponseFailed";
    this.reasons = reasons;
    this.response = response;
  }
}

/**
 * The connection closed (or broke) before any byte of the response arrived.
 * A pool retries an idempotent request once on a new connection after this
 * error on a reused one, since an idle connection may have been closed by
 * the server just as the request went out.
 *
 * @example
 * ```ts
 * import { Failure } from "@torsion/torsion/defer";
 * import { ConnectionDone } from "@torsion/torsion/reactor";
 * import { ResponseFailed, ResponseNeverReceived } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new ResponseNeverReceived([new Failure(new ConnectionDone())]);
 * assert.ok(e instanceof ResponseFailed);
 * ```
 */
export class ResponseNeverReceived extends ResponseFailed {
  /**
   * Makes the error.
   *
   * @param reasons Why: the connection's end.
   */
  constructor(reasons: readonly Failure[]) {
    super(reasons, undefined, `No response was received: ${describeReasons(reasons)}`);
    this.name = "ResponseNeverReceived";
  }
}

/**
 * What {@linkcode readBody} fails with when the body could not be read
 * whole: a {@linkcode ResponseFailed} (same `reasons`) that also carries the
 * bytes that did arrive and the response's status.
 *
 * Divergence from Twisted, whose `PartialDownloadError` is an `Error` (the
 * web one) raised for {@linkcode PotentialDataLoss}: here it extends
 * `ResponseFailed`, and is raised when data was lost for sure.
 *
 * @example
 * ```ts ignore
 * import { PartialDownloadError, readBody } from "@torsion/torsion/protocols";
 *
 * try {
 *   await readBody(response);
 * } catch (e) {
 *   if (e instanceof PartialDownloadError) console.log(`got ${e.body.length} bytes before`, e.reasons);
 * }
 * ```
 */
export class PartialDownloadError extends ResponseFailed {
  /** The status code of the response. */
  readonly status: number;
  /** The body bytes that arrived. */
  readonly body: Uint8Array;

  /**
   * Makes the error.
   *
   * @param response The response whose body failed.
   * @param body The bytes that arrived.
   * @param reasons Why the body failed.
   */
  constructor(response: Response, body: Uint8Array, reasons: readonly Failure[]) {
    super(
      reasons,
      response,
      `The body of the ${response.code} response was cut short after ${body.length} bytes: ${
        describeReasons(reasons)
      }`,
    );
    this.name = "PartialDownloadError";
    this.status = response.code;
    this.body = body;
  }
}

/**
 * A connection could not take a request: it is busy with another one, or
 * closed. A pool retries an idempotent request once after this error.
 *
 * @example
 * ```ts
 * import { RequestNotSent } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new RequestNotSent().name, "RequestNotSent");
 * ```
 */
export class RequestNotSent extends Error {
  /**
   * Makes the error.
   *
   * @param message Why.
   */
  constructor(message = "The request was not sent: the connection is busy or closed") {
    super(message);
    this.name = "RequestNotSent";
  }
}

/**
 * A URL whose scheme the agent cannot speak: anything but `http` and
 * `https`, or `https` on a reactor without `connectSSL`.
 *
 * @example
 * ```ts
 * import { Agent, SchemeNotSupported } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(new Agent().request("GET", "ftp://example.com/").asPromise(), SchemeNotSupported);
 * ```
 */
export class SchemeNotSupported extends Error {
  /**
   * Makes the error.
   *
   * @param message Which scheme, and why.
   */
  constructor(message: string) {
    super(message);
    this.name = "SchemeNotSupported";
  }
}

/**
 * A response whose status means failure: what {@linkcode getPage} fails
 * with for a status of 400 or more, carrying the status, the reason phrase,
 * the body and the response. Twisted's `twisted.web.error.Error`, renamed
 * so it does not shadow JavaScript's `Error`; its `status` is a number (not
 * bytes) and its body is `body` (Twisted's `response`).
 *
 * @example Reading a 404's page
 * ```ts ignore
 * import { getPage, HTTPError } from "@torsion/torsion/protocols";
 *
 * try {
 *   await getPage("http://127.0.0.1:8080/missing");
 * } catch (e) {
 *   if (e instanceof HTTPError) console.log(e.status, new TextDecoder().decode(e.body));
 * }
 * ```
 */
export class HTTPError extends Error {
  /** The status code, such as 404. */
  readonly status: number;
  /** The reason phrase, such as `"Not Found"`. */
  readonly phrase: string;
  /** The body of the response (empty if it was not read). */
  readonly body: Uint8Array;
  /** The response, if there was one. */
  readonly response: Response | undefined;

  /**
   * Makes the error.
   *
   * @param status The status code.
   * @param phrase The reason phrase.
   * @param body The body.
   * @param response The response.
   * @param message A message; by default the status and phrase.
   */
  constructor(
    status: number,
    phrase = "",
    body: Uint8Array = EMPTY,
    response?: Response,
    message?: string,
  ) {
    super(message ?? (phrase === "" ? `HTTP ${status}` : `HTTP ${status} ${phrase}`));
    this.name = "HTTPError";
    this.status = status;
    this.phrase = phrase;
    this.body = body;
    this.response = response;
  }
}

/**
 * A redirect that was not followed: {@linkcode getPage} with
 * `followRedirect: false` fails with it for a 3xx redirect, and
 * {@linkcode RedirectAgent} for a 301, 302, 307 or 308 answer to a method
 * other than GET or HEAD (wrapped in {@linkcode ResponseFailed}).
 *
 * @example
 * ```ts
 * import { HTTPError, PageRedirect } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new PageRedirect(302, "Found", "http://example.com/next");
 * assert.ok(e instanceof HTTPError);
 * assert.equal(e.message, "HTTP 302 Found to http://example.com/next");
 * ```
 */
export class PageRedirect extends HTTPError {
  /** Where the redirect pointed. */
  readonly location: string;

  /**
   * Makes the error.
   *
   * @param status The status code.
   * @param phrase The reason phrase.
   * @param location Where the redirect pointed.
   * @param body The body of the redirect.
   * @param response The redirect response.
   */
  constructor(
    status: number,
    phrase: string,
    location: string,
    body?: Uint8Array,
    response?: Response,
  ) {
    super(status, phrase, body, response, `HTTP ${status} ${phrase} to ${location}`.trim());
    this.name = "PageRedirect";
    this.location = location;
  }
}

/**
 * Redirects went on past the limit (20 by default): what
 * {@linkcode getPage} fails with, and what {@linkcode RedirectAgent} wraps in
 * {@linkcode ResponseFailed}.
 *
 * @example
 * ```ts
 * import { InfiniteRedirection } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new InfiniteRedirection(302, "http://example.com/loop");
 * assert.equal(e.location, "http://example.com/loop");
 * ```
 */
export class InfiniteRedirection extends HTTPError {
  /** The URL whose redirect was not followed. */
  readonly location: string;

  /**
   * Makes the error.
   *
   * @param status The status code of the last redirect.
   * @param location The URL whose redirect was not followed.
   * @param response The last redirect response.
   */
  constructor(status: number, location: string, response?: Response) {
    super(
      status,
      response?.phrase ?? "",
      EMPTY,
      response,
      `Infinite redirection detected: redirect limit reached at ${location}`,
    );
    this.name = "InfiniteRedirection";
    this.location = location;
  }
}

/**
 * A redirect response without a `Location` header.
 *
 * @example
 * ```ts
 * import { RedirectWithNoLocation } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new RedirectWithNoLocation(302, "http://example.com/").uri, "http://example.com/");
 * ```
 */
export class RedirectWithNoLocation extends HTTPError {
  /** The URL whose response had no location. */
  readonly uri: string;

  /**
   * Makes the error.
   *
   * @param status The status code.
   * @param uri The URL whose response had no location.
   * @param response The response.
   */
  constructor(status: number, uri: string, response?: Response) {
    super(
      status,
      response?.phrase ?? "",
      EMPTY,
      response,
      `The ${status} redirect from ${uri} has no Location header`,
    );
    this.name = "RedirectWithNoLocation";
    this.uri = uri;
  }
}

// ---------------------------------------------------------------------------
// Responses and their bodies
// ---------------------------------------------------------------------------

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

const NO_PRODUCER: ResponseBodyProducer = {
  pauseProducing() {},
  resumeProducing() {},
  stopProducing() {},
  abortConnection() {},
};

function logBodyError(where: string, error: unknown): void {
  logger.error(`Unhandled error in a response body protocol's ${where}()`, Failure.from(error));
}

/**
 * The body of one response on its way to the application, as the state
 * machine of Twisted's `Response`: bytes that arrive before `deliverBody`
 * are buffered (and the connection paused), then handed over in order.
 */
class BodyStream {
  received = 0;
  #producer: ResponseBodyProducer = NO_PRODUCER;
  #protocol: ResponseBodyProtocol | undefined;
  #buffer: Uint8Array[] = [];
  #end: Failure | undefined;
  #delivered = false;
  #finished = false;

  attach(producer: ResponseBodyProducer): void {
    this.#producer = producer;
  }

  dataReceived(data: Uint8Array): void {
    if (this.#finished) return;
    this.received += data.length;
    const protocol = this.#protocol;
    if (protocol === undefined) {
      this.#buffer.push(data);
      return;
    }
    try {
      protocol.dataReceived(data);
    } catch (error) {
      logBodyError("dataReceived", error);
    }
  }

  finish(reason: Failure): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#producer = NO_PRODUCER;
    const protocol = this.#protocol;
    if (protocol === undefined) {
      this.#end = reason;
      return;
    }
    this.#protocol = undefined;
    try {
      protocol.connectionLost(reason);
    } catch (error) {
      logBodyError("connectionLost", error);
    }
  }

  deliver(protocol: ResponseBodyProtocol): void {
    if (this.#delivered) {
      throw new Error("The body of this response has already been delivered to a protocol");
    }
    this.#delivered = true;
    const producer = this.#producer;
    producer.resumeProducing();
    protocol.makeConnection(producer);
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const data of buffered) {
      try {
        protocol.dataReceived(data);
      } catch (error) {
        logBodyError("dataReceived", error);
      }
    }
    const end = this.#end;
    if (end === undefined) {
      this.#protocol = protocol;
      return;
    }
    this.#end = undefined;
    try {
      protocol.connectionLost(end);
    } catch (error) {
      logBodyError("connectionLost", error);
    }
  }
}

let bodyOf: (response: Response) => BodyStream;

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
    bodyOf = (response) => response.#body;
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

/** The chunks as one array of its own (not a view of a bigger buffer). */
function join(chunks: Uint8Array[], size: number): Uint8Array {
  const only = chunks[0];
  if (chunks.length === 1 && only.byteOffset === 0 && only.byteLength === only.buffer.byteLength) {
    return only;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Reads a whole response body, for clients that do not need it piece by
 * piece. Cancelling the Deferred closes the connection at once.
 *
 * @param response The response.
 * @returns A Deferred of the body's bytes. It fails with
 * {@linkcode PartialDownloadError} (with the bytes that arrived and the
 * reasons) if the body was cut short or malformed, or with
 * `CancelledError` if cancelled. A body without a declared length that
 * ended with its connection counts as complete (Twisted fails it).
 * @throws {Error} If the body was already delivered.
 *
 * @example
 * ```ts ignore
 * import { Agent, readBody } from "@torsion/torsion/protocols";
 *
 * const agent = new Agent();
 * const body = await agent.request("GET", "http://127.0.0.1:8080/").addCallback(readBody);
 * ```
 */
export function readBody(response: Response): Deferred<Uint8Array> {
  let producer: ResponseBodyProducer = NO_PRODUCER;
  const d = new Deferred<Uint8Array>(() => producer.abortConnection());
  const chunks: Uint8Array[] = [];
  let size = 0;
  response.deliverBody({
    makeConnection(p: ResponseBodyProducer): void {
      producer = p;
    },
    dataReceived(data: Uint8Array): void {
      chunks.push(data);
      size += data.length;
    },
    connectionLost(reason: Failure): void {
      producer = NO_PRODUCER;
      if (d.called) return;
      if (reason.check(ResponseDone, PotentialDataLoss)) {
        d.callback(join(chunks, size));
      } else if (reason.value instanceof ResponseFailed) {
        d.errback(new PartialDownloadError(response, join(chunks, size), reason.value.reasons));
      } else {
        d.errback(reason);
      }
    },
  });
  return d;
}

/**
 * Reads and drops a body; fires once it has ended, however it ended, so the
 * connection is back in its pool (or closed) when it does.
 */
function discardBody(response: Response): Deferred<void> {
  const d = new Deferred<void>();
  response.deliverBody({
    makeConnection(): void {},
    dataReceived(): void {},
    connectionLost(): void {
      d.callback(undefined);
    },
  });
  return d;
}

// ---------------------------------------------------------------------------
// The protocol of one connection
// ---------------------------------------------------------------------------

/** A request ready to go on the wire: built once, sent once or twice. */
interface OutgoingRequest {
  readonly method: string;
  readonly head: Uint8Array;
  readonly body: Uint8Array | undefined;
  readonly persistent: boolean;
  readonly info: ClientRequest;
}

type ClientState = "QUIESCENT" | "WAITING" | "RECEIVING" | "CLOSING" | "CONNECTION_LOST";

interface ConnectionHooks {
  connected(protocol: HTTP11ClientProtocol): void;
  quiescent(protocol: HTTP11ClientProtocol): void;
  lost(protocol: HTTP11ClientProtocol): void;
}

/**
 * One HTTP/1.1 connection, one request at a time: Twisted's
 * `HTTP11ClientProtocol`. It writes a request, parses the response, fires
 * the request's Deferred with the response once the head has arrived, feeds
 * the body to the response, and then either goes back to its pool
 * (`QUIESCENT`) or closes.
 */
class HTTP11ClientProtocol extends Protocol {
  readonly #hooks: ConnectionHooks;
  #state: ClientState = "QUIESCENT";
  #parser: HTTPResponseParser | null = null;
  #request: OutgoingRequest | null = null;
  #deferred: Deferred<Response> | null = null;
  #toFire: [Deferred<Response>, Response] | null = null;
  #response: Response | null = null;
  #body: BodyStream | null = null;
  #failure: Failure | null = null;
  #bodyComplete = false;
  #headPersistent = false;
  #lostWaiters: Deferred<void>[] = [];

  constructor(hooks: ConnectionHooks) {
    super();
    this.#hooks = hooks;
  }

  get state(): ClientState {
    return this.#state;
  }

  override connectionMade(): void {
    this.#hooks.connected(this);
  }

  request(request: OutgoingRequest): Deferred<Response> {
    if (this.#state !== "QUIESCENT" || !this.connected) return fail(new RequestNotSent());
    this.#state = "WAITING";
    this.#request = request;
    this.#failure = null;
    this.#bodyComplete = false;
    this.#parser = new HTTPResponseParser({
      head: (head) => this.#headReceived(head),
      body: (data) => this.#body?.dataReceived(data),
      done: (rest, trailers) => this.#responseDone(rest, trailers),
    }, { method: request.method });
    const d = new Deferred<Response>(() => this.#cancel(d));
    this.#deferred = d;
    const transport = this.transport!;
    if (request.body === undefined || request.body.length === 0) transport.write(request.head);
    else transport.writeSequence([request.head, request.body]);
    return d;
  }

  /** Closes an idle connection; fires once it is lost. */
  abort(): Deferred<void> {
    if (this.#state === "CONNECTION_LOST") return succeed(undefined);
    const d = new Deferred<void>();
    this.#lostWaiters.push(d);
    this.transport!.loseConnection();
    return d;
  }

  override dataReceived(data: Uint8Array): void {
    const parser = this.#parser;
    if (parser === null) {
      // Bytes nobody asked for, on an idle connection: it cannot be trusted.
      if (this.#state === "QUIESCENT") this.transport!.loseConnection();
      return;
    }
    try {
      parser.feed(data);
    } catch (error) {
      if (this.#parser === parser) {
        this.#parser = null;
        this.#failure = Failure.from(error);
        this.transport!.loseConnection();
      }
    }
    const toFire = this.#toFire;
    if (toFire !== null) {
      this.#toFire = null;
      toFire[0].callback(toFire[1]);
    }
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    const parser = this.#parser;
    const deferred = this.#deferred;
    const body = this.#body;
    const response = this.#response;
    const failure = this.#failure;
    this.#state = "CONNECTION_LOST";
    this.#parser = null;
    this.#deferred = null;
    this.#body = null;
    this.#response = null;
    this.#request = null;
    this.#hooks.lost(this);
    if (body !== null && response !== null) {
      if (this.#bodyComplete) {
        body.finish(new Failure(new ResponseDone()));
      } else if (failure !== null) {
        body.finish(new Failure(new ResponseFailed([failure], response)));
      } else {
        const end = parser?.connectionLost() ?? "failed";
        if (end === "potentialDataLoss") {
          body.finish(new Failure(new PotentialDataLoss()));
        } else {
          const loss = new DataLoss(body.received, response.length);
          body.finish(new Failure(new ResponseFailed([reason, new Failure(loss)], response)));
        }
      }
    } else if (deferred !== null) {
      if (failure !== null) {
        deferred.errback(new ResponseFailed([failure]));
      } else if ((parser?.connectionLost() ?? "noResponse") === "noResponse") {
        deferred.errback(new ResponseNeverReceived([reason]));
      } else {
        deferred.errback(
          new ResponseFailed(
            [reason],
            undefined,
            `The connection closed before the response headers were complete: ${reason.getErrorMessage()}`,
          ),
        );
      }
    }
    const waiters = this.#lostWaiters;
    this.#lostWaiters = [];
    for (const waiter of waiters) waiter.callback(undefined);
  }

  #cancel(d: Deferred<Response>): void {
    if (this.#deferred !== d) return;
    this.#deferred = null;
    this.#parser?.stop();
    this.#parser = null;
    this.transport!.abortConnection();
  }

  #headReceived(head: ResponseHead): void {
    const request = this.#request!;
    const headers = new Headers();
    for (const [name, value] of head.headers) headers.addRawHeader(name, value);
    const response = new Response({
      version: head.version,
      code: head.code,
      phrase: head.phrase,
      headers,
      length: head.length,
      request: request.info,
    });
    const body = bodyOf(response);
    const transport = this.transport!;
    // Flow control reaches the connection only while this body is arriving.
    const current = (): boolean =>
      this.#body === body && this.#state === "RECEIVING" && this.#parser !== null;
    body.attach({
      pauseProducing: () => {
        if (current()) transport.pauseProducing();
      },
      resumeProducing: () => {
        if (current()) transport.resumeProducing();
      },
      stopProducing: () => {
        if (current()) this.#giveUp();
      },
      abortConnection: () => {
        if (current()) this.#giveUp();
      },
    });
    this.#state = "RECEIVING";
    this.#headPersistent = head.persistent;
    this.#response = response;
    this.#body = body;
    // Nobody reads the body yet: hold the connection until deliverBody().
    if (head.bodyMode !== "none") transport.pauseProducing();
    this.#toFire = [this.#deferred!, response];
    this.#deferred = null;
  }

  #giveUp(): void {
    this.#parser?.stop();
    this.#parser = null;
    this.transport!.abortConnection();
  }

  #responseDone(rest: Uint8Array, trailers: ReadonlyArray<readonly [string, string]>): void {
    const response = this.#response!;
    for (const [name, value] of trailers) response.trailers.addRawHeader(name, value);
    const reusable = this.#request!.persistent && this.#headPersistent && rest.length === 0;
    this.#parser = null;
    if (!reusable) {
      // The body ends with the connection, so nothing stays open after it.
      this.#state = "CLOSING";
      this.#bodyComplete = true;
      this.transport!.loseConnection();
      return;
    }
    const body = this.#body!;
    this.#state = "QUIESCENT";
    this.#body = null;
    this.#response = null;
    this.#request = null;
    this.transport!.resumeProducing();
    // Back to the pool first, so a request made when the body ends reuses it.
    this.#hooks.quiescent(this);
    body.finish(new Failure(new ResponseDone()));
  }
}

/** Makes the protocol of one connection attempt and reports how it went. */
class HTTP11ClientFactory extends ClientFactory<HTTP11ClientProtocol> {
  readonly #hooks: ConnectionHooks;
  readonly #deferred: Deferred<HTTP11ClientProtocol>;

  constructor(hooks: ConnectionHooks, deferred: Deferred<HTTP11ClientProtocol>) {
    super();
    this.#hooks = hooks;
    this.#deferred = deferred;
  }

  override buildProtocol(_addr: Address): HTTP11ClientProtocol {
    const protocol = new HTTP11ClientProtocol(this.#hooks);
    protocol.factory = this;
    return protocol;
  }

  override clientConnectionFailed(_connector: Connector, reason: Failure): void {
    if (!this.#deferred.called) this.#deferred.errback(reason);
  }
}

// ---------------------------------------------------------------------------
// The pool
// ---------------------------------------------------------------------------

/** Opens a new connection whose protocol reports to `hooks`. */
type Connect = (hooks: Omit<ConnectionHooks, "connected">) => Deferred<HTTP11ClientProtocol>;

/** What a pool hands out: a connection, or one that retries once. */
interface RequestSender {
  request(request: OutgoingRequest): Deferred<Response>;
}

let getPooledConnection: (
  pool: HTTPConnectionPool,
  key: string,
  connect: Connect,
) => Deferred<RequestSender>;

function shouldRetry(request: OutgoingRequest, error: unknown): boolean {
  if (!IDEMPOTENT.has(request.method) || request.body !== undefined) return false;
  if (error instanceof RequestNotSent) return true;
  if (!(error instanceof ResponseNeverReceived)) return false;
  return !error.reasons.some((f) => f.check(CancelledError));
}

/**
 * A pool of persistent HTTP connections, shared by the agents given it:
 * after a response has been read whole, its connection waits here for the
 * next request to the same scheme, host and port, instead of closing.
 *
 * At most {@linkcode HTTPConnectionPool.maxPersistentPerHost} idle
 * connections are kept per destination (the oldest is closed to make room);
 * an idle connection closes after
 * {@linkcode HTTPConnectionPool.cachedConnectionTimeout} seconds, and leaves
 * the pool at once if the server closes it. A request that finds a reused
 * connection dead (no response at all) is retried once on a new connection
 * when its method is idempotent and it has no body, as Twisted's
 * `_RetryingHTTP11ClientProtocol` does.
 *
 * Idle connections keep a process (and a test) running: call
 * {@linkcode HTTPConnectionPool.closeCachedConnections} when done.
 *
 * Divergences from Twisted: a connection the server closes leaves the pool
 * at once; a response followed by extra bytes is not reused; there is no
 * public `getConnection(key, endpoint)`, since agents are the only users.
 *
 * @example Two requests over one connection
 * ```ts ignore
 * import { Agent, HTTPConnectionPool, readBody } from "@torsion/torsion/protocols";
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const pool = new HTTPConnectionPool(reactor);
 * const agent = new Agent(reactor, { pool });
 * for (const path of ["/a", "/b"]) {
 *   await agent.request("GET", `http://127.0.0.1:8080${path}`).addCallback(readBody);
 * }
 * await pool.closeCachedConnections();
 * ```
 */
export class HTTPConnectionPool {
  /** The most idle connections kept per scheme, host and port (Twisted's 2). */
  maxPersistentPerHost: number = 2;
  /** Seconds an idle connection is kept before it is closed (Twisted's 240). */
  cachedConnectionTimeout: number = 240;
  /** Whether an idempotent request on a reused connection that turns out dead is retried once. */
  retryAutomatically: boolean = true;
  /** Whether connections are kept alive at all; `false` closes each after its response. */
  readonly persistent: boolean;

  readonly #clock: Pick<ReactorTime, "callLater">;
  #connections = new Map<string, HTTP11ClientProtocol[]>();
  #timeouts = new Map<HTTP11ClientProtocol, DelayedCall>();

  static {
    getPooledConnection = (pool, key, connect) => pool.#getConnection(key, connect);
  }

  /**
   * Makes an empty pool.
   *
   * @param reactor Times out idle connections (default: the reactor).
   * @param persistent Whether to keep connections alive (default `true`).
   */
  constructor(reactor: Pick<ReactorTime, "callLater"> = defaultReactor, persistent = true) {
    this.#clock = reactor;
    this.persistent = persistent;
  }

  /**
   * Closes every idle connection and empties the pool. Connections busy
   * with a request are not touched; they close or come back later.
   *
   * @returns A Deferred that fires once those connections have closed.
   */
  closeCachedConnections(): Deferred<void> {
    const waits: Deferred<void>[] = [];
    const connections = this.#connections;
    this.#connections = new Map();
    for (const call of this.#timeouts.values()) call.cancel();
    this.#timeouts.clear();
    for (const list of connections.values()) {
      for (const protocol of list) waits.push(protocol.abort());
    }
    return gatherResults(waits).addCallback(() => undefined);
  }

  #getConnection(key: string, connect: Connect): Deferred<RequestSender> {
    const list = this.#connections.get(key);
    while (list !== undefined && list.length > 0) {
      const protocol = list.shift()!;
      this.#timeouts.get(protocol)?.cancel();
      this.#timeouts.delete(protocol);
      if (list.length === 0) this.#connections.delete(key);
      if (protocol.state !== "QUIESCENT" || !protocol.connected) continue;
      if (!this.retryAutomatically) return succeed(protocol);
      return succeed<RequestSender>({
        request: (request) =>
          protocol.request(request).addErrback((failure: Failure) => {
            if (!shouldRetry(request, failure.value)) return failure;
            return this.#newConnection(key, connect).addCallback((fresh) => fresh.request(request));
          }),
      });
    }
    return this.#newConnection(key, connect);
  }

  #newConnection(key: string, connect: Connect): Deferred<HTTP11ClientProtocol> {
    return connect({
      quiescent: (protocol) => this.#put(key, protocol),
      lost: (protocol) => this.#remove(key, protocol),
    });
  }

  #put(key: string, protocol: HTTP11ClientProtocol): void {
    let list = this.#connections.get(key);
    if (list === undefined) this.#connections.set(key, list = []);
    if (list.length >= this.maxPersistentPerHost) {
      const dropped = list.shift()!;
      this.#timeouts.get(dropped)?.cancel();
      this.#timeouts.delete(dropped);
      dropped.transport!.loseConnection();
    }
    list.push(protocol);
    this.#timeouts.set(
      protocol,
      this.#clock.callLater(this.cachedConnectionTimeout, () => {
        this.#timeouts.delete(protocol);
        this.#remove(key, protocol);
        protocol.transport!.loseConnection();
      }),
    );
  }

  #remove(key: string, protocol: HTTP11ClientProtocol): void {
    const list = this.#connections.get(key);
    if (list === undefined) return;
    const at = list.indexOf(protocol);
    if (at === -1) return;
    list.splice(at, 1);
    if (list.length === 0) this.#connections.delete(key);
    this.#timeouts.get(protocol)?.cancel();
    this.#timeouts.delete(protocol);
  }
}

// ---------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------

/**
 * What an {@linkcode Agent} needs of a reactor: time for the pool, TCP
 * connections, and TLS connections for HTTPS when it has them. The
 * reactor fits; so does a `MemoryReactorClock` in tests.
 */
export interface HTTPClientReactor extends ReactorTime {
  /**
   * Connects over TCP.
   *
   * @param host The host name or address.
   * @param port The port.
   * @param factory The client factory.
   * @param options The connect timeout, in seconds.
   * @returns The connector.
   */
  connectTCP(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    options?: { timeout?: number },
  ): Connector;
  /**
   * Connects over TLS; without it, HTTPS fails with
   * {@linkcode SchemeNotSupported}.
   *
   * @param host The host name or address.
   * @param port The port.
   * @param factory The client factory.
   * @param options The connect timeout and TLS settings.
   * @returns The connector.
   */
  connectSSL?(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    contextFactory?: object,
    options?: { timeout?: number },
  ): Connector;
}

/** Anything that issues HTTP requests as {@linkcode Agent} does (Twisted's `IAgent`). */
export interface AgentLike {
  /**
   * Issues a request.
   *
   * @param method The method.
   * @param url The URL.
   * @param headers Headers to send.
   * @param body The body.
   * @returns A Deferred of the response.
   */
  request(
    method: string,
    url: string | URL,
    headers?: HeadersLike,
    body?: string | Uint8Array,
  ): Deferred<Response>;
}

/** Options for {@linkcode Agent}. */
export interface AgentOptions {
  /**
   * Where connections come from: a pool to share, `true` for a persistent
   * pool of the agent's own, or `false` (the default, as in Twisted) for a
   * new connection per request, closed after its response.
   */
  pool?: HTTPConnectionPool | boolean;
  /** Seconds to wait for a connection (default 30, the reactor's). */
  connectTimeout?: number;
  /**
   * TLS settings passed as they are to `reactor.connectSSL` for HTTPS, such
   * as `{ caCerts: [pem] }` to trust a private certificate authority.
   */
  tlsOptions?: object;
}

/**
 * Issues HTTP/1.1 requests: Twisted's `Agent`. `request` connects (or takes
 * an idle connection from the pool), writes the request line, `Host`,
 * `Connection` (`keep-alive` with a persistent pool, else `close`), the
 * given headers, `Content-Length` and the body, and fires with the
 * {@linkcode Response} once its head has arrived; read its body with
 * {@linkcode readBody}. Redirects are returned, not followed: wrap the agent
 * in a {@linkcode RedirectAgent} to follow them.
 *
 * The request fails with the connection's error (`ConnectionRefusedError`,
 * `DNSLookupError`, `TimeoutError` after `connectTimeout`), with
 * {@linkcode ResponseNeverReceived} if the connection closes before any
 * response, with {@linkcode ResponseFailed} (holding a `ParseError` or the
 * connection's reason) for a malformed or cut head, and with
 * {@linkcode SchemeNotSupported} for a scheme other than `http` or `https`,
 * or for `https` on a reactor without `connectSSL`. Cancelling it closes the
 * connection at once and fails it with `CancelledError`.
 *
 * Divergences from Twisted: the method and URL are strings, the headers may
 * be a plain object, and the body is a string or bytes (not a body
 * producer), always sent with `Content-Length`; a given `Content-Length` or
 * `Transfer-Encoding` header is replaced; cancelling fails with
 * `CancelledError` itself, where Twisted wraps it in
 * `ResponseNeverReceived`.
 *
 * @example A POST, then its response body
 * ```ts ignore
 * import { Agent, HTTPConnectionPool, readBody } from "@torsion/torsion/protocols";
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const agent = new Agent(reactor, { pool: true });
 * const response = await agent.request(
 *   "POST",
 *   "http://127.0.0.1:8080/echo",
 *   { "Content-Type": "text/plain" },
 *   "hello",
 * );
 * console.log(response.code, new TextDecoder().decode(await readBody(response)));
 * await agent.pool.closeCachedConnections();
 * ```
 */
export class Agent implements AgentLike {
  readonly #reactor: HTTPClientReactor;
  readonly #pool: HTTPConnectionPool;
  readonly #connectTimeout: number | undefined;
  readonly #tlsOptions: object;

  /**
   * Makes an agent.
   *
   * @param reactor What connects (default: the reactor).
   * @param options The pool, the connect timeout and TLS settings.
   * @throws {RangeError} For a negative or non-numeric `connectTimeout`.
   */
  constructor(reactor: HTTPClientReactor = defaultReactor, options: AgentOptions = {}) {
    this.#reactor = reactor;
    const pool = options.pool ?? false;
    this.#pool = typeof pool === "boolean" ? new HTTPConnectionPool(reactor, pool) : pool;
    const timeout = options.connectTimeout;
    if (timeout !== undefined && (typeof timeout !== "number" || !(timeout >= 0))) {
      throw new RangeError(`connectTimeout must be a number of seconds, 0 or more, not ${timeout}`);
    }
    this.#connectTimeout = timeout;
    this.#tlsOptions = options.tlsOptions ?? {};
  }

  /** The reactor the agent connects with. */
  get reactor(): HTTPClientReactor {
    return this.#reactor;
  }

  /** The pool the agent's connections come from. */
  get pool(): HTTPConnectionPool {
    return this.#pool;
  }

  /**
   * Issues a request.
   *
   * @param method The method, such as `"GET"` (sent as given).
   * @param url An absolute `http:` or `https:` URL; its fragment is not sent.
   * @param headers Headers to send; `Host` is added unless given.
   * @param body The body: a string (sent as UTF-8) or bytes.
   * @returns A Deferred of the response, fired once its head has arrived.
   * @throws {TypeError} For an invalid method, URL or header.
   */
  request(
    method: string,
    url: string | URL,
    headers?: HeadersLike,
    body?: string | Uint8Array,
  ): Deferred<Response> {
    if (typeof method !== "string" || !TOKEN.test(method)) {
      throw new TypeError(`Invalid HTTP method ${JSON.stringify(method)}`);
    }
    const href = String(url);
    let parsed: URL;
    try {
      parsed = new URL(href);
    } catch (error) {
      throw new TypeError(`Invalid URL ${JSON.stringify(href)}`, { cause: error });
    }
    const scheme = parsed.protocol.slice(0, -1);
    if (scheme !== "http" && scheme !== "https") {
      return fail(new SchemeNotSupported(`Unsupported scheme ${scheme}: ${parsed.href}`));
    }
    if (scheme === "https" && typeof this.#reactor.connectSSL !== "function") {
      return fail(
        new SchemeNotSupported(
          `HTTPS needs reactor.connectSSL, which this reactor does not have: ${parsed.href}`,
        ),
      );
    }
    if (parsed.hostname === "") throw new TypeError(`URL ${parsed.href} has no host`);
    const host = parsed.hostname.startsWith("[") ? parsed.hostname.slice(1, -1) : parsed.hostname;
    const port = parsed.port === "" ? (scheme === "https" ? 443 : 80) : Number(parsed.port);
    const request = this.#buildRequest(method, parsed, headers, body);
    const key = `${scheme}://${parsed.host}`;
    const connect: Connect = (hooks) => this.#connect(scheme, host, port, hooks);
    return getPooledConnection(this.#pool, key, connect).addCallback((sender) =>
      sender.request(request)
    );
  }

  #buildRequest(
    method: string,
    url: URL,
    given: HeadersLike | undefined,
    body: string | Uint8Array | undefined,
  ): OutgoingRequest {
    const headers = new Headers(given);
    headers.removeHeader("content-length");
    headers.removeHeader("transfer-encoding");
    if (!headers.hasHeader("host")) headers.addRawHeader("Host", url.host);
    const connection = headers.getRawHeaders("connection");
    let persistent = this.#pool.persistent;
    if (connection === undefined) {
      headers.addRawHeader("Connection", persistent ? "keep-alive" : "close");
    } else if (connection.join(",").toLowerCase().split(",").some((t) => t.trim() === "close")) {
      persistent = false;
    }
    const bytes = typeof body === "string" ? encoder.encode(body) : body;
    if (bytes !== undefined && !(bytes instanceof Uint8Array)) {
      throw new TypeError("The request body must be a string or a Uint8Array");
    }
    if (bytes !== undefined || EXPECTS_BODY.has(method)) {
      headers.addRawHeader("Content-Length", String(bytes?.length ?? 0));
    }
    // The URL parser has percent-encoded spaces and control characters.
    let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\n`;
    // Host first, as most clients send it.
    const hostField = headers.getRawHeaders("host")!;
    for (const value of hostField) head += `Host: ${value}\r\n`;
    for (const [name, values] of headers) {
      if (name.length === 4 && name.toLowerCase() === "host") continue;
      for (const value of values) head += `${name}: ${value}\r\n`;
    }
    head += "\r\n";
    url.hash = "";
    return {
      method,
      head: encoder.encode(head),
      body: bytes,
      persistent,
      info: { method, absoluteURI: url.href, url: url.href, headers },
    };
  }

  #connect(
    scheme: string,
    host: string,
    port: number,
    hooks: Omit<ConnectionHooks, "connected">,
  ): Deferred<HTTP11ClientProtocol> {
    let connector: Connector | undefined;
    let cancelled = false;
    const d = new Deferred<HTTP11ClientProtocol>(() => {
      cancelled = true;
      if (connector?.state === "connecting") connector.stopConnecting();
    });
    const factory = new HTTP11ClientFactory({
      ...hooks,
      connected: (protocol) => {
        if (cancelled || d.called) protocol.transport!.abortConnection();
        else d.callback(protocol);
      },
    }, d);
    const options = this.#connectTimeout === undefined ? {} : { timeout: this.#connectTimeout };
    try {
      connector = scheme === "https"
        ? this.#reactor.connectSSL!(host, port, factory, this.#tlsOptions, options)
        : this.#reactor.connectTCP(host, port, factory, options);
    } catch (error) {
      if (!d.called) d.errback(error);
    }
    return d;
  }
}

/**
 * Follows redirects for another agent: Twisted's `RedirectAgent`. A 301,
 * 302, 307 or 308 is followed for GET and HEAD (other methods fail with
 * {@linkcode PageRedirect}); a 303 is followed for any method, as a GET
 * without a body. The `Location` is resolved against the request's URL.
 * After `redirectLimit` redirects the request fails with
 * {@linkcode InfiniteRedirection}; a redirect without `Location` with
 * {@linkcode RedirectWithNoLocation}; each wrapped in
 * {@linkcode ResponseFailed}, as in Twisted. When a redirect leaves the
 * origin, `Authorization`, `Cookie`, `Cookie2`, `Proxy-Authorization`,
 * `WWW-Authenticate` and the `sensitiveHeaderNames` are not sent on.
 *
 * The final response's `previousResponse` links back through the redirects.
 * Their bodies are read and dropped before the next request goes out (so a
 * pooled connection is reused).
 *
 * @example Following redirects
 * ```ts ignore
 * import { Agent, readBody, RedirectAgent } from "@torsion/torsion/protocols";
 *
 * const agent = new RedirectAgent(new Agent());
 * const response = await agent.request("GET", "http://127.0.0.1:8080/old");
 * console.log(response.request?.absoluteURI, response.previousResponse?.code);
 * await readBody(response);
 * ```
 */
export class RedirectAgent implements AgentLike {
  readonly #agent: AgentLike;
  readonly #redirectLimit: number;
  readonly #sensitive: Set<string>;

  /**
   * Wraps an agent.
   *
   * @param agent The agent that issues each request.
   * @param redirectLimit How many redirects to follow (default 20).
   * @param sensitiveHeaderNames More headers not to send to another origin.
   */
  constructor(
    agent: AgentLike,
    redirectLimit: number = 20,
    sensitiveHeaderNames: Iterable<string> = [],
  ) {
    this.#agent = agent;
    this.#redirectLimit = redirectLimit;
    this.#sensitive = new Set(SENSITIVE_HEADERS);
    for (const name of sensitiveHeaderNames) this.#sensitive.add(name.toLowerCase());
  }

  /**
   * Issues a request and follows its redirects.
   *
   * @param method The method.
   * @param url The URL.
   * @param headers Headers to send.
   * @param body The body.
   * @returns A Deferred of the final response.
   * @throws {TypeError} As the wrapped agent's `request`.
   */
  request(
    method: string,
    url: string | URL,
    headers?: HeadersLike,
    body?: string | Uint8Array,
  ): Deferred<Response> {
    const href = String(url);
    return this.#agent.request(method, href, headers, body).addCallback((response) =>
      this.#handle(response, method, href, headers, body, 0)
    );
  }

  #handle(
    response: Response,
    method: string,
    url: string,
    headers: HeadersLike | undefined,
    body: string | Uint8Array | undefined,
    count: number,
  ): Response | Deferred<Response> {
    const code = response.code;
    let nextMethod = method;
    let nextBody = body;
    if (code === 303) {
      nextMethod = "GET";
      nextBody = undefined;
    } else if (code === 301 || code === 302 || code === 307 || code === 308) {
      if (method !== "GET" && method !== "HEAD") {
        const location = response.headers.getRawHeaders("location")?.[0] ?? url;
        return this.#failAfterBody(response, new PageRedirect(code, response.phrase, location));
      }
    } else {
      return response;
    }
    if (count >= this.#redirectLimit) {
      return this.#failAfterBody(response, new InfiniteRedirection(code, url, response));
    }
    const location = response.headers.getRawHeaders("location")?.[0];
    if (location === undefined) {
      return this.#failAfterBody(response, new RedirectWithNoLocation(code, url, response));
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch (error) {
      return this.#failAfterBody(response, error);
    }
    let nextHeaders = headers;
    if (headers !== undefined && next.origin !== new URL(url).origin) {
      const kept = new Headers(headers);
      for (const name of this.#sensitive) kept.removeHeader(name);
      nextHeaders = kept;
    }
    return discardBody(response).addCallback(() =>
      this.#agent.request(nextMethod, next.href, nextHeaders, nextBody).addCallback(
        (nextResponse) => {
          nextResponse.setPreviousResponse(response);
          return this.#handle(
            nextResponse,
            nextMethod,
            next.href,
            nextHeaders,
            nextBody,
            count + 1,
          );
        },
      )
    );
  }

  #failAfterBody(response: Response, error: unknown): Deferred<never> {
    return discardBody(response).addCallback((): never => {
      throw new ResponseFailed([Failure.from(error)], response);
    });
  }
}

// ---------------------------------------------------------------------------
// getPage
// ---------------------------------------------------------------------------

/** Options for {@linkcode getPage}. */
export interface GetPageOptions {
  /** The method (default `"GET"`). */
  method?: string;
  /** Headers to send. */
  headers?: HeadersLike;
  /** The body: a string (sent as UTF-8) or bytes. */
  body?: string | Uint8Array;
  /**
   * Seconds the whole download may take, redirects and body included; then
   * the connection is closed and the page fails with `TimeoutError`. None
   * by default; 0 means none too, as in Twisted.
   */
  timeout?: number;
  /** Whether to follow redirects (default `true`), at most `redirectLimit` of them. */
  followRedirect?: boolean;
  /** How many redirects to follow (default 20). */
  redirectLimit?: number;
  /**
   * The agent to use, with its pool; by default a new agent without a
   * persistent pool, so nothing stays open after the page.
   */
  agent?: AgentLike;
  /**
   * The reactor for the default agent and the timeout (default: the
   * agent's reactor when it is an {@linkcode Agent}, else the reactor).
   */
  reactor?: HTTPClientReactor;
}

/**
 * Downloads a page: Twisted's deprecated `getPage`, rebuilt over
 * {@linkcode Agent}, {@linkcode RedirectAgent} and {@linkcode readBody}. It
 * fires with the body of the final response.
 *
 * A status of 400 or more fails with {@linkcode HTTPError} (its `status`,
 * `phrase`, `body` and `response`). With `followRedirect: false`, a 301,
 * 302, 303, 307 or 308 fails with {@linkcode PageRedirect}; otherwise
 * redirects are followed, and too many fail with
 * {@linkcode InfiniteRedirection}. A `timeout` covers the whole download
 * and fails with `TimeoutError`. Other failures are the agent's
 * ({@linkcode ResponseFailed}, {@linkcode ResponseNeverReceived},
 * `ConnectionRefusedError`...) and {@linkcode PartialDownloadError} for a
 * body cut short. Cancelling the Deferred closes the connection.
 *
 * Without an `agent`, the connection closes after the response, and the
 * Deferred fires once it has: a script can simply exit, and a test leaks
 * nothing.
 *
 * Divergences from Twisted's `getPage`: no factory or cookie options; the
 * options are those above; `HTTPError` replaces `twisted.web.error.Error`;
 * the redirect errors of `RedirectAgent` come out unwrapped.
 *
 * @param url The URL of the page.
 * @param options The method, headers, body, timeout, redirect policy and agent.
 * @returns A Deferred of the page's bytes.
 * @throws {TypeError} For an invalid method, URL or header.
 * @throws {RangeError} For a negative or non-numeric timeout.
 *
 * @example Fetching a page
 * ```ts ignore
 * import { getPage } from "@torsion/torsion/protocols";
 *
 * const page = await getPage("http://127.0.0.1:8080/", { timeout: 10 });
 * console.log(new TextDecoder().decode(page));
 * ```
 */
export function getPage(url: string | URL, options: GetPageOptions = {}): Deferred<Uint8Array> {
  const timeout = options.timeout;
  if (timeout !== undefined && (typeof timeout !== "number" || !(timeout >= 0))) {
    throw new RangeError(`Timeout must be a number of seconds, 0 or more, not ${timeout}`);
  }
  const method = options.method ?? "GET";
  const given = options.agent;
  const reactor = options.reactor ?? (given instanceof Agent ? given.reactor : defaultReactor);
  const agent = given ?? new Agent(reactor);
  const followRedirect = options.followRedirect ?? true;
  const requester = followRedirect ? new RedirectAgent(agent, options.redirectLimit ?? 20) : agent;
  const d = requester.request(method, url, options.headers, options.body)
    .addErrback<never>((failure: Failure): Failure => {
      // RedirectAgent's own errors come out on their own, as old getPage raised them.
      const error = failure.value;
      if (
        error instanceof ResponseFailed && error.reasons.length === 1 &&
        error.reasons[0].value instanceof HTTPError
      ) {
        throw error.reasons[0].value;
      }
      return failure;
    })
    .addCallback((response: Response) =>
      readBody(response).addCallback((body): Uint8Array => {
        const code = response.code;
        if (code >= 400) throw new HTTPError(code, response.phrase, body, response);
        if (!followRedirect && [301, 302, 303, 307, 308].includes(code)) {
          const location = response.headers.getRawHeaders("location")?.[0] ?? "";
          throw new PageRedirect(code, response.phrase, location, body, response);
        }
        return body;
      })
    );
  // As in Twisted, a timeout of 0 means none.
  if (timeout !== undefined && timeout !== 0) d.addTimeout(timeout, reactor);
  return d;
}
