/**
 * {@linkcode CookieAgent}: sends the cookies of a {@linkcode CookieJar}
 * with each request and keeps those the responses set.
 *
 * @module
 */
import type { Deferred } from "../../defer/deferred.ts";
import type { AgentLike } from "./agent.ts";
import type { BodyProducer } from "./body_producer.ts";
import type { CookieJar } from "./cookie_jar.ts";
import { Headers, type HeadersLike } from "./headers.ts";
import type { Response } from "./response.ts";

/**
 * Wraps an agent to send and keep cookies: Twisted's `CookieAgent`. Each
 * request gets a `Cookie` header with the jar's cookies for its URL (unless
 * it has a `Cookie` header of its own, which is sent as given); each
 * response's `Set-Cookie` headers are stored in the jar, by RFC 6265's
 * rules (see {@linkcode CookieJar}).
 *
 * With redirects, put the redirect agent outside, so each hop has its own
 * cookies sent and stored: `new RedirectAgent(new CookieAgent(agent, jar))`.
 * The other way round the final response's chain of `previousResponse`s is
 * read too, so no cookie set along the way is lost, but the hops after the
 * first are sent without the jar's cookies.
 *
 * Divergence from Twisted: the jar is torsion's {@linkcode CookieJar}, not
 * Python's `cookielib`.
 *
 * @example A session that logs in, then uses its cookie
 * ```ts ignore
 * import { Agent, CookieAgent, CookieJar, readBody, RedirectAgent } from "@torsion/torsion/protocols";
 *
 * const jar = new CookieJar();
 * const agent = new RedirectAgent(new CookieAgent(new Agent(), jar));
 * await readBody(await agent.request("POST", "http://127.0.0.1:8080/login", {}, "user=alice"));
 * const page = await agent.request("GET", "http://127.0.0.1:8080/account");
 * console.log(new TextDecoder().decode(await readBody(page)));
 * ```
 */
export class CookieAgent implements AgentLike {
  readonly #agent: AgentLike;
  /** The jar the agent's cookies are kept in. */
  readonly cookieJar: CookieJar;

  /**
   * Wraps an agent.
   *
   * @param agent The agent that issues each request.
   * @param cookieJar Where cookies are kept.
   */
  constructor(agent: AgentLike, cookieJar: CookieJar) {
    this.#agent = agent;
    this.cookieJar = cookieJar;
  }

  /**
   * Issues a request with the jar's cookies, and keeps the response's.
   *
   * @param method The method.
   * @param url The URL.
   * @param headers Headers to send; `Cookie` is added unless given.
   * @param body The body: a string, bytes or a body producer.
   * @returns A Deferred of the response.
   * @throws {TypeError} For an invalid URL, or as the wrapped agent's `request`.
   */
  request(
    method: string,
    url: string | URL,
    headers?: HeadersLike,
    body?: string | Uint8Array | BodyProducer,
  ): Deferred<Response> {
    const href = String(url);
    const sent = new Headers(headers);
    if (!sent.hasHeader("cookie")) {
      const cookie = this.cookieJar.getCookieHeader(href);
      if (cookie !== undefined) sent.addRawHeader("Cookie", cookie);
    }
    return this.#agent.request(method, href, sent, body).addCallback((response) => {
      const chain: Response[] = [];
      for (let r: Response | undefined = response; r !== undefined; r = r.previousResponse) {
        chain.push(r);
      }
      for (let i = chain.length - 1; i >= 0; i--) {
        const r = chain[i];
        this.cookieJar.extractCookies(r, r.request?.absoluteURI ?? href);
      }
      return response;
    });
  }
}
