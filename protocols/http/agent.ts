/**
 * {@linkcode Agent}, Twisted's HTTP/1.1 agent: it connects (or takes a
 * pooled connection), writes a request, and fires with the response once
 * its head has arrived. Also what it needs of a reactor
 * ({@linkcode HTTPClientReactor}) and what every agent is
 * ({@linkcode AgentLike}).
 *
 * @module
 */
import { Deferred } from "../../defer/deferred.ts";
import { fail } from "../../defer/helpers.ts";
import type { ReactorTime } from "../../defer/time.ts";
import { reactor as defaultReactor } from "../../reactor/deno_reactor.ts";
import type { ClientFactoryLike, Connector } from "../../reactor/interfaces.ts";
import {
  type ConnectionHooks,
  HTTP11ClientFactory,
  type HTTP11ClientProtocol,
  type OutgoingRequest,
} from "./_client_protocol.ts";
import { TOKEN } from "./_syntax.ts";
import { USER_AGENT } from "./_version.ts";
import { type BodyProducer, isBodyProducer, UNKNOWN_LENGTH } from "./body_producer.ts";
import { type Connect, getPooledConnection, HTTPConnectionPool } from "./connection_pool.ts";
import { SchemeNotSupported } from "./errors.ts";
import { Headers, type HeadersLike } from "./headers.ts";
import type { Response } from "./response.ts";

const encoder = new TextEncoder();
/**
 * Agents that reach `http:` URLs through a proxy (see `ProxyAgent`): they
 * write absolute-form request targets, and key their pooled connections
 * with the proxy's name, so a pool shared with other agents never mixes
 * proxied and direct connections.
 */
const proxied = new WeakMap<Agent, string>();

/**
 * Makes an agent speak to a proxy: absolute-form targets for `http:` URLs,
 * and pool keys prefixed with `proxy`.
 *
 * @param agent The agent, whose reactor connects to the proxy.
 * @param proxy A name for the proxy, unique among the pool's users.
 */
export function speakToProxy(agent: Agent, proxy: string): void {
  proxied.set(agent, proxy);
}

/** Methods that send `Content-Length: 0` without a body, as Twisted does. */
const EXPECTS_BODY = new Set(["POST", "PUT", "PATCH"]);

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
   * @param body The body: a string, bytes or a body producer.
   * @returns A Deferred of the response.
   */
  request(
    method: string,
    url: string | URL,
    headers?: HeadersLike,
    body?: string | Uint8Array | BodyProducer,
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
  /**
   * Seconds a request with `Expect: 100-continue` waits for the server's
   * `100 Continue` before it sends its body anyway (default 1, as curl).
   */
  expectContinueTimeout?: number;
}

