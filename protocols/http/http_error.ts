/**
 * Errors for responses whose status is a failure or an unfollowed redirect,
 * as Twisted's `twisted.web.error` has them: {@linkcode HTTPError} and its
 * redirect kinds, which {@linkcode getPage} and the redirect agents raise.
 *
 * @module
 */
import type { Response } from "./response.ts";

const EMPTY = new Uint8Array(0);

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
