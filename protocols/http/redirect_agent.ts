/**
 * {@linkcode RedirectAgent}: follows redirects for another agent with
 * Twisted's rules, and keeps credentials from leaving the origin.
 *
 * @module
 */
import type { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import type { AgentLike } from "./agent.ts";
import { type BodyProducer, isBodyProducer } from "./body_producer.ts";
import { ResponseFailed } from "./errors.ts";
import { Headers, type HeadersLike } from "./headers.ts";
import { InfiniteRedirection, PageRedirect, RedirectWithNoLocation } from "./http_error.ts";
import { discardBody } from "./read_body.ts";
import type { Response } from "./response.ts";

/** Headers dropped when a redirect leaves the origin (Twisted's list). */
const SENSITIVE_HEADERS = [
  "authorization",
  "cookie",
  "cookie2",
  "proxy-authorization",
  "www-authenticate",
];

/**
 * Follows redirects for another agent: Twisted's `RedirectAgent`. A 301,
 * 302, 307 or 308 is followed for GET and HEAD (other methods, and a body
 * producer, which cannot be sent twice, fail with
 * {@linkcode PageRedirect}); a 303 is followed for any method, as a GET
 * without a body. The `Location` is resolved against the request's URL.
 * After `redirectLimit` redirects the request fails with
 * {@linkcode InfiniteRedirection}; a redirect without `Location` with
 * {@linkcode RedirectWithNoLocation}; each wrapped in
 * {@linkcode ResponseFailed}, as in Twisted. When a redirect leaves the
 * origin, `Authorization`, `Cookie`, `Cookie2`, `Proxy-Authorization`,
 * `WWW-Authenticate` and the `sensitiveHeaderNames` are not sent on, nor
 * are credentials in the URL (`http://user:pass@host/`), which are kept
 * for redirects within the origin.
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
    body?: string | Uint8Array | BodyProducer,
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
    body: string | Uint8Array | BodyProducer | undefined,
    count: number,
  ): Response | Deferred<Response> {
    const code = response.code;
    let nextMethod = method;
    let nextBody = body;
    if (code === 303) {
      nextMethod = "GET";
      nextBody = undefined;
    } else if (code === 301 || code === 302 || code === 307 || code === 308) {
      // A body producer has been used up: it cannot go to the next URL.
      if ((method !== "GET" && method !== "HEAD") || isBodyProducer(body)) {
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
    // Credentials in the URL belong to its origin: kept on it, as curl does
    // (even when the Location is absolute), and never sent to another.
    const current = new URL(url);
    if (next.origin !== current.origin) {
      next.username = "";
      next.password = "";
    } else if (next.username === "" && next.password === "") {
      next.username = current.username;
      next.password = current.password;
    }
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
