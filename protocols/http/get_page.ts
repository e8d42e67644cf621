/**
 * {@linkcode getPage}: a page in one call, as Twisted's old `getPage`,
 * built from an agent, a redirect agent and `readBody`.
 *
 * @module
 */
import type { Deferred } from "../../defer/deferred.ts";
import type { Failure } from "../../defer/failure.ts";
import { reactor as defaultReactor } from "../../reactor/deno_reactor.ts";
import { Agent, type AgentLike, type HTTPClientReactor } from "./agent.ts";
import type { BodyProducer } from "./body_producer.ts";
import { ContentDecoderAgent } from "./content_decoder_agent.ts";
import { ResponseFailed } from "./errors.ts";
import type { HeadersLike } from "./headers.ts";
import { HTTPError, PageRedirect } from "./http_error.ts";
import { checkMaxSize, readBody } from "./read_body.ts";
import { RedirectAgent } from "./redirect_agent.ts";
import type { Response } from "./response.ts";

/** Options for {@linkcode getPage}. */
export interface GetPageOptions {
  /** The method (default `"GET"`). */
  method?: string;
  /** Headers to send. */
  headers?: HeadersLike;
  /** The body: a string (sent as UTF-8), bytes, or a body producer such as {@linkcode FileBodyProducer}. */
  body?: string | Uint8Array | BodyProducer;
  /**
   * Seconds the whole download may take, redirects and body included; then
   * the connection is closed and the page fails with `TimeoutError`. None
   * by default; 0 means none too, as in Twisted.
   */
  timeout?: number;
  /**
   * Whether to ask for a compressed body and decode it (default `true`):
   * the request goes through a {@linkcode ContentDecoderAgent} with all its
   * decoders (gzip, deflate, br), so the page is the decoded body and
   * `maxSize` bounds its decoded size. `false` sends no `Accept-Encoding`
   * of its own and gives the body as the server sent it.
   */
  decode?: boolean;
  /** Whether to follow redirects (default `true`), at most `redirectLimit` of them. */
  followRedirect?: boolean;
  /** How many redirects to follow (default 20). */
  redirectLimit?: number;
  /**
   * The most bytes the page may have (the body of an error status too):
   * past it, the page fails with {@linkcode BodyTooLargeError} and the
   * connection is closed. No limit by default.
   */
  maxSize?: number;
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
 * body cut short. With `maxSize`, a larger body fails with
 * {@linkcode BodyTooLargeError} and its connection is closed; the body is
 * gathered into one growing buffer, so a page costs about its size in
 * memory however it was chunked. Cancelling the Deferred closes the
 * connection.
 *
 * The body is asked for compressed and decoded (gzip, deflate and br,
 * through {@linkcode ContentDecoderAgent}, around the given `agent` too)
 * unless `decode` is `false`.
 *
 * Without an `agent`, the connection closes after the response, and the
 * Deferred fires once it has: a script can simply exit, and a test leaks
 * nothing.
 *
 * Divergences from Twisted's `getPage`: no factory or cookie options; the
 * options are those above (`maxSize` and `decode` are torsion's own, and
 * Twisted's `getPage` decodes nothing); `HTTPError` replaces `twisted.web.error.Error`;
 * the redirect errors of `RedirectAgent` come out unwrapped.
 *
 * @param url The URL of the page.
 * @param options The method, headers, body, timeout, redirect policy, size limit, decoding and agent.
 * @returns A Deferred of the page's bytes.
 * @throws {TypeError} For an invalid method, URL or header.
 * @throws {RangeError} For a negative or non-numeric timeout or maxSize.
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
  const maxSize = checkMaxSize(options.maxSize);
  const method = options.method ?? "GET";
  const given = options.agent;
  const reactor = options.reactor ?? (given instanceof Agent ? given.reactor : defaultReactor);
  const plain = given ?? new Agent(reactor);
  const agent = options.decode === false ? plain : new ContentDecoderAgent(plain);
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
      readBody(response, { maxSize }).addCallback((body): Uint8Array => {
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
