/**
 * Endpoints: where to listen or connect, as objects or as strings, so a
 * program takes `tcp:8080:interface=127.0.0.1` or `unix:/run/app.sock` from
 * its configuration and never hard-codes a transport. A server endpoint's
 * `listen(factory)` fires with the listening port; a client endpoint's
 * `connect(factory)` fires with the protocol once it is connected (after
 * its `connectionMade`), and cancelling it abandons the attempt.
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import { fail } from "../defer/helpers.ts";
import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import {
  _afterType,
  _bind,
  _certChain,
  _clientCertificate,
  _dhParameters,
  _flag,
  _integer,
  _parseDescription,
  _port,
  _readPEMs,
  _readText,
  _seconds,
  _sslMethod,
  EndpointDescriptionError,
  type ParsedDescription,
} from "./_endpoint_parser.ts";
import { _isIPAddress } from "./_ip_address.ts";
import {
  ConnectingCancelledError,
  DNSLookupError,
  NoProtocol,
  NotConnectingError,
} from "./connection_errors.ts";
import { HAProxyServerEndpoint } from "./haproxy_endpoint.ts";
import type {
  Address,
  ClientFactoryLike,
  Connector,
  FactoryLike,
  ListeningPort,
  ProtocolLike,
  Transport,
} from "./interfaces.ts";
import { resolveAll } from "./resolve.ts";
import type { TLSClientOptions, TLSServerOptions } from "./tls.ts";

export { EndpointDescriptionError } from "./_endpoint_parser.ts";

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

function listening(listen: () => ListeningPort): Deferred<ListeningPort> {
  const d = new Deferred<ListeningPort>();
  let port: ListeningPort;
  try {
    port = listen();
  } catch (error) {
    d.errback(error);
    return d;
  }
  d.callback(port);
  return d;
}

function isReactorTime(value: object): value is ReactorTime {
  const time = value as Partial<ReactorTime>;
  return typeof time.seconds === "function" && typeof time.callLater === "function" &&
    typeof time.getDelayedCalls === "function";
}

function missing(method: string): TypeError {
  return new TypeError(`This reactor has no ${method}()`);
}

// ---------------------------------------------------------------------------
// Connecting: one protocol per endpoint.connect()
// ---------------------------------------------------------------------------

/**
 * The client factory behind `connect()`: asks the caller's factory for one
 * protocol, and fires the Deferred once it is connected. The protocol itself
 * is handed to the transport (no wrapper on the data path); only its
 * `makeConnection` is intercepted, once.
 */
class OneConnectionFactory implements ClientFactoryLike {
  readonly #factory: FactoryLike;
  readonly #d: Deferred<ProtocolLike>;
  /** Set by an attempt group to refuse connections that lost the race. */
  refuse = false;

  constructor(factory: FactoryLike, d: Deferred<ProtocolLike>) {
    this.#factory = factory;
    this.#d = d;
  }

  doStart(): void {
    this.#factory.doStart();
  }

  doStop(): void {
    this.#factory.doStop();
  }

  buildProtocol(addr: Address): ProtocolLike | null {
    const d = this.#d;
    if (this.refuse || d.called) return null;
    let protocol: ProtocolLike | null;
    try {
      protocol = this.#factory.buildProtocol(addr);
    } catch (error) {
      d.errback(error);
      return null;
    }
    if (protocol === null) {
      d.errback(new NoProtocol());
      return null;
    }
    const own = Object.hasOwn(protocol, "makeConnection");
    const makeConnection = protocol.makeConnection;
    const built = protocol;
    built.makeConnection = (transport: Transport): void => {
      if (own) built.makeConnection = makeConnection;
      else delete (built as Partial<ProtocolLike>).makeConnection;
      built.makeConnection(transport);
      if (!d.called) d.callback(built);
    };
    return built;
  }

