/**
 * TLS over TCP for the reactor (Twisted's `listenSSL` and `connectSSL`),
 * over `Deno.listenTls`, `Deno.connect` plus `Deno.startTls`, and
 * `Deno.connectTls`. Ports, connectors and transports behave as TCP's; the
 * context factory is Deno's own TLS settings.
 *
 * Divergence from Twisted: a client verifies the server's certificate
 * against the system's roots (plus `caCerts`) for `hostname`, always. Twisted's
 * `connectSSL` with a default context does not verify; to trust a private
 * or self-signed certificate here, pass it in `caCerts`.
 *
 * @module
 */
import type { Failure } from "../defer/failure.ts";
import type { ReactorTime } from "../defer/time.ts";
import { _connectTimeout } from "./stream_connector.ts";
import { StreamPort } from "./stream_port.ts";
import { StreamTransport, type StreamTransportOptions } from "./stream_transport.ts";
import { CannotListenError, ConnectError } from "./connection_errors.ts";
import type { ClientFactoryLike, FactoryLike, IPAddress, ProtocolLike } from "./interfaces.ts";
import { _checkPort, type ConnectTCPOptions, type ListenTCPOptions, TCPConnector } from "./tcp.ts";

/** What a TLS server presents: its certificate chain and key, PEM. */
export interface TLSServerOptions {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
  /** ALPN protocols to offer, most preferred first. */
  alpnProtocols?: string[];
}

/** How a TLS client checks the server, and what it presents. */
export interface TLSClientOptions {
  /**
   * The name to verify the certificate for and send as SNI (default: the
   * host connected to).
   */
  hostname?: string;
  /** Certificate authorities to trust besides the system's, PEM. */
  caCerts?: string[];
  /** ALPN protocols to offer, most preferred first. */
  alpnProtocols?: string[];
  /** A client certificate chain, PEM (with `key`). */
  cert?: string;
  /** The client certificate's key, PEM (with `cert`). */
  key?: string;
}

function checkServerOptions(options: TLSServerOptions): void {
  if (typeof options?.cert !== "string" || options.cert === "") {
    throw new TypeError("TLS server options need cert: a PEM certificate chain");
  }
  if (typeof options.key !== "string" || options.key === "") {
    throw new TypeError("TLS server options need key: a PEM private key");
  }
}

/**
 * A TLS connection's transport. The handshake happens before the first
 * bytes move; a failed handshake ends the connection with `ConnectionLost`
 * and the TLS error as its cause. Deno gives no socket options on a TLS
 * connection, so unlike Twisted's there is no `setTcpNoDelay`.
 *
 * `loseWriteConnection` half-closes as on TCP: it sends TLS close_notify,
 * the peer sees end of stream (`readConnectionLost` when it supports
 * half-close) and can still send until it closes its side.
 *
 * @example
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * reactor.listenSSL(8443, factory, { cert, key });
 * ```
 */
