/**
 * Serving behind a load balancer that speaks the PROXY protocol (HAProxy's
 * `send-proxy` and `send-proxy-v2`, and many others): each connection
 * starts with a header naming the real client, which is read here, before
 * the application's protocol exists, so that the protocol sees the client's
 * address from its first call.
 *
 * Why this lives in `reactor/` and not in `protocols/` as Twisted's
 * `twisted.protocols.haproxy` does: the `haproxy:` prefix of
 * `serverFromString` (in `reactor/endpoints.ts`) must build it, and
 * `reactor/` may not import `protocols/`. Registering it from `protocols/`
 * instead would make `serverFromString` understand `haproxy:` only after
 * some other module had been imported, a trap Twisted's plugin discovery
 * does not have. And the header is a transport matter, like TLS: it changes
 * what `getPeer()` and `getHost()` say and never reaches the protocol. So
 * the parsers and this wrapper need only the reactor's interfaces
 * (`ProtocolLike`, `Transport`, `FactoryLike`) and sit beside the other
 * transports.
 *
 * @module
 */
import type { ReactorTime } from "../defer/time.ts";
import type { DelayedCall } from "../defer/time.ts";
import { TimeoutError } from "../defer/errors.ts";
import type { Failure } from "../defer/failure.ts";
import { realTime } from "./_real_time.ts";
import type { Address, FactoryLike, Producer, ProtocolLike, Transport } from "./interfaces.ts";
import { Logger } from "./log.ts";
import { InvalidProxyHeader } from "./proxy_header_errors.ts";
import { ProxyHeaderParser } from "./proxy_header_parser.ts";
import type { ProxyHeaderResult, ProxyInfo } from "./proxy_info.ts";
import { _formatAddress } from "./stream_transport.ts";

const logger = new Logger("haproxy");

/** Options of {@linkcode HAProxyWrappingFactory} and `haproxy:` endpoints. */
export interface HAProxyWrappingFactoryOptions {
  /**
   * Seconds a connection may take to send its complete header before it is
   * closed (default 10). `Infinity` waits for ever, as Twisted does.
   */
  timeout?: number;
  /** The clock of that timeout (default real time); tests pass a `Clock`. */
  clock?: ReactorTime;
  /** The longest version 2 header accepted, in bytes (default 4096). */
  maxHeaderLength?: number;
}