  clientConnectionFailed(_connector: Connector, reason: Failure): void {
    if (!this.#d.called) this.#d.errback(reason);
  }
}

/** Starts `start(factory)` and returns the Deferred of the protocol, cancellable. */
function connecting(
  factory: FactoryLike,
  address: () => Address,
  start: (factory: ClientFactoryLike) => Connector,
): Deferred<ProtocolLike> {
  let connector: Connector | undefined;
  const d = new Deferred<ProtocolLike>(() => {
    d.errback(new ConnectingCancelledError(address()));
    try {
      connector?.stopConnecting();
    } catch (error) {
      if (!(error instanceof NotConnectingError)) throw error;
    }
  });
  try {
    connector = start(new OneConnectionFactory(factory, d));
  } catch (error) {
    if (!d.called) d.errback(error);
  }
  return d;
}

// ---------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------

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

/** Options of {@linkcode HostnameEndpoint}. */
export interface HostnameEndpointOptions extends TCPClientEndpointOptions {
  /** Seconds between starting one address's attempt and the next (default 0.3). */
  attemptDelay?: number;
  /**
   * Resolves the host to its addresses (default `resolveAll` with the
   * reactor as the clock, the hosts file first). Tests inject a fake.
   */
  resolver?: (host: string) => PromiseLike<string[]> | Deferred<string[]>;
}

/**
 * Connects to a host name the way browsers do (RFC 6555, "Happy
 * Eyeballs"): resolve every address, start an attempt on the first, then
 * one more every `attemptDelay` seconds while none has succeeded; the first
 * to connect wins and every other attempt is stopped (a late connection is
 * refused). If all fail, the last failure is reported; no addresses gives
 * `DNSLookupError`.
 *
 * @example
 * ```ts ignore
 * import { HostnameEndpoint, Protocol, reactor, connectProtocol } from "@torsion/torsion";
 *
 * const p = await connectProtocol(new HostnameEndpoint(reactor, "localhost", 8007), new Protocol());
 * ```
 */
export class HostnameEndpoint implements StreamClientEndpoint {
  readonly #reactor: EndpointReactor;
  /** The name (or address) to connect to. */
  readonly host: string;
  /** The port. */
  readonly port: number;
  readonly #options: HostnameEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor (it needs `callLater`).
   * @param host The host name or address.
   * @param port The port.
   * @param options `timeout` per attempt, `attemptDelay`, `resolver`.
   * @throws {RangeError} For a negative or non-finite `attemptDelay`.
   */
  constructor(
    reactor: EndpointReactor,
    host: string,
    port: number,
    options: HostnameEndpointOptions = {},
  ) {
    const delay = options.attemptDelay ?? 0.3;
    if (!(delay >= 0) || !Number.isFinite(delay)) {
      throw new RangeError(`attemptDelay must be 0 or more seconds, not ${delay}`);
    }
    this.#reactor = reactor;
    this.host = host;
    this.port = port;
    this.#options = { ...options, attemptDelay: delay };
  }

