/**
 * {@linkcode RedirectAgent}: follows redirects for another agent with
 * Twisted's rules, and keeps credentials from leaving the origin;
 * {@linkcode BrowserLikeRedirectAgent}: the same with browsers' rules.
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

/** Headers that describe a request body, dropped with it (as the Fetch standard has it). */
const BODY_HEADERS = ["content-type", "content-encoding", "content-language", "content-location"];

let makeBrowserLike: (agent: RedirectAgent) => void;

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
  #browserLike = false;

  static {
    makeBrowserLike = (agent) => (agent.#browserLike = true);
  }

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
    if (code !== 301 && code !== 302 && code !== 303 && code !== 307 && code !== 308) {
      return response;
    }
    let nextMethod = method;
    let nextBody = body;
    let dropBodyHeaders = false;
    if (this.#browserLike) {
      // The Fetch standard's rules: a POST answered by 301 or 302, and
      // anything but GET or HEAD answered by 303, becomes a GET.
      if (
        (code === 303 && method !== "GET" && method !== "HEAD") ||
        ((code === 301 || code === 302) && method === "POST")
      ) {
        nextMethod = "GET";
        nextBody = undefined;
        dropBodyHeaders = true;
      }
    } else if (code === 303) {
      nextMethod = "GET";
      nextBody = undefined;
    } else if (method !== "GET" && method !== "HEAD") {
      const location = response.headers.getRawHeaders("location")?.[0] ?? url;
      return this.#failAfterBody(response, new PageRedirect(code, response.phrase, location));
    }
    if (isBodyProducer(nextBody)) {
      // A body producer has been used up by the first request: it cannot be
      // sent again to the next URL, so the redirect is refused.
      const location = response.headers.getRawHeaders("location")?.[0] ?? url;
      const refused = new PageRedirect(code, response.phrase, location);
      refused.message += " not followed: a body producer cannot be sent twice";
      return this.#failAfterBody(response, refused);
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
    const crossOrigin = next.origin !== current.origin;
    if (crossOrigin) {
      next.username = "";
      next.password = "";
    } else if (next.username === "" && next.password === "") {
      next.username = current.username;
      next.password = current.password;
    }
    if (headers !== undefined && (crossOrigin || dropBodyHeaders)) {
      const kept = new Headers(headers);
      if (crossOrigin) { for (const name of this.#sensitive) kept.removeHeader(name); }
      if (dropBodyHeaders) { for (const name of BODY_HEADERS) kept.removeHeader(name); }
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

/**
 * Follows redirects as browsers do (the Fetch standard's rules), for
 * clients that talk to sites made for browsers: a POST answered by 301 or
 * 302 is sent on as a GET without its body, as is any method but GET and
 * HEAD answered by 303; every other method and redirect is followed with
 * the same method and body, 307 and 308 included — except a body producer,
 * which was used up by the first request and cannot be sent again: that
 * redirect fails with {@linkcode PageRedirect}. When the body is dropped,
 * so are `Content-Type`, `Content-Encoding`, `Content-Language` and
 * `Content-Location`. All else (the limit, `Location`, credentials kept
 * from other origins, `previousResponse`) is as {@linkcode RedirectAgent}.
 *
 * Divergences from Twisted's `BrowserLikeRedirectAgent`, which turns every
 * 301, 302, 303 and 308 into a GET and refuses a 307 for methods other
 * than GET and HEAD: here a 308 keeps its method (RFC 9110), a 307 is
 * followed for any method, a 301 or 302 turns only a POST into a GET, and
 * a HEAD stays a HEAD.
 *
 * @example A form POST answered by a redirect to its result
 * ```ts ignore
 * import { Agent, BrowserLikeRedirectAgent, readBody } from "@torsion/torsion/protocols";
 *
 * const agent = new BrowserLikeRedirectAgent(new Agent());
 * const response = await agent.request(
 *   "POST",
 *   "http://127.0.0.1:8080/login",
 *   { "Content-Type": "application/x-www-form-urlencoded" },
 *   "user=alice",
 * );
 * console.log(response.request?.method, response.request?.absoluteURI);
 * await readBody(response);
 * ```
 */
export class BrowserLikeRedirectAgent extends RedirectAgent {
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
    super(agent, redirectLimit, sensitiveHeaderNames);
    makeBrowserLike(this);
  }
}
