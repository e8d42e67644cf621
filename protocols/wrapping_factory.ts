import type { Failure } from "../defer/failure.ts";
import type {
  Address,
  ClientFactoryLike,
  Connector,
  FactoryLike,
  Producer,
  ProtocolLike,
  Transport,
} from "../reactor/interfaces.ts";
import { ClientFactory, type Factory } from "./factory.ts";
import { Protocol } from "./protocol.ts";

/**
 * What a {@linkcode ProtocolWrapper} tells the factory that made it: that a
 * connection started and ended. {@linkcode WrappingFactory} keeps the live
 * wrappers in `protocols`; {@linkcode LimitTotalConnectionsFactory} counts
 * them.
 */
export interface ProtocolRegistry {
  /** A wrapper's connection is up. */
  registerProtocol(p: ProtocolWrapper): void;
  /** A wrapper's connection is gone. */
  unregisterProtocol(p: ProtocolWrapper): void;
}

function prefixOf(wrapped: unknown): string {
  const own = (wrapped as { logPrefix?: unknown } | null)?.logPrefix;
  if (typeof own === "function") return String(own.call(wrapped));
  const name = (wrapped as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name !== "" ? name : "null";
}

/**
 * Stands between a transport and a protocol, seeing everything that passes:
 * the base of every policy that watches or limits connections (throttling,
 * idle timeouts, connection counting). To the transport it is the protocol;
 * to the wrapped protocol it is the transport, relaying each call to the
 * real one. Subclass it and override the calls to watch, calling `super`.
 *
 * {@linkcode WrappingFactory} makes one per connection and keeps track of
 * them. When the connection ends, the wrapper unregisters from its factory,
 * passes `connectionLost` on and drops the wrapped protocol.
 *
 * Divergences from Twisted: the wrapper cannot take on the transport's
 * interfaces (Twisted copies them with `directlyProvides`, and relays any
 * other attribute with `__getattr__`); it relays the whole
 * {@linkcode Transport} interface, plus `setTcpNoDelay` and
 * `setTcpKeepAlive` when the transport has them. It does not relay
 * half-close (`readConnectionLost`, `writeConnectionLost`), so the wrapped
 * protocol sees the peer's end of stream as `connectionLost`, as in Twisted.
 *
 * @example Watching the bytes of a connection
 * ```ts
 * import {
 *   Factory,
 *   Protocol,
 *   type ProtocolLike,
 *   ProtocolWrapper,
 *   WrappingFactory,
 * } from "@torsion/torsion/protocols";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport!.write(data);
 *   }
 * }
 * let received = 0;
 * class Counting extends ProtocolWrapper {
 *   override dataReceived(data: Uint8Array): void {
 *     received += data.length;
 *     super.dataReceived(data);
 *   }
 * }
 * class CountingFactory extends WrappingFactory {
 *   override wrapProtocol(p: ProtocolLike): ProtocolWrapper {
 *     return new Counting(this, p);
 *   }
 * }
 *
 * const factory = new CountingFactory(Factory.forProtocol(Echo));
 * const wrapper = factory.buildProtocol({ type: "TCP", host: "10.0.0.2", port: 4000 })!;
 * const transport = new StringTransport();
 * wrapper.makeConnection(transport);
 * wrapper.dataReceived(new TextEncoder().encode("abc"));
 * assert.equal(received, 3);
 * assert.equal(transport.valueString(), "abc");
 * ```
 */
export class ProtocolWrapper extends Protocol implements Transport {
  /** The protocol being wrapped; `null` once the connection is lost. */
  wrappedProtocol: ProtocolLike | null;
  /** `true` once `loseConnection()` has been called through the wrapper. */
  disconnecting: boolean = false;
  /** The factory that made the wrapper, told when the connection starts and ends. */
  declare factory: (Factory & ProtocolRegistry) | null;

  /**
   * Wraps a protocol.
   *
   * @param factory The factory to register with.
   * @param wrappedProtocol The protocol to wrap.
   */
  constructor(factory: Factory & ProtocolRegistry, wrappedProtocol: ProtocolLike) {
    super();
    this.factory = factory;
    this.wrappedProtocol = wrappedProtocol;
  }

  /**
   * Names both the wrapped protocol and the wrapper: `Echo (ProtocolWrapper)`.
   *
   * @returns The log prefix.
   */
  override logPrefix(): string {
    return `${prefixOf(this.wrappedProtocol)} (${this.constructor.name})`;
  }

  /**
   * Keeps the real transport, registers with the factory, then connects the
   * wrapped protocol to this wrapper.
   *
   * @param transport The real transport.
   */
  override makeConnection(transport: Transport): void {
    super.makeConnection(transport);
    this.factory?.registerProtocol(this);
    this.wrappedProtocol?.makeConnection(this);
  }

  // -- Transport relaying --------------------------------------------------

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

  /** Sets `disconnecting` and relays to the transport. */
  loseConnection(): void {
    this.disconnecting = true;
    this.transport!.loseConnection();
  }

  /** Sets `disconnecting` and relays to the transport. */
  abortConnection(): void {
    this.disconnecting = true;
    this.transport!.abortConnection();
  }

  /** Relays to the transport. */
  loseWriteConnection(): void {
    this.transport!.loseWriteConnection();
  }

  /**
   * Relays to the transport.
   *
   * @returns The other end.
   */
  getPeer(): Address {
    return this.transport!.getPeer();
  }

  /**
   * Relays to the transport.
   *
   * @returns This end.
   */
  getHost(): Address {
    return this.transport!.getHost();
  }

  /**
   * Relays to the transport.
   *
   * @param producer The producer.
   * @param streaming `true` for a push producer.
   * @throws {Error} If the transport already has a producer.
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

  // -- Protocol relaying ---------------------------------------------------

  /**
   * Relays to the wrapped protocol.
   *
   * @param data The bytes received.
   */
  override dataReceived(data: Uint8Array): void {
    this.wrappedProtocol?.dataReceived(data);
  }

  /**
   * Unregisters from the factory, relays to the wrapped protocol, then
   * drops it.
   *
   * @param reason Why the connection ended.
   */
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.factory?.unregisterProtocol(this);
    const wrapped = this.wrappedProtocol;
    this.wrappedProtocol = null;
    wrapped?.connectionLost(reason);
  }
}

