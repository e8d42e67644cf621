/**
 * TCP for the reactor: listening ports, client connectors and the TCP
 * transport, over `Deno.listen` and `Deno.connect`. The reactor's
 * `listenTCP` and `connectTCP` are these functions with the reactor as the
 * clock.
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import type { ReactorTime } from "../defer/time.ts";
import { _connectTimeout, _stopAllConnecting, StreamConnector } from "./stream_connector.ts";
import { _stopAllPorts, StreamPort } from "./stream_port.ts";
import { Logger } from "./log.ts";
import {
  _liveStreamTransports,
  StreamTransport,
  type StreamTransportOptions,
} from "./stream_transport.ts";
import {
  CannotListenError,
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
} from "./connection_errors.ts";
import type {
  ClientFactoryLike,
  FactoryLike,
  IPAddress,
  ProtocolLike,
  TCPTransport,
} from "./interfaces.ts";

/** The longest delay `setTimeout` takes, in milliseconds. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const logger = new Logger("reactor");

/**
 * Checks a port number.
 *
 * @param port The port.
 * @throws {RangeError} Unless an integer from 0 to 65535.
 */
export function _checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Port must be an integer from 0 to 65535, not ${port}`);
  }
}

// ---------------------------------------------------------------------------
// The transport
// ---------------------------------------------------------------------------

/** Options of {@linkcode TCPConnection}. */
export interface TCPConnectionOptions extends StreamTransportOptions {
  /** For a connection this side made: the host it was made to. */
  clientOf?: string;
}

/** TLS settings for {@linkcode TCPConnection.startTLS}. */
export interface StartTLSOptions {
  /** The name to verify and send as SNI (default: the host connected to). */
  hostname?: string;
  /** Certificate authorities to trust besides the system's, PEM. */
  caCerts?: string[];
  /** ALPN protocols to offer. */
  alpnProtocols?: string[];
}

/**
 * A TCP connection's transport: the shared stream machinery plus TCP's
 * socket options. Protocols see it as a {@linkcode TCPTransport}.
 *
 * @example Turning on keep-alive from a protocol
 * ```ts ignore
 * import type { Failure } from "@torsion/torsion/defer";
 * import type { TCPTransport, Transport } from "@torsion/torsion/reactor";
 *
 * class KeepAlive {
 *   makeConnection(transport: Transport): void {
 *     (transport as TCPTransport).setTcpKeepAlive(true);
 *   }
 *   dataReceived(_data: Uint8Array): void {}
 *   connectionLost(_reason: Failure): void {}
 * }
 * ```
 */
export class TCPConnection extends StreamTransport implements TCPTransport {
  readonly #tcp: Deno.TcpConn;
  readonly #serverName: string | undefined;

  /**
   * Wraps a connected TCP socket; {@linkcode StreamTransport.start} connects
   * the protocol.
   *
   * @param conn The socket.
   * @param protocol The protocol that will speak on it.
   * @param options A hook for the end of the connection, and for a client
   *   connection the host it was made to (the name `startTLS` verifies).
   */
  constructor(conn: Deno.TcpConn, protocol: ProtocolLike, options: TCPConnectionOptions = {}) {
    super(conn, protocol, options);
    this.#tcp = conn;
    this.#serverName = options.clientOf;
  }

  /**
   * Starts TLS on this connection, as Twisted's `ITLSTransport.startTLS`:
   * bytes written before the call go in the clear, bytes written after it
   * are encrypted, and the protocol stays the same. Call it from
   * `dataReceived` (typically on the line where the server agrees) or from
   * `connectionMade`, so that no read is pending.
   *
   * Divergences from Twisted: only the client side is possible (Deno cannot
   * start a TLS server on an existing connection); the context factory is
   * Deno's client TLS settings, and the server's certificate is always
   * verified, for `hostname` (by default the host connected to). A failed
   * handshake ends the connection with `ConnectionLost`, the TLS error as
   * its cause.
   *
   * @param contextFactory `hostname`, `caCerts`, `alpnProtocols`.
   * @param normal `true` (the default) for the side that connected; `false`
   *   (TLS server roles swapped) is not supported.
   * @throws {Error} On an accepted connection, with `normal` false, with a
   *   client certificate (Deno.startTls cannot present one), or outside
   *   `connectionMade` and `dataReceived`.
   */
  startTLS(contextFactory: StartTLSOptions = {}, normal: boolean = true): void {
    const serverName = this.#serverName;
    if (serverName === undefined || !normal) {
      throw new Error(
        "startTLS can only start a TLS client: Deno cannot start a TLS server on an existing " +
          "connection",
      );
    }
    if ("cert" in contextFactory || "key" in contextFactory) {
      throw new TypeError("startTLS cannot present a client certificate: Deno.startTls has none");
    }
    const options: Deno.StartTlsOptions = {
      hostname: contextFactory.hostname ?? serverName,
      caCerts: contextFactory.caCerts,
      alpnProtocols: contextFactory.alpnProtocols,
    };
    this.upgradeConnection(async (conn) => {
      const tls = await Deno.startTls(conn as Deno.TcpConn, options);
      try {
        await tls.handshake();
      } catch (error) {
        tls.close();
        throw error;
      }
      return tls;
    });
  }

  /**
   * Turns Nagle's algorithm off (`true`, Deno's default) or on (`false`).
   * Does nothing on a closed connection.
   *
   * @param enabled Whether `TCP_NODELAY` is set.
   */
  setTcpNoDelay(enabled: boolean): void {
    try {
      this.#tcp.setNoDelay(enabled);
    } catch {
      // Closed: nothing to set.
    }
  }

  /**
   * Turns TCP keep-alive probes on or off. Does nothing on a closed
   * connection.
   *
   * @param enabled Whether `SO_KEEPALIVE` is set.
   */
  setTcpKeepAlive(enabled: boolean): void {
    try {
      this.#tcp.setKeepAlive(enabled);
    } catch {
      // Closed: nothing to set.
    }
  }

  /**
   * The other end of the connection.
   *
   * @returns Its address and port.
   */
  override getPeer(): IPAddress {
    return super.getPeer() as IPAddress;
  }

  /**
   * This end of the connection.
   *
   * @returns Its address and port.
   */
  override getHost(): IPAddress {
    return super.getHost() as IPAddress;
  }
}

// ---------------------------------------------------------------------------
// Listening
// ---------------------------------------------------------------------------

/** Options for {@linkcode listenTCP}. */
export interface ListenTCPOptions {
  /** How many connections the kernel queues before they are accepted (default 50). */
  backlog?: number;
  /** The address to listen on: `""` (the default) for every IPv4 interface. */
  interface?: string;
  /**
   * Sets `SO_REUSEPORT`, so that several processes listen on the same port
   * and the kernel spreads connections over them (Linux only; Deno needs
   * `--unstable-net` for it). Default false.
   */
  reusePort?: boolean;
}

/**
 * A TCP port accepting connections for a factory, as returned by
 * {@linkcode listenTCP}: each accepted connection gets a protocol from
 * `factory.buildProtocol(peer)` (`null` closes it at once).
 *
 * @example Stopping a port
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const port = reactor.listenTCP(0, factory, { interface: "127.0.0.1" });
 * console.log(`listening on ${port.getHost().port}`);
 * await port.stopListening();
 * ```
 */