/**
 * Issues HTTP/1.1 requests: Twisted's `Agent`. `request` connects (or takes
 * an idle connection from the pool), writes the request line, `Host`,
 * `Connection` (`keep-alive` with a persistent pool, else `close`), the
 * given headers, `User-Agent: torsion/<version>` unless one is given,
 * `Content-Length` (or `Transfer-Encoding: chunked`) and the body, and
 * fires with the {@linkcode Response} once its head has arrived; read its
 * body with {@linkcode readBody}. Redirects are returned, not followed: wrap
 * the agent in a {@linkcode RedirectAgent} to follow them.
 *
 * The body is a string, bytes, or a {@linkcode BodyProducer} such as
 * {@linkcode FileBodyProducer}, which writes it a piece at a time as the
 * socket takes it: with `Content-Length` when its `length` is known, else
 * chunked. A producer that writes more or fewer bytes than its `length`
 * fails the request with {@linkcode RequestGenerationFailed} holding a
 * {@linkcode WrongBodyLength}; a connection lost while it writes, with
 * {@linkcode RequestTransmissionFailed}. A final response that arrives
 * before the body is out stops the producer when its status is 300 or
 * more (the server will not read the rest, as curl assumes); a 1xx or 2xx
 * lets it go on. Either way the connection is closed after such a response.
 *
 * With an `Expect: 100-continue` header, the head goes first and the body
 * waits for the server's `100 Continue`, or `expectContinueTimeout` seconds
 * (on the reactor's clock), then goes anyway; a final response instead
 * means the body is not sent and the connection is closed after it.
 *
 * Credentials in the URL (`http://user:pass@host/`, percent-decoded, as
 * UTF-8) are sent as `Authorization: Basic`, unless an `Authorization`
 * header is given; they never appear in the request line, in `Host` or in
 * the response's `request.absoluteURI`.
 *
 * The request fails with the connection's error (`ConnectionRefusedError`,
 * `DNSLookupError`, `TimeoutError` after `connectTimeout`), with
 * {@linkcode ResponseNeverReceived} if the connection closes before any
 * response, with {@linkcode ResponseFailed} (holding a `ParseError` or the
 * connection's reason) for a malformed or cut head, and with
 * {@linkcode SchemeNotSupported} for a scheme other than `http` or `https`,
 * or for `https` on a reactor without `connectSSL`. Cancelling it closes the
 * connection at once and fails it with `CancelledError`, stopping a body producer.
 *
 * Divergences from Twisted: the method and URL are strings, the headers may
 * be a plain object, and the body may be a string or bytes as well as a
 * body producer; a given `Content-Length` or `Transfer-Encoding` header is
 * replaced; cancelling fails with `CancelledError` itself, where Twisted
 * wraps it in `ResponseNeverReceived`; the response fires as soon as its
 * head arrives, also while the body is being sent (Twisted waits for the
 * whole response then); `Expect: 100-continue`, the default `User-Agent`
 * and credentials from the URL are torsion's own (Twisted sends no
 * `User-Agent` and ignores them).
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
  readonly #expectContinueTimeout: number;

  /**
   * Makes an agent.
   *
   * @param reactor What connects (default: the reactor).
   * @param options The pool, the connect timeout, TLS settings and the `100 Continue` wait.
   * @throws {RangeError} For a negative or non-numeric `connectTimeout` or
   * `expectContinueTimeout`.
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
    const wait = options.expectContinueTimeout ?? 1;
    if (typeof wait !== "number" || !(wait >= 0) || wait === Infinity) {
      throw new RangeError(
        `expectContinueTimeout must be a number of seconds, 0 or more, not ${wait}`,
      );
    }
    this.#expectContinueTimeout = wait;
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
   * @param headers Headers to send; `Host` and `User-Agent` are added unless given.
   * @param body The body: a string (sent as UTF-8), bytes, or a body producer.
   * @returns A Deferred of the response, fired once its head has arrived.
   * @throws {TypeError} For an invalid method, URL, header or body.
   * @throws {RangeError} For a body producer whose `length` is not an
   * integer, 0 or more, or `UNKNOWN_LENGTH`.
   */
  request(
    method: string,
    url: string | URL,
    headers?: HeadersLike,
    body?: string | Uint8Array | BodyProducer,
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
    const credentials = takeCredentials(parsed);
    if (parsed.hostname === "") throw new TypeError(`URL ${parsed.href} has no host`);
    const host = parsed.hostname.startsWith("[") ? parsed.hostname.slice(1, -1) : parsed.hostname;
    const port = parsed.port === "" ? (scheme === "https" ? 443 : 80) : Number(parsed.port);
    const request = this.#buildRequest(method, parsed, headers, body, credentials);
    const proxy = proxied.get(this);
    const key = `${proxy === undefined ? "" : `${proxy} `}${scheme}://${parsed.host}`;
    const connect: Connect = (hooks) => this.#connect(scheme, host, port, hooks);
    return getPooledConnection(this.#pool, key, connect).addCallback((sender) =>
      sender.request(request)
    );
  }

  #buildRequest(
    method: string,
    url: URL,
    given: HeadersLike | undefined,
    body: string | Uint8Array | BodyProducer | undefined,
    credentials: string | undefined,
  ): OutgoingRequest {
    const headers = new Headers(given);
    headers.removeHeader("content-length");
    headers.removeHeader("transfer-encoding");
    if (!headers.hasHeader("host")) headers.addRawHeader("Host", url.host);
    if (!headers.hasHeader("user-agent")) headers.addRawHeader("User-Agent", USER_AGENT);
    if (credentials !== undefined && !headers.hasHeader("authorization")) {
      headers.addRawHeader("Authorization", `Basic ${credentials}`);
    }
    const connection = headers.getRawHeaders("connection");
    let persistent = this.#pool.persistent;
    if (connection === undefined) {
      headers.addRawHeader("Connection", persistent ? "keep-alive" : "close");
    } else if (connection.join(",").toLowerCase().split(",").some((t) => t.trim() === "close")) {
      persistent = false;
    }
    const bytes = typeof body === "string" ? encoder.encode(body) : body;
    if (bytes !== undefined && !(bytes instanceof Uint8Array) && !isBodyProducer(bytes)) {
      throw new TypeError("The request body must be a string, a Uint8Array or a body producer");
    }
    if (isBodyProducer(bytes)) {
      const length = bytes.length;
      if (length === UNKNOWN_LENGTH) {
        headers.addRawHeader("Transfer-Encoding", "chunked");
      } else if (Number.isSafeInteger(length) && length >= 0) {
        headers.addRawHeader("Content-Length", String(length));
      } else {
        throw new RangeError(
          `A body producer's length must be an integer, 0 or more, or UNKNOWN_LENGTH, not ${
            String(length)
          }`,
        );
      }
    } else if (bytes !== undefined || EXPECTS_BODY.has(method)) {
      headers.addRawHeader("Content-Length", String(bytes?.length ?? 0));
    }
    const expect = headers.getRawHeaders("expect");
    const expectContinue = expect !== undefined &&
      expect.some((value) => value.trim().toLowerCase() === "100-continue");
    // The URL parser has percent-encoded spaces and control characters.
    const absolute = url.protocol === "http:" && proxied.has(this);
    const target = absolute
      ? `${url.origin}${url.pathname}${url.search}`
      : url.pathname + url.search;
    let head = `${method} ${target} HTTP/1.1\r\n`;
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
      expectContinue: expectContinue
        ? { timeout: this.#expectContinueTimeout, clock: this.#reactor }
        : undefined,
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
 * Takes the user name and password out of `url` (so they are never sent in
 * the clear or shown) and returns them for Basic auth, percent-decoded, as
 * base64 of their UTF-8; `undefined` when the URL has none.
 */
function takeCredentials(url: URL): string | undefined {
  if (url.username === "" && url.password === "") return undefined;
  const pair = `${percentDecode(url.username)}:${percentDecode(url.password)}`;
  url.username = "";
  url.password = "";
  let binary = "";
  for (const byte of encoder.encode(pair)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A stray `%`: taken as it is, as curl does.
    return text;
  }
}