/**
 * Wraps another factory and every protocol it builds in a
 * {@linkcode ProtocolWrapper}, and keeps the live wrappers in
 * {@linkcode WrappingFactory.protocols}: the base of the policy factories.
 * Everything else (starting, stopping, the client callbacks) is relayed to
 * the wrapped factory.
 *
 * Subclasses choose their wrapper by overriding
 * {@linkcode WrappingFactory.wrapProtocol}.
 *
 * Divergences from Twisted: the wrapper is made by the overridable
 * `wrapProtocol(p)` method, since the `protocol` field of a factory is a
 * class built with no arguments (Twisted calls `self.protocol(self, p)`);
 * when the wrapped factory returns `null`, so does `buildProtocol` (Twisted
 * wraps `None`); `protocols` is a `Set`.
 *
 * @example Counting live connections
 * ```ts
 * import { Factory, Protocol, WrappingFactory } from "@torsion/torsion/protocols";
 * import { StringTransportWithDisconnection } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const factory = new WrappingFactory(Factory.forProtocol(Protocol));
 * const p = factory.buildProtocol({ type: "TCP", host: "10.0.0.2", port: 4000 })!;
 * const transport = new StringTransportWithDisconnection();
 * transport.protocol = p;
 * p.makeConnection(transport);
 * assert.equal(factory.protocols.size, 1);
 * transport.loseConnection();
 * assert.equal(factory.protocols.size, 0);
 * ```
 */
export class WrappingFactory extends ClientFactory<ProtocolWrapper> implements ProtocolRegistry {
  /** The factory whose protocols are wrapped. */
  readonly wrappedFactory: FactoryLike;
  /** The wrappers whose connection is up. */
  readonly protocols: Set<ProtocolWrapper> = new Set();

  /**
   * Wraps a factory.
   *
   * @param wrappedFactory The factory to wrap: a server factory, or a client
   * factory whose callbacks are relayed.
   */
  constructor(wrappedFactory: FactoryLike) {
    super();
    this.wrappedFactory = wrappedFactory;
  }

  /**
   * Names both factories: `Echo factory (WrappingFactory)`.
   *
   * @returns The log prefix.
   */
  override logPrefix(): string {
    return `${prefixOf(this.wrappedFactory)} (${this.constructor.name})`;
  }

  /** Starts the wrapped factory, then this one. */
  override doStart(): void {
    this.wrappedFactory.doStart();
    super.doStart();
  }

  /** Stops the wrapped factory, then this one. */
  override doStop(): void {
    this.wrappedFactory.doStop();
    super.doStop();
  }

  /**
   * Relays to the wrapped factory, if it has the method.
   *
   * @param connector The connector.
   */
  override startedConnecting(connector: Connector): void {
    (this.wrappedFactory as ClientFactoryLike).startedConnecting?.(connector);
  }

  /**
   * Relays to the wrapped factory, if it has the method.
   *
   * @param connector The connector.
   * @param reason Why the attempt failed.
   */
  override clientConnectionFailed(connector: Connector, reason: Failure): void {
    (this.wrappedFactory as ClientFactoryLike).clientConnectionFailed?.(connector, reason);
  }

  /**
   * Relays to the wrapped factory, if it has the method.
   *
   * @param connector The connector.
   * @param reason Why the connection ended.
   */
  override clientConnectionLost(connector: Connector, reason: Failure): void {
    (this.wrappedFactory as ClientFactoryLike).clientConnectionLost?.(connector, reason);
  }

  /**
   * Builds the wrapped factory's protocol and wraps it with
   * {@linkcode WrappingFactory.wrapProtocol}.
   *
   * @param addr The peer's address.
   * @returns The wrapper, or `null` if the wrapped factory refused the connection.
   */
  override buildProtocol(addr: Address): ProtocolWrapper | null {
    const wrapped = this.wrappedFactory.buildProtocol(addr);
    return wrapped === null ? null : this.wrapProtocol(wrapped);
  }

  /**
   * Makes the wrapper for one protocol; override it to use a subclass of
   * {@linkcode ProtocolWrapper}.
   *
   * @param wrappedProtocol The protocol built by the wrapped factory.
   * @returns A new `ProtocolWrapper`.
   */
  wrapProtocol(wrappedProtocol: ProtocolLike): ProtocolWrapper {
    return new ProtocolWrapper(this, wrappedProtocol);
  }

  /**
   * Adds a wrapper to {@linkcode WrappingFactory.protocols}; wrappers call it.
   *
   * @param p The wrapper.
   */
  registerProtocol(p: ProtocolWrapper): void {
    this.protocols.add(p);
  }

  /**
   * Takes a wrapper off {@linkcode WrappingFactory.protocols}; wrappers call it.
   *
   * @param p The wrapper.
   */
  unregisterProtocol(p: ProtocolWrapper): void {
    this.protocols.delete(p);
  }
}