export class TCPPort extends StreamPort<IPAddress> {
  /**
   * Starts accepting on a bound listener; {@linkcode listenTCP} makes ports.
   *
   * @param listener The bound listener.
   * @param factory The factory for accepted connections, already started.
   * @param clock Schedules the pause after a failed accept.
   */
  constructor(listener: Deno.TcpListener, factory: FactoryLike, clock?: ReactorTime) {
    super(listener, factory, clock);
  }

  /**
   * Wraps an accepted connection in a {@linkcode TCPConnection}.
   *
   * @param conn The connection.
   * @param protocol Its protocol.
   * @returns The transport.
   */
  protected override makeTransport(conn: Deno.Conn, protocol: ProtocolLike): TCPConnection {
    return new TCPConnection(conn as Deno.TcpConn, protocol);
  }
}

/**
 * Listens for TCP connections on `port`, serving each with a protocol from
 * `factory`. The socket is bound before this returns, so a busy port throws
 * here and port 0 gives a real port at once (`getHost().port`), as in
 * Twisted. Calls `factory.doStart()`; `stopListening()` calls `doStop()`.
 *
 * Each connection's protocol gets `makeConnection(transport)`, then
 * `dataReceived` for each chunk read, then `connectionLost(reason)` once. An
 * exception thrown by `connectionMade` or `dataReceived` is logged with the
 * protocol's class name and the peer, and closes that connection with the
 * exception as the reason; the port and other connections carry on.
 *
 * @param port The port number; 0 for any free port.
 * @param factory Builds a protocol for each connection (`null` refuses it).
 * @param options `backlog` (default 50) and `interface` (default `""`: every
 *   IPv4 interface; `"::"` for every IPv6 one).
 * @param clock Schedules the pause after a failed accept (default: timers).
 * @returns The listening port.
 * @throws {CannotListenError} If the address cannot be bound (in use, not
 *   local, not allowed), with the Deno error as `cause`.
 * @throws {RangeError} If `port` is not an integer from 0 to 65535.
 *
 * @example An echo server on a free port
 * ```ts ignore
 * import type { Failure } from "@torsion/torsion/defer";
 * import { reactor, type Transport } from "@torsion/torsion/reactor";
 *
 * class Echo {
 *   transport?: Transport;
 *   makeConnection(t: Transport): void {
 *     this.transport = t;
 *   }
 *   dataReceived(data: Uint8Array): void {
 *     this.transport!.write(data);
 *   }
 *   connectionLost(_reason: Failure): void {}
 * }
 * const port = reactor.listenTCP(0, {
 *   buildProtocol: () => new Echo(),
 *   doStart() {},
 *   doStop() {},
 * }, { interface: "127.0.0.1" });
 * console.log(`echo on ${port.getHost().port}`);
 * ```
 */