  /**
   * Resolves the host and races connections to its addresses.
   *
   * @param factory Builds the protocol (once, for the winner).
   * @returns The connected protocol.
   */
  connect(factory: FactoryLike): Deferred<ProtocolLike> {
    const reactor = this.#reactor;
    const { attemptDelay, resolver, timeout } = this.#options;
    const address: Address = { type: "TCP", host: this.host, port: this.port };
    const connectors: Connector[] = [];
    const factories: OneConnectionFactory[] = [];
    let timer: DelayedCall | undefined;
    let lookup: Deferred<string[]> | undefined;
    let finished = false;
    const stopAll = (): void => {
      finished = true;
      if (timer?.active()) timer.cancel();
      timer = undefined;
      for (const f of factories) f.refuse = true;
      for (const connector of connectors) {
        if (connector.state === "connecting") connector.stopConnecting();
      }
    };
    const d: Deferred<ProtocolLike> = new Deferred<ProtocolLike>(() => {
      d.errback(new ConnectingCancelledError(address));
      stopAll();
      lookup?.cancel();
    });
    // One Deferred per attempt; the first success wins.
    const won = new Deferred<ProtocolLike>();
    won.addCallbacks((protocol: ProtocolLike) => {
      stopAll();
      if (!d.called) d.callback(protocol);
      else (protocol as { transport?: Transport | null }).transport?.loseConnection();
    }, () => {});

    const start = (addresses: string[]): void => {
      if (d.called) return;
      if (addresses.length === 0) {
        d.errback(new DNSLookupError(this.host));
        return;
      }
      let pending = addresses.length;
      let lastFailure: Failure | undefined;
      const attempt = (i: number): void => {
        timer = undefined;
        if (finished || d.called) return;
        const mine = new Deferred<ProtocolLike>();
        const f = new OneConnectionFactory(factory, mine);
        factories.push(f);
        mine.addCallbacks((protocol: ProtocolLike) => {
          if (!won.called) won.callback(protocol);
        }, (failure: Failure) => {
          lastFailure = failure;
          if (--pending === 0 && !finished && !d.called) {
            finished = true;
            d.errback(lastFailure);
          } else if (!finished && timer?.active()) {
            // Do not wait out the delay: try the next address now.
            timer.reset(0);
          }
        });
        try {
          connectors.push(reactor.connectTCP(addresses[i], this.port, f, { timeout }));
        } catch (error) {
          mine.errback(error);
        }
        if (i + 1 < addresses.length && !finished && !d.called) {
          if (reactor.callLater === undefined) {
            attempt(i + 1);
          } else {
            timer = reactor.callLater(attemptDelay!, () => attempt(i + 1));
          }
        }
      };
      attempt(0);
    };

    if (_isIPAddress(this.host)) {
      start([this.host]);
    } else {
      const resolved = resolver !== undefined
        ? Deferred.fromPromise(Promise.resolve(resolver(this.host)))
        : resolveAll(this.host, undefined, isReactorTime(reactor) ? { clock: reactor } : {});
      lookup = resolved;
      resolved.addCallbacks(start, (failure: Failure) => {
        if (!d.called) d.errback(failure);
      });
    }
    return d;
  }
}

// ---------------------------------------------------------------------------
// UNIX and TLS
// ---------------------------------------------------------------------------

/** Options of {@linkcode UNIXServerEndpoint}. */
export interface UNIXServerEndpointOptions {
  /** The kernel's accept queue (default 50). */
  backlog?: number;
  /** The socket file's permissions (default `0o666`). */
  mode?: number;
  /** Whether to keep a lock file with the process id, as Twisted does. */
  wantPID?: boolean;
}

/**
 * Listens on a UNIX socket (Twisted's `UNIXServerEndpoint`).
 *
 * @example
 * ```ts ignore
 * import { Factory, reactor, UNIXServerEndpoint, Echo } from "@torsion/torsion";
 *
 * await new UNIXServerEndpoint(reactor, "/tmp/echo.sock").listen(Factory.forProtocol(Echo));
 * ```
 */
export class UNIXServerEndpoint implements StreamServerEndpoint {
  readonly #reactor: EndpointReactor;
  /** The socket's path. */
  readonly path: string;
  /** `backlog`, `mode`, `wantPID`. */
  readonly options: UNIXServerEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor.
   * @param path The socket's path.
   * @param options `backlog`, `mode`, `wantPID`.
   */
  constructor(reactor: EndpointReactor, path: string, options: UNIXServerEndpointOptions = {}) {
    this.#reactor = reactor;
    this.path = path;
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
    if (reactor.listenUNIX === undefined) return fail(missing("listenUNIX"));
    return listening(() => reactor.listenUNIX!(this.path, factory, this.options));
  }
}

/** Options of {@linkcode UNIXClientEndpoint}. */
export interface UNIXClientEndpointOptions {
  /** Seconds before giving up (default 30). */
  timeout?: number;
  /** Whether to check the server's lock file first, as Twisted does. */
  checkPID?: boolean;
}

/**
 * Connects to a UNIX socket (Twisted's `UNIXClientEndpoint`).
 *
 * @example
 * ```ts ignore
 * import { Protocol, reactor, UNIXClientEndpoint, connectProtocol } from "@torsion/torsion";
 *
 * await connectProtocol(new UNIXClientEndpoint(reactor, "/tmp/echo.sock"), new Protocol());
 * ```
 */
export class UNIXClientEndpoint implements StreamClientEndpoint {
  readonly #reactor: EndpointReactor;
  /** The socket's path. */
  readonly path: string;
  /** `timeout`, `checkPID`. */
  readonly options: UNIXClientEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor.
   * @param path The socket's path.
   * @param options `timeout`, `checkPID`.
   */
  constructor(reactor: EndpointReactor, path: string, options: UNIXClientEndpointOptions = {}) {
    this.#reactor = reactor;
    this.path = path;
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
    if (reactor.connectUNIX === undefined) return fail(missing("connectUNIX"));
    return connecting(
      factory,
      () => ({ type: "UNIX", path: this.path }),
      (f) => reactor.connectUNIX!(this.path, f, this.options),
    );
  }
}

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

// ---------------------------------------------------------------------------
// connectProtocol
// ---------------------------------------------------------------------------

/**
 * Connects `protocol` itself through `endpoint` (Twisted's
 * `connectProtocol`): no factory to write for a single connection.
 *
 * @param endpoint Where to connect.
 * @param protocol The protocol to connect.
 * @returns A Deferred of `protocol`, once connected.
 *
 * @example
 * ```ts ignore
 * import { connectProtocol, LineReceiver, reactor, clientFromString } from "@torsion/torsion";
 *
 * const p = await connectProtocol(clientFromString(reactor, "tcp:127.0.0.1:8007"), new LineReceiver());
 * ```
 */
export function connectProtocol<P extends ProtocolLike>(
  endpoint: StreamClientEndpoint,
  protocol: P,
): Deferred<P> {
  let used = false;
  const factory: FactoryLike = {
    buildProtocol(): ProtocolLike | null {
      if (used) return null;
      used = true;
      return protocol;
    },
    doStart(): void {},
    doStop(): void {},
  };
  return endpoint.connect(factory) as Deferred<P>;
}

// ---------------------------------------------------------------------------
// Descriptions
// ---------------------------------------------------------------------------

function tcpServerOptions(
  description: string,
  bound: Map<string, string>,
): TCPServerEndpointOptions {
  const options: TCPServerEndpointOptions = {};
  if (bound.has("interface")) options.interface = bound.get("interface");
  if (bound.has("backlog")) {
    options.backlog = _integer(description, bound.get("backlog")!, "backlog");
  }
  return options;
}

/**
 * Makes a server endpoint from a description, as Twisted's
 * `serverFromString` does:
 *
 * - `tcp:PORT[:interface=ADDRESS][:backlog=N]` (also `port=`): IPv4, every
 *   interface by default;
 * - `tcp6:PORT[:interface=ADDRESS][:backlog=N]`: IPv6, `::` by default;
 * - `unix:PATH[:mode=OCTAL][:backlog=N][:lockfile=0|1]` (also `address=`);
 * - `ssl:PORT:privateKey=KEY.pem[:certKey=CERT.pem][:interface=][:backlog=]`
 *   `[:extraCertChain=CHAIN.pem]` (`certKey` defaults to `privateKey`, a file
 *   holding both; the chain file's certificates are sent after the
 *   server's);
 * - `haproxy:DESCRIPTION`: the server endpoint DESCRIPTION (`haproxy:tcp:8080`,
 *   `haproxy:unix:/run/app.sock`) behind a PROXY protocol balancer: an
 *   {@linkcode HAProxyServerEndpoint}, its header timeout on `reactor`'s
 *   clock when it has one.
 *
 * Keys of Twisted's that Deno's TLS cannot honour: `sslmethod=` is ignored
 * with a logged warning when it allows TLS 1.2 or later (`SSLv23_METHOD`,
 * `TLS_METHOD`, `TLSv1_2_METHOD`: Deno always negotiates TLS 1.2 or 1.3) and
 * refused for SSL 2 or 3 or TLS 1.0 or 1.1; `dhParameters=` is read, then
 * ignored with a logged warning (Deno's TLS has only elliptic-curve key
 * exchange, which gives the forward secrecy the parameters are for).
 *
 * Fields are separated by `:`; `\` escapes the next character, so
 * `unix:C\:\\sock` is the path `C:\sock`.
 *
 * @param reactor The reactor the endpoint will listen with.
 * @param description The description.
 * @returns The endpoint.
 * @throws {EndpointDescriptionError} For an unknown type, a missing or bad
 *   port, an unknown key, or an unreadable certificate file.
 *
 * @example
 * ```ts
 * import { reactor, serverFromString, TCP4ServerEndpoint } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const endpoint = serverFromString(reactor, "tcp:8080:interface=127.0.0.1");
 * assert.ok(endpoint instanceof TCP4ServerEndpoint);
 * assert.equal(endpoint.port, 8080);
 * assert.deepEqual(endpoint.options, { interface: "127.0.0.1" });
 * ```
 */
export function serverFromString(
  reactor: EndpointReactor,
  description: string,
): StreamServerEndpoint {
  const parsed = _parseDescription(description);
  switch (parsed.type) {
    case "tcp":
    case "tcp6": {
      const bound = _bind(description, parsed, ["port", "interface", "backlog"]);
      const port = _port(description, bound.get("port"));
      const options = tcpServerOptions(description, bound);
      return parsed.type === "tcp"
        ? new TCP4ServerEndpoint(reactor, port, options)
        : new TCP6ServerEndpoint(reactor, port, options);
    }
    case "unix": {
      const bound = _bind(description, parsed, ["address", "mode", "backlog", "lockfile"]);
      const path = bound.get("address");
      if (path === undefined || path === "") {
        throw new EndpointDescriptionError(description, "No socket path");
      }
      const options: UNIXServerEndpointOptions = {};
      if (bound.has("mode")) options.mode = _integer(description, bound.get("mode")!, "mode", 8);
      if (bound.has("backlog")) {
        options.backlog = _integer(description, bound.get("backlog")!, "backlog");
      }
      if (bound.has("lockfile")) {
        options.wantPID = _flag(description, bound.get("lockfile")!, "lockfile");
      }
      return new UNIXServerEndpoint(reactor, path, options);
    }
    case "ssl": {
      // Twisted's positional order.
      const bound = _bind(description, parsed, [
        "port",
        "privateKey",
        "certKey",
        "sslmethod",
        "interface",
        "backlog",
        "extraCertChain",
        "dhParameters",
      ]);
      const port = _port(description, bound.get("port"));
      const keyFile = bound.get("privateKey");
      if (keyFile === undefined) {
        throw new EndpointDescriptionError(description, "No privateKey file");
      }
      const key = _readText(description, keyFile);
      const certFile = bound.get("certKey") ?? keyFile;
      let cert = certFile === keyFile ? key : _readText(description, certFile);
      if (bound.has("extraCertChain")) {
        cert = `${cert.trimEnd()}\n${_certChain(description, bound.get("extraCertChain")!)}\n`;
      }
      if (bound.has("sslmethod")) _sslMethod(description, bound.get("sslmethod")!);
      if (bound.has("dhParameters")) _dhParameters(description, bound.get("dhParameters")!);
      return new SSL4ServerEndpoint(
        reactor,
        port,
        { cert, key },
        tcpServerOptions(description, bound),
      );
    }
    case "haproxy": {
      const wrapped = _afterType(description);
      if (wrapped === "") {
        throw new EndpointDescriptionError(description, "No endpoint to wrap after haproxy:");
      }
      if (_parseDescription(wrapped).type === "haproxy") {
        throw new EndpointDescriptionError(description, "haproxy: cannot wrap haproxy:");
      }
      return new HAProxyServerEndpoint(
        serverFromString(reactor, wrapped),
        isReactorTime(reactor) ? { clock: reactor } : {},
      );
    }
    default:
      throw new EndpointDescriptionError(
        description,
        `Unknown endpoint type ${parsed.type} (known: tcp, tcp6, unix, ssl, haproxy)`,
      );
  }
}

function clientTimeout(description: string, bound: Map<string, string>): { timeout?: number } {
  return bound.has("timeout")
    ? { timeout: _seconds(description, bound.get("timeout")!, "timeout") }
    : {};
}

// Twisted's TCP and SSL client parsers read a lone positional field as the
// port when the host is given by name: `tcp:host=example.com:80`.
function bindClient(
  description: string,
  parsed: ParsedDescription,
  names: readonly string[],
): Map<string, string> {
  const portFirst = parsed.positional.length === 1 && parsed.keywords.has("host");
  return _bind(
    description,
    parsed,
    portFirst ? ["port", ...names.filter((n) => n !== "port")] : names,
  );
}

function hostOf(description: string, bound: Map<string, string>): string {
  const host = bound.get("host");
  if (host === undefined || host === "") throw new EndpointDescriptionError(description, "No host");
  return host;
}

/**
 * Makes a client endpoint from a description, as Twisted's
 * `clientFromString` does:
 *
 * - `tcp:HOST:PORT[:timeout=SECONDS]` (also `host=`, `port=`; as in
 *   Twisted, `tcp:host=HOST:PORT` reads the lone field as the port): a
 *   {@linkcode TCP4ClientEndpoint};
 * - `tcp6:HOST:PORT[:timeout=]`;
 * - `unix:PATH[:timeout=][:lockfile=0|1]` (also `path=`, and `checkPID=`
 *   for `lockfile=`);
 * - `ssl:HOST:PORT[:timeout=][:certKey=CERT.pem][:privateKey=KEY.pem]`
 *   `[:caCertsDir=DIR][:hostname=NAME][:caCerts=FILE-OR-DIR]`: a client
 *   certificate from `certKey` (a file that may hold its key too) and
 *   `privateKey`; the `.pem`/`.crt` files of `caCertsDir` trusted;
 * - `tls:HOST:PORT[:timeout=][:certificate=CERT.pem][:privateKey=KEY.pem]`
 *   `[:trustRoots=DIR][:caCerts=]`: TLS verified for HOST, with a client
 *   certificate and trusted CAs as for `ssl:`. Twisted builds `tls:` on a
 *   `HostnameEndpoint`; here it is an {@linkcode SSL4ClientEndpoint}, and
 *   the name is resolved by Deno. Twisted's `endpoint=` is not supported.
 *
 * Divergences that Deno imposes: `bindAddress=` (tcp, ssl, tls) is accepted
 * but connecting fails with a `TypeError` saying that Deno cannot bind the
 * local end; `lockfile=1` likewise fails, as torsion's servers write no lock
 * file to check; the CAs of `caCertsDir`/`trustRoots` are trusted in
 * addition to the system's roots, not instead of them as in Twisted (Deno
 * always keeps its roots); with a client certificate, the server is
 * verified for the host connected to, so `hostname=` cannot name another.
 *
 * @param reactor The reactor the endpoint will connect with.
 * @param description The description.
 * @returns The endpoint.
 * @throws {EndpointDescriptionError} For an unknown type, a missing host or
 *   path, a bad port or timeout, an unknown key, unreadable certificate
 *   files, a `privateKey=` without its certificate, or a certificate file
 *   without a key when no `privateKey=` is given.
 *
 * @example
 * ```ts
 * import { clientFromString, reactor, TCP4ClientEndpoint } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const endpoint = clientFromString(reactor, "tcp:host=example.com:port=80:timeout=5");
 * assert.ok(endpoint instanceof TCP4ClientEndpoint);
 * assert.equal(endpoint.host, "example.com");
 * assert.equal(endpoint.port, 80);
 * assert.deepEqual(endpoint.options, { timeout: 5 });
 * ```
 */
export function clientFromString(
  reactor: EndpointReactor,
  description: string,
): StreamClientEndpoint {
  const parsed = _parseDescription(description);
  switch (parsed.type) {
    case "tcp":
    case "tcp6": {
      const bound = bindClient(description, parsed, ["host", "port", "timeout", "bindAddress"]);
      const host = hostOf(description, bound);
      const port = _port(description, bound.get("port"));
      const options: TCPClientEndpointOptions = clientTimeout(description, bound);
      if (bound.has("bindAddress")) options.bindAddress = [bound.get("bindAddress")!, 0];
      return parsed.type === "tcp"
        ? new TCP4ClientEndpoint(reactor, host, port, options)
        : new TCP6ClientEndpoint(reactor, host, port, options);
    }
    case "unix": {
      const bound = _bind(description, parsed, ["path", "timeout", "checkPID", "lockfile"]);
      const path = bound.get("path");
      if (path === undefined || path === "") {
        throw new EndpointDescriptionError(description, "No socket path");
      }
      const options: UNIXClientEndpointOptions = clientTimeout(description, bound);
      // lockfile= is Twisted's name for checkPID in descriptions.
      if (bound.has("lockfile") && bound.has("checkPID")) {
        throw new EndpointDescriptionError(description, "lockfile and checkPID are the same key");
      }
      for (const key of ["checkPID", "lockfile"]) {
        if (bound.has(key)) options.checkPID = _flag(description, bound.get(key)!, key);
      }
      return new UNIXClientEndpoint(reactor, path, options);
    }
    case "ssl":
    case "tls": {
      // Twisted's names: ssl takes certKey and caCertsDir, tls takes
      // certificate and trustRoots; caCerts (a file or a directory) is ours.
      const ssl = parsed.type === "ssl";
      const certName = ssl ? "certKey" : "certificate";
      const rootsName = ssl ? "caCertsDir" : "trustRoots";
      const names = [
        "host",
        "port",
        "timeout",
        "bindAddress",
        certName,
        "privateKey",
        rootsName,
        "hostname",
        "caCerts",
      ];
      const bound = ssl
        ? bindClient(description, parsed, names)
        : _bind(description, parsed, names);
      const host = hostOf(description, bound);
      const port = _port(description, bound.get("port"));
      const settings: TLSClientOptions = {};
      const caCerts: string[] = [];
      if (bound.has(rootsName)) {
        caCerts.push(..._readPEMs(description, bound.get(rootsName)!, rootsName, true));
      }
      if (bound.has("caCerts")) {
        caCerts.push(..._readPEMs(description, bound.get("caCerts")!, "caCerts"));
      }
      if (caCerts.length > 0) settings.caCerts = caCerts;
      if (bound.has("hostname")) settings.hostname = bound.get("hostname");
      const client = _clientCertificate(
        description,
        bound.get(certName),
        bound.get("privateKey"),
        certName,
      );
      if (client !== undefined) {
        settings.cert = client.cert;
        settings.key = client.key;
      }
      const options: TCPClientEndpointOptions = clientTimeout(description, bound);
      if (bound.has("bindAddress")) options.bindAddress = [bound.get("bindAddress")!, 0];
      return new SSL4ClientEndpoint(reactor, host, port, settings, options);
    }
    default:
      throw new EndpointDescriptionError(
        description,
        `Unknown endpoint type ${parsed.type} (known: tcp, tcp6, unix, ssl, tls)`,
      );
  }
}
