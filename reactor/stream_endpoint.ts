/**
 * The endpoint interfaces: {@linkcode StreamServerEndpoint} (where to
 * listen) and {@linkcode StreamClientEndpoint} (where to connect), and
 * {@linkcode EndpointReactor}, what the endpoints need of a reactor, with
 * the TCP options its methods take.
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import type { DelayedCall } from "../defer/time.ts";
import type {
  ClientFactoryLike,
  Connector,
  FactoryLike,
  ListeningPort,
  ProtocolLike,
} from "./interfaces.ts";
import type { TLSClientOptions, TLSServerOptions } from "./tls.ts";

/** Where a server listens: `listen(factory)` fires with the port. */
export interface StreamServerEndpoint {
  /**
   * Starts listening. Errors (such as `CannotListenError`) fail the
   * Deferred; they are never thrown.
   *
   * @param factory Makes a protocol per connection.
   * @returns A Deferred of the listening port.
   */
  listen(factory: FactoryLike): Deferred<ListeningPort>;
}

/** Where a client connects: `connect(factory)` fires with the connected protocol. */
export interface StreamClientEndpoint {
  /**
   * Connects, and builds one protocol with `factory`. The Deferred fires
   * with it once its `connectionMade` has run, fails with the reason the
   * connection failed (or `NoProtocol` if `buildProtocol` returned null), and
   * cancelling it stops the attempt with `ConnectingCancelledError`.
   *
   * @param factory Builds the protocol.
   * @returns A Deferred of the protocol.
   */
  connect(factory: FactoryLike): Deferred<ProtocolLike>;
}

/** Options shared by the TCP server endpoints (and listenTCP). */
export interface TCPServerEndpointOptions {
  /** The kernel's accept queue (default 50). */
  backlog?: number;
  /** The address to listen on (default every interface of the family). */
  interface?: string;
}

/** Options of the TCP client endpoints (and connectTCP). */
export interface TCPClientEndpointOptions {
  /** Seconds before giving up (default 30). */
  timeout?: number;
  /** Not supported by Deno: giving it fails the connection attempt. */
  bindAddress?: readonly [host: string, port: number];
}

/**
 * What endpoints need of a reactor: the methods each endpoint calls. The
 * UNIX and TLS methods are optional so that a reactor without them (a test
 * fake, say) still serves TCP endpoints; an endpoint that needs a missing
 * one fails with a `TypeError` naming it.
 */
export interface EndpointReactor {
  /** See `DenoReactor.listenTCP`. */
  listenTCP(port: number, factory: FactoryLike, options?: TCPServerEndpointOptions): ListeningPort;
  /** See `DenoReactor.connectTCP`. */
  connectTCP(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    options?: TCPClientEndpointOptions,
  ): Connector;
  /** See `DenoReactor.listenUNIX`. */
  listenUNIX?(
    path: string,
    factory: FactoryLike,
    options?: { backlog?: number; mode?: number; wantPID?: boolean },
  ): ListeningPort;
  /** See `DenoReactor.connectUNIX`. */
  connectUNIX?(
    path: string,
    factory: ClientFactoryLike,
    options?: { timeout?: number; checkPID?: boolean },
  ): Connector;
  /** See `DenoReactor.listenSSL`. */
  listenSSL?(
    port: number,
    factory: FactoryLike,
    contextFactory: TLSServerOptions,
    options?: TCPServerEndpointOptions,
  ): ListeningPort;
  /** See `DenoReactor.connectSSL`. */
  connectSSL?(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    contextFactory?: TLSClientOptions,
    options?: TCPClientEndpointOptions,
  ): Connector;
  /** Schedules the staggered attempts of {@linkcode HostnameEndpoint}. */
  callLater?(delay: number, fn: () => void): DelayedCall;
}