export function listenTCP(
  port: number,
  factory: FactoryLike,
  options: ListenTCPOptions = {},
  clock?: ReactorTime,
): TCPPort {
  _checkPort(port);
  const iface = options.interface ?? "";
  const backlog = options.backlog ?? 50;
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({
      hostname: iface === "" ? "0.0.0.0" : iface,
      port,
      transport: "tcp",
      tcpBacklog: backlog,
      ...(options.reusePort ? { reusePort: true } : {}),
    });
  } catch (error) {
    throw new CannotListenError(iface, port, { cause: error });
  }
  try {
    factory.doStart();
  } catch (error) {
    listener.close();
    throw error;
  }
  return new TCPPort(listener, factory, clock);
}

// ---------------------------------------------------------------------------
// Connecting
// ---------------------------------------------------------------------------

/** Options for {@linkcode connectTCP}. */
export interface ConnectTCPOptions {
  /**
   * Seconds to wait for the connection before failing it with `TimeoutError`
   * (default 30; `Infinity` waits as long as the operating system does).
   */
  timeout?: number;
  /**
   * Not supported: `Deno.connect` cannot bind the local end. Giving it
   * throws a `TypeError` rather than connecting from the wrong address.
   */
  bindAddress?: readonly [host: string, port: number];
}

/**
 * Maps an error of `Deno.connect` to the class a factory checks for.
 *
 * @param error What `Deno.connect` threw.
 * @param host The host.
 * @param port The port.
 * @returns The error to report.
 */
