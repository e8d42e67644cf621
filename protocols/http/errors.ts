/**
 * The errors of the HTTP client's requests and bodies, as Twisted's
 * `twisted.web._newclient` has them: how a body ended ({@linkcode ResponseDone},
 * {@linkcode PotentialDataLoss}), why a response could not be received
 * ({@linkcode ResponseFailed} and its kinds), and why a request was not sent.
 *
 * @module
 */
import type { Failure } from "../../defer/failure.ts";
import type { Response } from "./response.ts";

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

/** The messages of `reasons`, joined for an error's message. */
export function describeReasons(reasons: readonly Failure[]): string {
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
 * What {@linkcode readBody} (and so `getPage`) fails with when a body is
 * larger than its `maxSize`: as soon as the body passes the limit, or at
 * once when its `Content-Length` says it will. Its connection is closed, so
 * nothing more of the body is read. Its `reasons` are empty: nothing else
 * went wrong.
 *
 * Twisted has no such limit; this is torsion's own.
 *
 * @example Refusing a page over 1 MiB
 * ```ts ignore
 * import { BodyTooLargeError, getPage } from "@torsion/torsion/protocols";
 *
 * try {
 *   await getPage("http://127.0.0.1:8080/huge", { maxSize: 2 ** 20 });
 * } catch (e) {
 *   if (e instanceof BodyTooLargeError) console.log(`over ${e.maxSize} bytes`);
 * }
 * ```
 */
export class BodyTooLargeError extends ResponseFailed {
  /** The limit that was passed, in bytes. */
  readonly maxSize: number;
  /**
   * How many bytes were known of when the read stopped: those received, or
   * the declared `Content-Length` when that alone was over the limit.
   */
  readonly size: number;
  /** The status code of the response. */
  readonly status: number;

  /**
   * Makes the error.
   *
   * @param response The response whose body was too large.
   * @param maxSize The limit, in bytes.
   * @param size The bytes received, or the declared length.
   */
  constructor(response: Response, maxSize: number, size: number) {
    super(
      [],
      response,
      `The body of the ${response.code} response is larger than maxSize (${maxSize} bytes): ${
        size === response.length ? "its Content-Length is" : "received"
      } ${size} bytes`,
    );
    this.name = "BodyTooLargeError";
    this.maxSize = maxSize;
    this.size = size;
    this.status = response.code;
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