function nameOf(value: unknown): string {
  const prefix = (value as { logPrefix?: unknown } | null)?.logPrefix;
  if (typeof prefix === "function") return String(prefix.call(value));
  const name = (value as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name !== "" ? name : "factory";
}

/**
 * Makes the wrapped factory's protocols speak behind a PROXY protocol
 * balancer (Twisted's `HAProxyWrappingFactory`). Each connection first gets
 * an {@linkcode HAProxyProtocolWrapper}, which reads the header (version 1
 * or 2); only then is the wrapped factory asked for a protocol, with the
 * client's address from the header, and that protocol is connected.
 *
 * Divergences from Twisted: Twisted builds and connects the wrapped
 * protocol at once, so `connectionMade` sees the balancer's address; here
 * `buildProtocol` and `connectionMade` see the client's. A connection whose
 * header is missing, malformed, oversized or late (see `timeout`) is closed
 * with an error logged (namespace `haproxy`), and no protocol is built; one
 * that closes first is logged as a warning (at debug level if it sent
 * nothing, as port probes and plain TCP health checks do).
 *
 * @example Serving a protocol that sees the real client
 * ```ts
 * import { HAProxyWrappingFactory, type ProtocolLike, type Transport } from "@torsion/torsion/reactor";
 * import { Clock } from "@torsion/torsion/reactor";
 * import { Protocol } from "@torsion/torsion/protocols";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * class WhoAmI extends Protocol {
 *   override connectionMade(): void {
 *     const peer = this.transport!.getPeer();
 *     if (peer.type === "TCP") seen.push(`${peer.host}:${peer.port}`);
 *   }
 * }
 * const factory = new HAProxyWrappingFactory(
 *   { buildProtocol: () => new WhoAmI(), doStart() {}, doStop() {} },
 *   { clock: new Clock() },
 * );
 * const wrapper = factory.buildProtocol({ type: "TCP", host: "10.0.0.1", port: 5000 });
 * wrapper.makeConnection(new StringTransport());
 * wrapper.dataReceived(new TextEncoder().encode("PROXY TCP4 192.0.2.7 10.0.0.2 4711 80\r\n"));
 * assert.deepEqual(seen, ["192.0.2.7:4711"]);
 * ```
 */
export class HAProxyWrappingFactory implements FactoryLike {
  /** The factory whose protocols serve the proxied connections. */
  readonly wrappedFactory: FactoryLike;
  /** Seconds allowed for the header. */
  readonly timeout: number;
  /** The clock of the timeout. */
  readonly clock: ReactorTime;
  /** The longest version 2 header accepted. */
  readonly maxHeaderLength: number;

  /**
   * Wraps a factory.
   *
   * @param wrappedFactory Builds the protocol of each proxied connection.
   * @param options `timeout`, `clock`, `maxHeaderLength`.
   * @throws {RangeError} For a timeout that is not a positive number, or a
   *   `maxHeaderLength` that is not an integer from 232 to 65551.
   */
  constructor(wrappedFactory: FactoryLike, options: HAProxyWrappingFactoryOptions = {}) {
    const timeout = options.timeout ?? 10;
    if (!(timeout > 0)) {
      throw new RangeError(`The PROXY header timeout must be a positive number, not ${timeout}`);
    }
    this.wrappedFactory = wrappedFactory;
    this.timeout = timeout;
    this.clock = options.clock ?? realTime;
    this.maxHeaderLength = new ProxyHeaderParser({ maxLength: options.maxHeaderLength }).maxLength;
  }

  /**
   * Names the wrapped factory and the protocol: `Echo factory (PROXY)`.
   *
   * @returns The log prefix.
   */
  logPrefix(): string {
    return `${nameOf(this.wrappedFactory)} (PROXY)`;
  }

  /** Starts the wrapped factory. */
  doStart(): void {
    this.wrappedFactory.doStart();
  }

  /** Stops the wrapped factory. */
  doStop(): void {
    this.wrappedFactory.doStop();
  }

  /**
   * Makes the header-reading wrapper of a new connection; the wrapped
   * factory is asked for its protocol once the header has been read.
   *
   * @param _addr The balancer's address (not used).
   * @returns The wrapper.
   */
  buildProtocol(_addr: Address): HAProxyProtocolWrapper {
    return new HAProxyProtocolWrapper(this);
  }
}

type State = "idle" | "header" | "connected" | "closing" | "lost";

/**
 * One proxied connection (Twisted's `HAProxyProtocolWrapper`): the protocol
 * to the real transport and, once the header has been read, the transport
 * to the wrapped protocol, relaying everything except `getPeer()` and
 * `getHost()`, which give the header's addresses (or the real ones for a
 * `LOCAL` command or an unspecified family).
 *
 * Bytes that follow the header in the same chunk go to the wrapped
 * protocol right after its `connectionMade`, unless it closed the
 * connection there. Half-close is relayed when the wrapped protocol takes
 * part in it (has `readConnectionLost`).
 */
export class HAProxyProtocolWrapper implements ProtocolLike, Transport {
  /** The factory that made the wrapper. */
  readonly factory: HAProxyWrappingFactory;
  /** The real transport, once connected. */
  transport: Transport | null = null;
  /** The application's protocol, once the header has been read; `null` again once lost. */
  wrappedProtocol: ProtocolLike | null = null;
  /** The parsed header, once read. */
  proxyInfo: ProxyInfo | null = null;
  /** Relays the peer's end of stream, when the wrapped protocol takes part in half-close. */
  readConnectionLost?: () => void;
  /** Relays the end of our write side, when the wrapped protocol takes part in half-close. */
  writeConnectionLost?: () => void;

  #state: State = "idle";
  #parser: ProxyHeaderParser | null;
  #timer: DelayedCall | null = null;
  #disconnecting = false;
  #received = false;

  /**
   * Makes the wrapper of one connection.
   *
   * @param factory The factory with the wrapped factory and the settings.
   */
  constructor(factory: HAProxyWrappingFactory) {
    this.factory = factory;
    this.#parser = new ProxyHeaderParser({ maxLength: factory.maxHeaderLength });
  }

  /**
   * Names the wrapped protocol, once there is one: `Echo (PROXY)`.
   *
   * @returns The log prefix.
   */
  logPrefix(): string {
    return `${this.wrappedProtocol === null ? "header" : nameOf(this.wrappedProtocol)} (PROXY)`;
  }

  // -- As the real transport's protocol ------------------------------------

  /**
   * Keeps the transport and starts waiting for the header.
   *
   * @param transport The real transport.
   */
  makeConnection(transport: Transport): void {
    this.transport = transport;
    this.#state = "header";
    const { clock, timeout } = this.factory;
    if (Number.isFinite(timeout)) {
      this.#timer = clock.callLater(timeout, () => {
        this.#timer = null;
        this.#drop(new TimeoutError(timeout, "PROXY header"));
      });
    }
  }

  /**
   * Reads the header, then relays to the wrapped protocol.
   *
   * @param data The bytes received.
   */
  dataReceived(data: Uint8Array): void {
    if (this.#state === "connected") {
      this.wrappedProtocol!.dataReceived(data);
      return;
    }
    if (this.#state !== "header" || data.length === 0) return;
    this.#received = true;
    let result: ProxyHeaderResult | null;
    try {
      result = this.#parser!.feed(data);
    } catch (error) {
      if (!(error instanceof InvalidProxyHeader)) throw error;
      this.#drop(error);
      return;
    }
    if (result !== null) this.#connect(result);
  }

  /**
   * Relays to the wrapped protocol if it was connected; logs a connection
   * that ended before its header was complete.
   *
   * @param reason Why the connection ended.
   */
  connectionLost(reason: Failure): void {
    const state = this.#state;
    this.#state = "lost";
    this.#cancelTimer();
    if (state === "header") {
      // Nothing at all is what port probes and plain TCP health checks send.
      const message = `Connection from ${this.#realPeer()} closed before ${
        this.#received ? "its PROXY header was complete" : "sending a PROXY header"
      }`;
      if (this.#received) logger.warn(message);
      else logger.debug(message);
    }
    const wrapped = this.wrappedProtocol;
    this.wrappedProtocol = null;
    if (state === "connected") wrapped!.connectionLost(reason);
  }

  #connect({ info, rest }: ProxyHeaderResult): void {
    this.#cancelTimer();
    this.#parser = null;
    this.proxyInfo = info;
    const { wrappedFactory } = this.factory;
    const peer = this.getPeer();
    let protocol: ProtocolLike | null;
    try {
      protocol = wrappedFactory.buildProtocol(peer);
    } catch (error) {
      logger.error(
        `Unhandled error in ${nameOf(wrappedFactory)}.buildProtocol() for ${_formatAddress(peer)}`,
        error,
      );
      protocol = null;
    }
    if (protocol === null || protocol === undefined) {
      this.#state = "closing";
      this.transport!.loseConnection();
      return;
    }
    this.wrappedProtocol = protocol;
    this.#state = "connected";
    if (typeof protocol.readConnectionLost === "function") {
      this.readConnectionLost = () => protocol.readConnectionLost!();
    }
    if (typeof protocol.writeConnectionLost === "function") {
      this.writeConnectionLost = () => protocol.writeConnectionLost!();
    }
    protocol.makeConnection(this);
    if (rest.length > 0 && this.#state === "connected" && !this.disconnecting) {
      protocol.dataReceived(rest);
    }
  }

  #drop(error: Error): void {
    this.#state = "closing";
    this.#parser = null;
    this.#cancelTimer();
    logger.error(`Dropping the connection from ${this.#realPeer()}: ${error.message}`);
    this.transport!.abortConnection();
  }

  #cancelTimer(): void {
    if (this.#timer?.active()) this.#timer.cancel();
    this.#timer = null;
  }

  #realPeer(): string {
    try {
      return _formatAddress(this.transport!.getPeer());
    } catch {
      return "an unknown peer";
    }
  }

  // -- As the wrapped protocol's transport ---------------------------------

  /** Whether `loseConnection()` or `abortConnection()` has been called. */
  get disconnecting(): boolean {
    return this.#disconnecting || (this.transport?.disconnecting ?? false);
  }

  /**
   * The client, from the header; the real peer when the header has none.
   *
   * @returns The address.
   */
  getPeer(): Address {
    return this.proxyInfo?.source ?? this.transport!.getPeer();
  }

  /**
   * The address the client connected to, from the header; the real one
   * when the header has none.
   *
   * @returns The address.
   */
  getHost(): Address {
    return this.proxyInfo?.destination ?? this.transport!.getHost();
  }

  /**
   * Relays to the transport.
   *
   * @param data The bytes, or a string.
   */
  write(data: Uint8Array | string): void {
    this.transport!.write(data);
  }

  /**
   * Relays to the transport.
   *
   * @param chunks The bytes or strings, in order.
   */
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    this.transport!.writeSequence(chunks);
  }

  /** Relays to the transport. */
  loseConnection(): void {
    this.#disconnecting = true;
    this.transport!.loseConnection();
  }

  /** Relays to the transport. */
  abortConnection(): void {
    this.#disconnecting = true;
    this.transport!.abortConnection();
  }

  /** Relays to the transport. */
  loseWriteConnection(): void {
    this.transport!.loseWriteConnection();
  }

  /**
   * Relays to the transport.
   *
   * @param producer The producer.
   * @param streaming `true` for a push producer.
   */
  registerProducer(producer: Producer, streaming: boolean): void {
    this.transport!.registerProducer(producer, streaming);
  }

  /** Relays to the transport. */
  unregisterProducer(): void {
    this.transport!.unregisterProducer();
  }

  /** Relays to the transport: stops reading. */
  pauseProducing(): void {
    this.transport!.pauseProducing();
  }

  /** Relays to the transport: reads again. */
  resumeProducing(): void {
    this.transport!.resumeProducing();
  }

  /** Relays to the transport. */
  stopProducing(): void {
    this.transport!.stopProducing();
  }

  /**
   * Relays to the transport when it is a TCP transport; does nothing otherwise.
   *
   * @param enabled Whether to turn Nagle's algorithm off.
   */
  setTcpNoDelay(enabled: boolean): void {
    (this.transport as { setTcpNoDelay?: (b: boolean) => void }).setTcpNoDelay?.(enabled);
  }

  /**
   * Relays to the transport when it is a TCP transport; does nothing otherwise.
   *
   * @param enabled Whether to send keep-alive probes.
   */
  setTcpKeepAlive(enabled: boolean): void {
    (this.transport as { setTcpKeepAlive?: (b: boolean) => void }).setTcpKeepAlive?.(enabled);
  }
}