export function _connectFailure(error: unknown, host: string, port: number): Error {
  if (error instanceof Deno.errors.ConnectionRefused) {
    return new ConnectionRefusedError(`Connection to ${host}:${port} was refused`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/lookup address information|name or service not known|nodename nor servname/i.test(message)) {
    return new DNSLookupError(host, { cause: error });
  }
  return new ConnectError(`Connecting to ${host}:${port} failed: ${message}`, { cause: error });
}

/**
 * A TCP client connection that can be made again: Twisted's `Connector`, as
 * returned by {@linkcode connectTCP}. It drives the factory:
 * `startedConnecting(connector)` when an attempt starts,
 * `clientConnectionFailed(connector, reason)` when it fails,
 * `buildProtocol(peer)` when it succeeds and
 * `clientConnectionLost(connector, reason)` when the connection ends, always
 * with this same connector. A factory may call `connect()` again from those
 * last two (that is how reconnecting factories work); if it does not, the
 * connector calls the factory's `doStop()`.
 *
 * @example Reconnecting once after a lost connection
 * ```ts ignore
 * import type { Failure } from "@torsion/torsion/defer";
 * import { type Connector, reactor } from "@torsion/torsion/reactor";
 *
 * let retries = 1;
 * reactor.connectTCP("127.0.0.1", 8000, {
 *   buildProtocol: () => new MyProtocol(),
 *   doStart() {},
 *   doStop() {},
 *   clientConnectionLost(connector: Connector, _reason: Failure) {
 *     if (retries-- > 0) connector.connect();
 *   },
 * });
 * ```
 */
export class TCPConnector extends StreamConnector<IPAddress> {
  readonly #host: string;
  readonly #port: number;

  /**
   * Makes a connector in the `"disconnected"` state; {@linkcode connectTCP}
   * makes one and connects it.
   *
   * @param host The host name or address.
   * @param port The port.
   * @param factory The client factory.
   * @param timeout Seconds before an attempt fails with `TimeoutError`.
   * @param clock Schedules the timeout (default: timers).
   */
  constructor(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    timeout: number,
    clock?: ReactorTime,
  ) {
    super(factory, timeout, clock);
    this.#host = host;
    this.#port = port;
  }

  /**
   * Where this connector connects to.
   *
   * @returns The host and port, as given.
   */
  getDestination(): IPAddress {
    return { type: "TCP", host: this.#host, port: this.#port };
  }

  /**
   * Opens a TCP connection.
   *
   * @param signal Aborts the attempt.
   * @returns The connection.
   */
  protected dial(signal: AbortSignal): Promise<Deno.Conn> {
    return Deno.connect({ hostname: this.#host, port: this.#port, transport: "tcp", signal });
  }

  /**
   * Names a failed connect: refused, DNS, or anything else.
   *
   * @param error What `Deno.connect` threw.
   * @returns The error to report.
   */
  protected failure(error: unknown): Error {
    return _connectFailure(error, this.#host, this.#port);
  }

  /**
   * Wraps the connection in a {@linkcode TCPConnection}.
   *
   * @param conn The connection.
   * @param protocol Its protocol.
   * @param onConnectionLost Tells the connector when it ends.
   * @returns The transport.
   */
  protected override makeTransport(
    conn: Deno.Conn,
    protocol: ProtocolLike,
    onConnectionLost: (reason: Failure) => void,
  ): StreamTransport {
    return new TCPConnection(conn as Deno.TcpConn, protocol, {
      onConnectionLost,
      clientOf: this.#host,
    });
  }
}

/**
 * Connects to `host:port` over TCP and speaks with a protocol from
 * `factory`; the factory hears of the attempt through `startedConnecting`,
 * `clientConnectionFailed` and `clientConnectionLost`, each given the
 * returned connector. `factory.doStart()` and `startedConnecting` run before
 * this returns.
 *
 * Failures: `ConnectionRefusedError` (nothing listens), `DNSLookupError`
 * (the name does not resolve), `TimeoutError` from `defer` (no connection
 * within `timeout` seconds), `UserError` (`stopConnecting()`), and
 * `ConnectError` for anything else, each with the Deno error as `cause`.
 *
 * @param host A host name or an IPv4 or IPv6 address.
 * @param port The port.
 * @param factory The client factory.
 * @param options `timeout` in seconds (default 30; `Infinity` for none).
 *   `bindAddress` is not supported by Deno and throws.
 * @param clock Schedules the timeout (default: timers).
 * @returns The connector, already connecting.
 * @throws {TypeError} If `bindAddress` is given.
 * @throws {RangeError} If `port` or `timeout` is out of range.
 *
 * @example A client that sends a line and hangs up
 * ```ts ignore
 * import type { Failure } from "@torsion/torsion/defer";
 * import { reactor, type Transport } from "@torsion/torsion/reactor";
 *
 * class Hello {
 *   makeConnection(t: Transport): void {
 *     t.write("hello\r\n");
 *     t.loseConnection();
 *   }
 *   dataReceived(_data: Uint8Array): void {}
 *   connectionLost(reason: Failure): void {
 *     console.log("closed:", reason.getErrorMessage());
 *   }
 * }
 * reactor.connectTCP("127.0.0.1", 8000, {
 *   buildProtocol: () => new Hello(),
 *   doStart() {},
 *   doStop() {},
 *   clientConnectionFailed: (_c, reason) => console.error(reason.getErrorMessage()),
 * }, { timeout: 5 });
 * ```
 */
export function connectTCP(
  host: string,
  port: number,
  factory: ClientFactoryLike,
  options: ConnectTCPOptions = {},
  clock?: ReactorTime,
): TCPConnector {
  _checkPort(port);
  if (options.bindAddress !== undefined && options.bindAddress !== null) {
    throw new TypeError(
      `bindAddress ${options.bindAddress.join(":")} is not supported: Deno.connect cannot bind ` +
        "the local end of a connection",
    );
  }
  const connector = new TCPConnector(host, port, factory, _connectTimeout(options.timeout), clock);
  connector.connect();
  return connector;
}

// ---------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------

/**
 * Closes every stream socket for the reactor's shutdown: stops every listening
 * port and every connection attempt at once; gives open connections
 * `drainSeconds` to end by themselves (their peer or their protocol closing
 * them); then calls `loseConnection()` on every stream connection still
 * open, so queued data is still sent. Connections still open `graceSeconds`
 * after that are aborted.
 *
 * Divergence from Twisted, whose `disconnectAll` drops every connection at
 * once with `ConnectionLost`: here a connection that can flush within the
 * grace period ends with `ConnectionDone`.
 *
 * @param graceSeconds How long connections get to flush before they are aborted.
 * @param drainSeconds How long connections get to end by themselves first.
 * @returns A Deferred that fires when every port is closed, every connection
 *   lost and every connection attempt settled.
 */
export function _disconnectAll(graceSeconds = 5, drainSeconds = 0): Deferred<void> {
  const waits: Promise<unknown>[] = _stopAllPorts();
  const dials = _stopAllConnecting();
  waits.push(...dials);
  const closed = drainSeconds > 0
    ? drain(drainSeconds).then(() => closeAll(graceSeconds))
    : closeAll(graceSeconds);
  return Deferred.fromPromise(Promise.all([...waits, closed]).then(() => undefined));
}

/** Waits until no stream connection is open, or `seconds` have passed. */
async function drain(seconds: number): Promise<void> {
  const open = _liveStreamTransports();
  if (open.length === 0) return;
  const count = open.length === 1 ? "1 connection" : `${open.length} connections`;
  logger.info(`waiting up to ${seconds} s for ${count} to finish`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.min(seconds * 1000, MAX_TIMER_MS));
  });
  // Connections accepted just before the ports closed join the wait too.
  const allLost = async (): Promise<void> => {
    for (;;) {
      const live = _liveStreamTransports();
      if (live.length === 0) return;
      await Promise.all(live.map((transport) => transport._whenLost()));
    }
  };
  await Promise.race([allLost(), timeout]);
  clearTimeout(timer);
}

/** Closes every stream connection, aborting those that cannot flush in time. */
function closeAll(graceSeconds: number): Promise<unknown> {
  const transports = _liveStreamTransports();
  const waits: Promise<unknown>[] = [];
  for (const transport of transports) {
    transport.loseConnection();
    waits.push(transport._whenLost());
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (transports.length > 0 && graceSeconds * 1000 <= MAX_TIMER_MS) {
    timer = setTimeout(() => {
      for (const transport of transports) transport.abortConnection();
    }, graceSeconds * 1000);
  }
  return Promise.all(waits).then(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}
