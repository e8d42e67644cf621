/**
 * {@linkcode ProxyAgent}: requests through an HTTP proxy — `http:` URLs in
 * absolute form, `https:` URLs through a `CONNECT` tunnel with TLS inside —
 * and {@linkcode TunnelError}, what a refused tunnel fails with.
 *
 * @module
 */
import type { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import type { DelayedCall, ReactorTime } from "../../defer/time.ts";
import { reactor as defaultReactor } from "../../reactor/deno_reactor.ts";
import type { StreamClientEndpoint } from "../../reactor/endpoints.ts";
import type {
  Address,
  ClientFactoryLike,
  Connector,
  ConnectorState,
  ProtocolLike,
  TCPTransport,
  Transport,
} from "../../reactor/interfaces.ts";
import { Protocol } from "../protocol.ts";
import { HTTPResponseParser } from "./_parser.ts";
import { Agent, type AgentLike, type HTTPClientReactor, speakToProxy } from "./agent.ts";
import type { BodyProducer } from "./body_producer.ts";
import type { HTTPConnectionPool } from "./connection_pool.ts";
import { Headers, type HeadersLike } from "./headers.ts";
import type { Response } from "./response.ts";

const encoder = new TextEncoder();

/**
 * A proxy would not open a `CONNECT` tunnel: it answered with a status
 * other than 2xx (`407 Proxy Authentication Required`, `403 Forbidden`,
 * `502 Bad Gateway` when it could not reach the server...), or closed the
 * connection, or sent something that is not an HTTP response. An
 * `https:` request through a {@linkcode ProxyAgent} fails with it.
 *
 * @example
 * ```ts
 * import { TunnelError } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new TunnelError("example.com:443", 407, "Proxy Authentication Required");
 * assert.match(e.message, /407 Proxy Authentication Required/);
 * ```
 */
export class TunnelError extends Error {
  /** The `host:port` the tunnel was asked for. */
  readonly target: string;
  /** The proxy's status code; `undefined` if it gave none. */
  readonly code: number | undefined;
  /** The proxy's reason phrase (empty if it gave none). */
  readonly phrase: string;
  /** The proxy's response headers (empty if it gave none). */
  readonly headers: Headers;

  /**
   * Makes the error.
   *
   * @param target The `host:port` asked for.
   * @param code The proxy's status code, if any.
   * @param phrase Its reason phrase.
   * @param headers Its response headers.
   * @param options The underlying error, as `cause`.
   */
  constructor(
    target: string,
    code?: number,
    phrase: string = "",
    headers: Headers = new Headers(),
    options?: ErrorOptions,
  ) {
    super(
      code === undefined
        ? `The proxy did not open a tunnel to ${target}${
          options?.cause === undefined ? "" : `: ${describe(options.cause)}`
        }`
        : `The proxy refused a tunnel to ${target}: ${code}${phrase === "" ? "" : ` ${phrase}`}`,
      options,
    );
    this.name = "TunnelError";
    this.target = target;
    this.code = code;
    this.phrase = phrase;
    this.headers = headers;
  }
}

function describe(cause: unknown): string {
  return cause instanceof Failure
    ? cause.getErrorMessage()
    : cause instanceof Error
    ? cause.message
    : String(cause);
}

/** Options for {@linkcode ProxyAgent}. */
export interface ProxyAgentOptions {
  /**
   * Where connections come from, as for `Agent`: a pool to share, `true`
   * for a persistent pool of the agent's own, or `false` (the default) for
   * a connection per request.
   */
  pool?: HTTPConnectionPool | boolean;
  /**
   * TLS settings for `https:` servers reached through a tunnel, such as
   * `{ caCerts: [pem] }`; the name verified is the URL's host.
   */
  tlsOptions?: { caCerts?: string[]; alpnProtocols?: string[] };
  /**
   * Headers for the proxy itself, such as `Proxy-Authorization`: sent with
   * each `CONNECT`, and with each `http:` request (which the proxy reads).
   */
  proxyHeaders?: HeadersLike;
}

/** A connection attempt through the proxy's endpoint, as `Agent` expects of a reactor's. */
class EndpointConnector implements Connector {
  /** Still `"connecting"` while a tunnel is being opened. */
  state: ConnectorState = "connecting";
  readonly #attempt: Deferred<ProtocolLike>;
  readonly #destination: Address;
  #protocol: ProtocolLike | undefined;

  constructor(
    endpoint: StreamClientEndpoint,
    factory: ClientFactoryLike,
    destination: Address,
    tunnel: boolean,
    build: (addr: Address, connector: EndpointConnector) => ProtocolLike | null,
  ) {
    this.#destination = destination;
    this.#attempt = endpoint.connect({
      buildProtocol: (addr) => build(addr, this),
      doStart: () => factory.doStart(),
      doStop: () => factory.doStop(),
    });
    this.#attempt.addCallbacks(
      (protocol) => {
        this.#protocol = protocol;
        if (!tunnel && this.state === "connecting") this.state = "connected";
      },
      (reason: Failure) => {
        this.state = "disconnected";
        factory.clientConnectionFailed?.(this, reason);
      },
    );
  }

  connect(): void {
    throw new Error("A connection through a proxy cannot be restarted");
  }

  disconnect(): void {
    if (this.state === "connecting") this.stopConnecting();
  }

  stopConnecting(): void {
    if (this.state !== "connecting") throw new Error("Not connecting");
    if (this.#protocol === undefined) this.#attempt.cancel();
    else (this.#protocol as { transport?: Transport | null }).transport?.abortConnection();
  }

  getDestination(): Address {
    return this.#destination;
  }
}

/**
 * Asks the proxy for a tunnel, then starts TLS in it and hands the
 * connection to the HTTP protocol: the tunnel is invisible to it.
 */
class TunnelProtocol extends Protocol {
  readonly #target: string;
  readonly #host: string;
  readonly #proxyHeaders: Headers;
  readonly #tlsOptions: { caCerts?: string[]; alpnProtocols?: string[] };
  readonly #inner: () => ProtocolLike | null;
  readonly #failed: (reason: Failure) => void;
  readonly #established: () => void;
  #parser: HTTPResponseParser | null;
  #protocol: ProtocolLike | null = null;
  #done = false;

  constructor(
    host: string,
    port: number,
    proxyHeaders: Headers,
    tlsOptions: { caCerts?: string[]; alpnProtocols?: string[] },
    inner: () => ProtocolLike | null,
    failed: (reason: Failure) => void,
    established: () => void,
  ) {
    super();
    this.#established = established;
    this.#host = host;
    this.#target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
    this.#proxyHeaders = proxyHeaders;
    this.#tlsOptions = tlsOptions;
    this.#inner = inner;
    this.#failed = failed;
    let code = 0;
    let phrase = "";
    let headers = new Headers();
    // A 2xx answer to CONNECT has no body, whatever its headers say; any
    // other answer ends the connection, so its body is not read either.
    this.#parser = new HTTPResponseParser({
      head: (head) => {
        code = head.code;
        phrase = head.phrase;
        headers = new Headers(head.headers.map(([name, value]) => [name, value] as const));
      },
      body: () => {},
      done: (rest) => this.#answered(code, phrase, headers, rest),
    }, { method: "HEAD" });
  }

  override connectionMade(): void {
    let head = `CONNECT ${this.#target} HTTP/1.1\r\nHost: ${this.#target}\r\n`;
    for (const [name, values] of this.#proxyHeaders) {
      for (const value of values) head += `${name}: ${value}\r\n`;
    }
    this.transport!.write(encoder.encode(`${head}\r\n`));
  }

  override dataReceived(data: Uint8Array): void {
    const inner = this.#protocol;
    if (inner !== null) {
      inner.dataReceived(data);
      return;
    }
    const parser = this.#parser;
    if (parser === null) return;
    try {
      parser.feed(data);
    } catch (error) {
      this.#fail(new TunnelError(this.#target, undefined, "", undefined, { cause: error }));
    }
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    const inner = this.#protocol;
    this.#protocol = null;
    if (inner !== null) {
      inner.connectionLost(reason);
    } else if (!this.#done) {
      this.#done = true;
      this.#failed(
        new Failure(new TunnelError(this.#target, undefined, "", undefined, { cause: reason })),
      );
    }
  }

  #fail(error: TunnelError): void {
    if (this.#done) return;
    this.#done = true;
    this.#parser = null;
    this.#failed(new Failure(error));
    this.transport!.abortConnection();
  }

  #answered(code: number, phrase: string, headers: Headers, rest: Uint8Array): void {
    this.#parser = null;
    if (code < 200 || code > 299) {
      this.#fail(new TunnelError(this.#target, code, phrase, headers));
      return;
    }
    if (rest.length > 0) {
      const cause = new Error("The proxy sent bytes after its answer, before TLS started");
      this.#fail(new TunnelError(this.#target, undefined, "", undefined, { cause }));
      return;
    }
    const transport = this.transport as Transport & Partial<TCPTransport>;
    if (typeof transport.startTLS !== "function") {
      const cause = new Error("The connection to the proxy cannot start TLS");
      this.#fail(new TunnelError(this.#target, undefined, "", undefined, { cause }));
      return;
    }
    let inner: ProtocolLike | null;
    try {
      transport.startTLS({ ...this.#tlsOptions, hostname: this.#host });
      inner = this.#inner();
    } catch (error) {
      this.#fail(new TunnelError(this.#target, undefined, "", undefined, { cause: error }));
      return;
    }
    this.#done = true;
    this.#established();
    if (inner === null) {
      transport.loseConnection();
      return;
    }
    this.#protocol = inner;
    inner.makeConnection(transport);
  }
}

/**
 * Issues requests through an HTTP proxy: Twisted's `ProxyAgent`, plus
 * `https:`. The proxy is reached through `endpoint` (such as a
 * `HostnameEndpoint` to the proxy's host and port). An `http:` request is
 * sent to the proxy with its full URL as the target
 * (`GET http://example.com/ HTTP/1.1`), and the proxy fetches it. Beyond
 * Twisted, an `https:` request asks the proxy for a tunnel
 * (`CONNECT example.com:443`), then starts TLS inside it, verifying the
 * server's certificate for the URL's host, so the proxy sees only
 * encrypted bytes. Responses, pooling, redirects (wrap it in a
 * `RedirectAgent`) and errors are as for `Agent`.
 *
 * A tunnel the proxy refuses fails the request with
 * {@linkcode TunnelError}, which has the proxy's status (`407` when it
 * wants credentials: give them in `proxyHeaders`, `403` when the port is
 * not allowed, `502` when it could not reach the server). Errors of an
 * `http:` request are the proxy's responses, returned as they are. A proxy
 * that cannot be reached fails the request with the endpoint's error.
 *
 * Divergences from Twisted: `https:` is supported; options are an object
 * (`pool`, `tlsOptions`, `proxyHeaders`). Twisted keeps one pooled
 * connection per proxy for every `http:` server; here each server has its
 * own.
 *
 * @example Fetching through a proxy on 127.0.0.1:8888
 * ```ts ignore
 * import { ProxyAgent, readBody } from "@torsion/torsion/protocols";
 * import { HostnameEndpoint, reactor } from "@torsion/torsion/reactor";
 *
 * const agent = new ProxyAgent(new HostnameEndpoint(reactor, "127.0.0.1", 8888));
 * const response = await agent.request("GET", "https://example.com/");
 * console.log(response.code, (await readBody(response)).length);
 * ```
 */
export class ProxyAgent implements AgentLike {
  readonly #agent: Agent;
  readonly #proxyHeaders: Headers;
  readonly #hasProxyHeaders: boolean;

  /**
   * Makes an agent that goes through a proxy.
   *
   * @param endpoint Where the proxy is.
   * @param reactor The clock of the pool (default: the reactor).
   * @param options The pool, TLS settings and headers for the proxy.
   */
  constructor(
    endpoint: StreamClientEndpoint,
    reactor: ReactorTime = defaultReactor,
    options: ProxyAgentOptions = {},
  ) {
    const proxyHeaders = this.#proxyHeaders = new Headers(options.proxyHeaders);
    this.#hasProxyHeaders = [...proxyHeaders].length > 0;
    const tlsOptions = options.tlsOptions ?? {};
    const connect = (
      host: string,
      port: number,
      factory: ClientFactoryLike,
      tunnel: boolean,
    ): Connector => {
      const destination: Address = { type: "TCP", host, port };
      return new EndpointConnector(endpoint, factory, destination, tunnel, (addr, connector) => {
        if (!tunnel) return factory.buildProtocol(addr);
        return new TunnelProtocol(
          host,
          port,
          proxyHeaders,
          tlsOptions,
          () => factory.buildProtocol(addr),
          (reason) => {
            connector.state = "disconnected";
            factory.clientConnectionFailed?.(connector, reason);
          },
          () => (connector.state = "connected"),
        );
      });
    };
    const route: HTTPClientReactor = {
      seconds: () => reactor.seconds(),
      // deno-lint-ignore no-explicit-any
      callLater: <A extends any[]>(
        delay: number,
        fn: (...args: A) => unknown,
        ...args: A
      ): DelayedCall => reactor.callLater(delay, fn, ...args),
      getDelayedCalls: () => reactor.getDelayedCalls(),
      connectTCP: (host, port, factory) => connect(host, port, factory, false),
      connectSSL: (host, port, factory) => connect(host, port, factory, true),
    };
    this.#agent = new Agent(route, { pool: options.pool ?? false });
    speakToProxy(this.#agent, `proxy#${++proxies}`);
  }

  /** The pool the agent's connections come from. */
  get pool(): HTTPConnectionPool {
    return this.#agent.pool;
  }

  /**
   * Issues a request through the proxy.
   *
   * @param method The method.
   * @param url An absolute `http:` or `https:` URL.
   * @param headers Headers to send.
   * @param body The body: a string, bytes or a body producer.
   * @returns A Deferred of the response; it fails with
   *   {@linkcode TunnelError} when the proxy refuses a tunnel.
   * @throws {TypeError} For an invalid method, URL or header.
   */
  request(
    method: string,
    url: string | URL,
    headers?: HeadersLike,
    body?: string | Uint8Array | BodyProducer,
  ): Deferred<Response> {
    let sent = headers;
    if (this.#hasProxyHeaders && String(url).toLowerCase().startsWith("http:")) {
      const merged = new Headers(headers);
      for (const [name, values] of this.#proxyHeaders) {
        if (!merged.hasHeader(name)) merged.setRawHeaders(name, values);
      }
      sent = merged;
    }
    return this.#agent.request(method, url, sent, body);
  }
}

let proxies = 0;