export class TLSConnection extends StreamTransport {
  /**
   * Wraps a TLS connection.
   *
   * @param conn The connection.
   * @param protocol The protocol that will speak on it.
   * @param options A hook for the end of the connection.
   */
  constructor(conn: Deno.TlsConn, protocol: ProtocolLike, options?: StreamTransportOptions) {
    super(conn, protocol, options);
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

/**
 * A TLS port accepting connections for a factory, as returned by
 * {@linkcode listenSSL}.
 *
 * @example
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const port = reactor.listenSSL(0, factory, { cert, key }, { interface: "127.0.0.1" });
 * await port.stopListening();
 * ```
 */
export class TLSPort extends StreamPort<IPAddress> {
  /**
   * Wraps an accepted connection in a {@linkcode TLSConnection}.
   *
   * @param conn The connection.
   * @param protocol Its protocol.
   * @returns The transport.
   */
  protected override makeTransport(conn: Deno.Conn, protocol: ProtocolLike): TLSConnection {
    return new TLSConnection(conn as Deno.TlsConn, protocol);
  }
}

/**
 * Listens for TLS connections on `port`, as {@linkcode listenTCP} does for
 * TCP, presenting `contextFactory`'s certificate.
 *
 * @param port The port number; 0 for any free port.
 * @param factory Builds a protocol for each connection (`null` refuses it).
 * @param contextFactory The certificate chain and key, PEM.
 * @param options `backlog` (50) and `interface` (every IPv4 one).
 * @param clock Schedules the pause after a failed accept (default: timers).
 * @returns The listening port.
 * @throws {CannotListenError} If the address cannot be bound or the
 *   certificate or key cannot be used, with the Deno error as `cause`.
 * @throws {TypeError} If `cert` or `key` is missing.
 *
 * @example
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const cert = Deno.readTextFileSync("cert.pem");
 * const key = Deno.readTextFileSync("key.pem");
 * reactor.listenSSL(8443, factory, { cert, key }, { interface: "127.0.0.1" });
 * ```
 */
export function listenSSL(
  port: number,
  factory: FactoryLike,
  contextFactory: TLSServerOptions,
  options: ListenTCPOptions = {},
  clock?: ReactorTime,
): TLSPort {
  _checkPort(port);
  checkServerOptions(contextFactory);
  const iface = options.interface ?? "";
  let listener: Deno.TlsListener;
  try {
    listener = Deno.listenTls({
      hostname: iface === "" ? "0.0.0.0" : iface,
      port,
      transport: "tcp",
      cert: contextFactory.cert,
      key: contextFactory.key,
      alpnProtocols: contextFactory.alpnProtocols,
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
  return new TLSPort(listener, factory, clock);
}

/**
 * A TLS client connection that can be made again, as returned by
 * {@linkcode connectSSL}. An attempt connects over TCP, then completes the
 * handshake before the factory builds a protocol: a certificate that does
 * not verify fails the attempt (`clientConnectionFailed`) with a
 * `ConnectError` naming the TLS error.
 *
 * @example
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const connector = reactor.connectSSL("example.com", 443, clientFactory, {});
 * ```
 */
export class TLSConnector extends TCPConnector {
  readonly #tls: TLSClientOptions;

  /**
   * Makes a connector in the `"disconnected"` state; {@linkcode connectSSL}
   * makes one and connects it.
   *
   * @param host The host name or address.
   * @param port The port.
   * @param factory The client factory.
   * @param contextFactory How to verify the server, and what to present.
   * @param timeout Seconds before an attempt (handshake included) fails.
   * @param clock Schedules the timeout (default: timers).
   */
  constructor(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    contextFactory: TLSClientOptions,
    timeout: number,
    clock?: ReactorTime,
  ) {
    super(host, port, factory, timeout, clock);
    this.#tls = { ...contextFactory };
  }

  /**
   * Connects over TCP, then completes the TLS handshake.
   *
   * @param signal Aborts the TCP attempt.
   * @returns The TLS connection.
   */
  protected override async dial(signal: AbortSignal): Promise<Deno.Conn> {
    const tls = this.#tls;
    const { host, port } = this.getDestination();
    let conn: Deno.TlsConn;
    if (tls.cert !== undefined || tls.key !== undefined) {
      // Deno.startTls cannot present a client certificate: connectTls can.
      conn = await Deno.connectTls({
        hostname: host,
        port,
        caCerts: tls.caCerts,
        alpnProtocols: tls.alpnProtocols,
        cert: tls.cert!,
        key: tls.key!,
      });
    } else {
      const tcp = (await super.dial(signal)) as Deno.TcpConn;
      try {
        conn = await Deno.startTls(tcp, {
          hostname: tls.hostname ?? host,
          caCerts: tls.caCerts,
          alpnProtocols: tls.alpnProtocols,
        });
      } catch (error) {
        tcp.close();
        throw error;
      }
    }
    try {
      await conn.handshake();
    } catch (error) {
      conn.close();
      throw new TLSHandshakeFailed(error);
    }
    return conn;
  }

  /**
   * Names a failed attempt: refused, DNS, a TLS error, or anything else.
   *
   * @param error What the attempt threw.
   * @returns The error to report.
   */
  protected override failure(error: unknown): Error {
    if (error instanceof TLSHandshakeFailed) {
      const cause = error.cause;
      const message = cause instanceof Error ? cause.message : String(cause);
      const { host, port } = this.getDestination();
      return new ConnectError(`TLS handshake with ${host}:${port} failed: ${message}`, { cause });
    }
    return super.failure(error);
  }

  /**
   * Wraps the connection in a {@linkcode TLSConnection}.
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
    return new TLSConnection(conn as Deno.TlsConn, protocol, { onConnectionLost });
  }
}

/** Marks an error thrown by the handshake, as opposed to the TCP connect. */
class TLSHandshakeFailed extends Error {
  constructor(cause: unknown) {
    super("TLS handshake failed", { cause });
  }
}

/**
 * Connects to `host:port` over TLS, as {@linkcode connectTCP} does over TCP.
 * The server's certificate must verify for `contextFactory.hostname` (by
 * default `host`) against the system's roots and `caCerts`.
 *
 * @param host A host name or address.
 * @param port The port.
 * @param factory The client factory.
 * @param contextFactory `hostname`, `caCerts`, `alpnProtocols`, and a client
 *   `cert` and `key`.
 * @param options `timeout` in seconds (default 30), covering the handshake.
 * @param clock Schedules the timeout (default: timers).
 * @returns The connector, already connecting.
 * @throws {TypeError} For `bindAddress`, for only one of `cert` and `key`,
 *   or for `hostname` together with a client certificate.
 * @throws {RangeError} For a bad port or timeout.
 *
 * @example
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const caCerts = [Deno.readTextFileSync("ca.pem")];
 * reactor.connectSSL("127.0.0.1", 8443, clientFactory, { hostname: "localhost", caCerts });
 * ```
 */
export function connectSSL(
  host: string,
  port: number,
  factory: ClientFactoryLike,
  contextFactory: TLSClientOptions = {},
  options: ConnectTCPOptions = {},
  clock?: ReactorTime,
): TLSConnector {
  _checkPort(port);
  if (options.bindAddress !== undefined && options.bindAddress !== null) {
    throw new TypeError("bindAddress is not supported: Deno cannot bind the local end");
  }
  if ((contextFactory.cert === undefined) !== (contextFactory.key === undefined)) {
    throw new TypeError("A client certificate needs both cert and key");
  }
  if (
    contextFactory.cert !== undefined && contextFactory.hostname !== undefined &&
    contextFactory.hostname !== host
  ) {
    throw new TypeError(
      "With a client certificate the server is verified for the host connected to: " +
        "hostname cannot differ from it",
    );
  }
  const timeout = _connectTimeout(options.timeout);
  const connector = new TLSConnector(host, port, factory, contextFactory, timeout, clock);
  connector.connect();
  return connector;
}
