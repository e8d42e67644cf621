/**
 * TCP endpoints: {@linkcode TCP4ServerEndpoint} and
 * {@linkcode TCP6ServerEndpoint} listen, {@linkcode TCP4ClientEndpoint} and
 * {@linkcode TCP6ClientEndpoint} connect to a host and port.
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import { connecting, listening } from "./_endpoint_support.ts";
import type { FactoryLike, ListeningPort, ProtocolLike } from "./interfaces.ts";
import type {
  EndpointReactor,
  StreamClientEndpoint,
  StreamServerEndpoint,
  TCPClientEndpointOptions,
  TCPServerEndpointOptions,
} from "./stream_endpoint.ts";

/**
 * Listens on TCP over IPv4 (Twisted's `TCP4ServerEndpoint`).
 *
 * Divergence from Twisted: `backlog` and `interface` come in an options
 * object, as `listenTCP` takes them.
 *
 * @example
 * ```ts ignore
 * import { Factory, reactor, TCP4ServerEndpoint, Echo } from "@torsion/torsion";
 *
 * const port = await new TCP4ServerEndpoint(reactor, 0, { interface: "127.0.0.1" })
 *   .listen(Factory.forProtocol(Echo));
 * console.log(port.getHost());
 * ```
 */
export class TCP4ServerEndpoint implements StreamServerEndpoint {
  readonly #reactor: EndpointReactor;
  /** The port (0 for any free one). */
  readonly port: number;
  /** `backlog` and `interface`. */
  readonly options: TCPServerEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor.
   * @param port The port.
   * @param options `backlog` (50) and `interface` (every IPv4 one).
   */
  constructor(reactor: EndpointReactor, port: number, options: TCPServerEndpointOptions = {}) {
    this.#reactor = reactor;
    this.port = port;
    this.options = { ...options };
  }

  /**
   * Starts listening.
   *
   * @param factory Makes a protocol per connection.
   * @returns The port, or the listening error.
   */
  listen(factory: FactoryLike): Deferred<ListeningPort> {
    return listening(() => this.#reactor.listenTCP(this.port, factory, this.options));
  }
}

/**
 * Listens on TCP over IPv6 (Twisted's `TCP6ServerEndpoint`); the default
 * interface is `::`.
 *
 * @example
 * ```ts ignore
 * import { Factory, reactor, TCP6ServerEndpoint, Echo } from "@torsion/torsion";
 *
 * await new TCP6ServerEndpoint(reactor, 8007, { interface: "::1" }).listen(Factory.forProtocol(Echo));
 * ```
 */
export class TCP6ServerEndpoint extends TCP4ServerEndpoint {
  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor.
   * @param port The port.
   * @param options `backlog` (50) and `interface` (`::`).
   */
  constructor(reactor: EndpointReactor, port: number, options: TCPServerEndpointOptions = {}) {
    super(reactor, port, { ...options, interface: options.interface ?? "::" });
  }
}

/**
 * Connects over TCP to a host and port (Twisted's `TCP4ClientEndpoint`).
 * The host may be a name; it is resolved by `connectTCP`.
 *
 * @example
 * ```ts ignore
 * import { Protocol, reactor, TCP4ClientEndpoint, connectProtocol } from "@torsion/torsion";
 *
 * const endpoint = new TCP4ClientEndpoint(reactor, "127.0.0.1", 8007, { timeout: 5 });
 * const protocol = await connectProtocol(endpoint, new Protocol());
 * ```
 */
export class TCP4ClientEndpoint implements StreamClientEndpoint {
  readonly #reactor: EndpointReactor;
  /** The host to connect to. */
  readonly host: string;
  /** The port to connect to. */
  readonly port: number;
  /** `timeout` and `bindAddress`. */
  readonly options: TCPClientEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor.
   * @param host The host.
   * @param port The port.
   * @param options `timeout` (30 seconds) and `bindAddress`.
   */
  constructor(
    reactor: EndpointReactor,
    host: string,
    port: number,
    options: TCPClientEndpointOptions = {},
  ) {
    this.#reactor = reactor;
    this.host = host;
    this.port = port;
    this.options = { ...options };
  }

  /**
   * Connects.
   *
   * @param factory Builds the protocol.
   * @returns The connected protocol.
   */
  connect(factory: FactoryLike): Deferred<ProtocolLike> {
    return connecting(
      factory,
      () => ({ type: "TCP", host: this.host, port: this.port }),
      (f) => this.#reactor.connectTCP(this.host, this.port, f, this.options),
    );
  }
}

/** Connects over TCP to an IPv6 host (Twisted's `TCP6ClientEndpoint`). */
export class TCP6ClientEndpoint extends TCP4ClientEndpoint {}
