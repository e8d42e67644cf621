/**
 * A TCP port forwarder (Twisted's `twisted.protocols.portforward`): every
 * connection accepted by a {@linkcode ProxyFactory} opens one connection to a
 * fixed destination, and bytes flow both ways. Each transport is registered
 * as the other's streaming producer, so a slow reader on one side stops
 * reading on the other: memory stays bounded whatever the speeds. When
 * either side closes, the other is closed after what it has queued is
 * written.
 *
 * @module
 */
import type { Failure } from "../defer/failure.ts";
import { reactor as defaultReactor } from "../reactor/deno_reactor.ts";
import type { ClientFactoryLike, Connector, FactoryLike } from "../reactor/interfaces.ts";
import { Logger } from "../reactor/log.ts";
import { ClientFactory, ServerFactory } from "./factory.ts";
import { Protocol } from "./protocol.ts";

const logger = new Logger("portforward");

/** What a forwarder needs of a reactor. */
export interface ProxyReactor {
  /** See `DenoReactor.connectTCP`. */
  connectTCP(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    options?: { timeout?: number },
  ): Connector;
}

/** Options of {@linkcode ProxyFactory}. */
export interface ProxyFactoryOptions {
  /** The reactor to connect with (default: the process-wide one). */
  reactor?: ProxyReactor;
  /** Seconds to wait for the destination (default 30). */
  timeout?: number;
}

/**
 * One side of a forwarded connection: what it receives is written to its
 * peer, and when it is lost its peer is closed.
 */
export class Proxy extends Protocol {
  /** The other side, once both are connected. */
  peer: Proxy | null = null;

  /**
   * Pairs this side with the other.
   *
   * @param peer The other side.
   */
  setPeer(peer: Proxy): void {
    this.peer = peer;
  }

  /**
   * Passes bytes on to the peer.
   *
   * @param data The bytes.
   */
  override dataReceived(data: Uint8Array): void {
    this.peer?.transport?.write(data);
  }

  /**
   * Closes the peer once it has written what it holds.
   *
   * @param reason Why this side ended.
   */
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    const peer = this.peer;
    this.peer = null;
    const transport = peer?.transport;
    if (transport === null || transport === undefined) return;
    // This side no longer produces for the peer: its close must not wait for it.
    transport.unregisterProducer();
    transport.loseConnection();
  }
}

/** The side connected to the destination. */
export class ProxyClient extends Proxy {
  /** The factory that connected it, holding the server side. */
  declare factory: ProxyClientFactory | null;

  /**
   * Pairs with the server side, registers each transport as the other's
   * producer, and lets the server side read again.
   */
  override connectionMade(): void {
    const server = (this.factory as ProxyClientFactory).server;
    const serverTransport = server.transport;
    if (serverTransport === null || !server.connected) {
      // The client went away while we were connecting.
      this.transport!.loseConnection();
      return;
    }
    this.setPeer(server);
    server.setPeer(this);
    this.transport!.registerProducer(serverTransport, true);
    serverTransport.registerProducer(this.transport!, true);
    serverTransport.resumeProducing();
  }
}

/** Connects the destination side for one {@linkcode ProxyServer}. */
export class ProxyClientFactory extends ClientFactory<ProxyClient> {
  /** The protocol built for the destination. */
  override protocol: (new () => ProxyClient) | null = ProxyClient;
  /** The accepted connection this one serves. */
  readonly server: ProxyServer;

  /**
   * Makes the factory for one accepted connection.
   *
   * @param server The accepted connection's protocol.
   */
  constructor(server: ProxyServer) {
    super();
    this.server = server;
  }

  /**
   * Closes the accepted connection: there is nowhere to forward to.
   *
   * @param connector The attempt.
   * @param reason Why it failed.
   */
  override clientConnectionFailed(connector: Connector, reason: Failure): void {
    const to = connector.getDestination();
    const where = to.type === "UNIX" ? to.path : `${to.host}:${to.port}`;
    logger.warn(`could not connect to ${where}: ${reason.getErrorMessage()}`);
    this.server.transport?.loseConnection();
  }
}

/**
 * The side accepted from a client. It stops reading until the destination
 * is connected, so nothing the client sends early is lost or buffered
 * without bound.
 */
export class ProxyServer extends Proxy {
  /** The factory that accepted it, holding the destination. */
  declare factory: ProxyFactory | null;
  #connector: Connector | null = null;

  /** Pauses reading and connects to the destination. */
  override connectionMade(): void {
    const factory = this.factory as ProxyFactory;
    this.transport!.pauseProducing();
    this.#connector = factory.reactor.connectTCP(
      factory.host,
      factory.port,
      new ProxyClientFactory(this),
      factory.timeout === undefined ? {} : { timeout: factory.timeout },
    );
  }

  /**
   * Closes the destination side, or stops connecting to it.
   *
   * @param reason Why the client side ended.
   */
  override connectionLost(reason: Failure): void {
    const connector = this.#connector;
    this.#connector = null;
    if (this.peer === null && connector !== null && connector.state === "connecting") {
      connector.stopConnecting();
    }
    super.connectionLost(reason);
  }
}

/**
 * Forwards every accepted connection to `host:port`.
 *
 * Divergence from Twisted: the reactor and a connect timeout may be given
 * in an options object; Twisted's uses the global reactor.
 *
 * @example Forwarding a local port to an echo server
 * ```ts ignore
 * import { ProxyFactory, reactor } from "@torsion/torsion";
 *
 * reactor.listenTCP(8080, new ProxyFactory("127.0.0.1", 8007), { interface: "127.0.0.1" });
 * ```
 */
export class ProxyFactory extends ServerFactory<ProxyServer> implements FactoryLike {
  /** The protocol built per accepted connection. */
  override protocol: (new () => ProxyServer) | null = ProxyServer;
  /** Where to forward to. */
  readonly host: string;
  /** Its port. */
  readonly port: number;
  /** The reactor connecting to the destination. */
  readonly reactor: ProxyReactor;
  /** Seconds to wait for the destination, if not the reactor's default. */
  readonly timeout: number | undefined;

  /**
   * Makes a forwarder to one destination.
   *
   * @param host The destination's host.
   * @param port The destination's port.
   * @param options The reactor and the connect timeout.
   * @throws {RangeError} For a port outside 1 to 65535.
   */
  constructor(host: string, port: number, options: ProxyFactoryOptions = {}) {
    super();
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`Port must be an integer from 1 to 65535, not ${port}`);
    }
    this.host = host;
    this.port = port;
    this.reactor = options.reactor ?? defaultReactor;
    this.timeout = options.timeout;
  }
}
