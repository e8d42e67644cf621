/**
 * TLS over TCP endpoints: {@linkcode SSL4ServerEndpoint} listens with a
 * certificate and key, {@linkcode SSL4ClientEndpoint} connects and
 * verifies the server.
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import { fail } from "../defer/helpers.ts";
import { connecting, listening, missing } from "./_endpoint_support.ts";
import type { FactoryLike, ListeningPort, ProtocolLike } from "./interfaces.ts";
import type {
  EndpointReactor,
  StreamClientEndpoint,
  StreamServerEndpoint,
  TCPClientEndpointOptions,
  TCPServerEndpointOptions,
} from "./stream_endpoint.ts";
import type { TLSClientOptions, TLSServerOptions } from "./tls.ts";

/**
 * Listens for TLS over TCP (Twisted's `SSL4ServerEndpoint`); the context
 * factory is Deno's TLS settings: PEM `cert` and `key`.
 *
 * @example
 * ```ts ignore
 * import { Factory, reactor, SSL4ServerEndpoint, Echo } from "@torsion/torsion";
 *
 * const tls = { cert: Deno.readTextFileSync("cert.pem"), key: Deno.readTextFileSync("key.pem") };
 * await new SSL4ServerEndpoint(reactor, 8443, tls).listen(Factory.forProtocol(Echo));
 * ```
 */
export class SSL4ServerEndpoint implements StreamServerEndpoint {
  readonly #reactor: EndpointReactor;
  /** The port. */
  readonly port: number;
  /** The certificate and key. */
  readonly contextFactory: TLSServerOptions;
  /** `backlog` and `interface`. */
  readonly options: TCPServerEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor.
   * @param port The port.
   * @param contextFactory The certificate and key, PEM.
   * @param options `backlog` and `interface`.
   */
  constructor(
    reactor: EndpointReactor,
    port: number,
    contextFactory: TLSServerOptions,
    options: TCPServerEndpointOptions = {},
  ) {
    this.#reactor = reactor;
    this.port = port;
    this.contextFactory = contextFactory;
    this.options = { ...options };
  }

  /**
   * Starts listening.
   *
   * @param factory Makes a protocol per connection.
   * @returns The port, or the listening error.
   */
  listen(factory: FactoryLike): Deferred<ListeningPort> {
    const reactor = this.#reactor;
    if (reactor.listenSSL === undefined) return fail(missing("listenSSL"));
    return listening(() =>
      reactor.listenSSL!(this.port, factory, this.contextFactory, this.options)
    );
  }
}

/**
 * Connects with TLS over TCP (Twisted's `SSL4ClientEndpoint`). Unlike
 * Twisted's `connectSSL` with a default context, the server's certificate
 * is verified against the system's roots plus `caCerts`, for `hostname`.
 *
 * @example
 * ```ts ignore
 * import { Protocol, reactor, SSL4ClientEndpoint, connectProtocol } from "@torsion/torsion";
 *
 * await connectProtocol(new SSL4ClientEndpoint(reactor, "example.com", 443, {}), new Protocol());
 * ```
 */
export class SSL4ClientEndpoint implements StreamClientEndpoint {
  readonly #reactor: EndpointReactor;
  /** The host. */
  readonly host: string;
  /** The port. */
  readonly port: number;
  /** The TLS settings. */
  readonly contextFactory: TLSClientOptions;
  /** `timeout`, and `bindAddress` (which Deno cannot do: connecting fails). */
  readonly options: TCPClientEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor.
   * @param host The host.
   * @param port The port.
   * @param contextFactory `hostname`, `caCerts`, `alpnProtocols`, and a
   *   client certificate's `cert` and `key`.
   * @param options `timeout` and `bindAddress`.
   */
  constructor(
    reactor: EndpointReactor,
    host: string,
    port: number,
    contextFactory: TLSClientOptions = {},
    options: TCPClientEndpointOptions = {},
  ) {
    this.#reactor = reactor;
    this.host = host;
    this.port = port;
    this.contextFactory = contextFactory;
    this.options = { ...options };
  }

  /**
   * Connects.
   *
   * @param factory Builds the protocol.
   * @returns The connected protocol.
   */
  connect(factory: FactoryLike): Deferred<ProtocolLike> {
    const reactor = this.#reactor;
    if (reactor.connectSSL === undefined) return fail(missing("connectSSL"));
    return connecting(
      factory,
      () => ({ type: "TCP", host: this.host, port: this.port }),
      (f) => reactor.connectSSL!(this.host, this.port, f, this.contextFactory, this.options),
    );
  }
}
