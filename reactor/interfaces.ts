/**
 * The shapes the reactor and its transports deal in. `reactor/` cannot import
 * `protocols/` (the dependency goes the other way), so it states here what it
 * needs of a protocol and a factory; the classes in `protocols/` implement
 * these, and so can any object of the right shape.
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";

/** An IP endpoint of a connection or a port. */
export interface IPAddress {
  /** `"TCP"` or `"UDP"`. */
  readonly type: "TCP" | "UDP";
  /** The host: an IPv4 or IPv6 address, or a name as given. */
  readonly host: string;
  /** The port number. */
  readonly port: number;
}

/** A UNIX socket path. */
export interface UNIXAddress {
  /** Always `"UNIX"`. */
  readonly type: "UNIX";
  /** The socket's path (empty for an unnamed client socket). */
  readonly path: string;
}

/** Where a connection or a port is: narrow on `type`. */
export type Address = IPAddress | UNIXAddress;

/**
 * A producer that writes on its own schedule (streaming): a consumer asks it
 * to pause when its buffer is full and to resume when it has drained.
 */
export interface PushProducer {
  /** Stop producing until `resumeProducing()`. */
  pauseProducing(): void;
  /** Carry on producing. */
  resumeProducing(): void;
  /** Stop for good: the consumer is gone. */
  stopProducing(): void;
}

/**
 * A producer that writes only when asked: the consumer calls
 * `resumeProducing()` each time it wants more (non-streaming).
 */
export interface PullProducer {
  /** Produce one more piece of data. */
  resumeProducing(): void;
  /** Stop for good: the consumer is gone. */
  stopProducing(): void;
}

/** Either kind of producer. */
export type Producer = PushProducer | PullProducer;

/** Something that takes bytes and can apply backpressure to a producer. */
export interface Consumer {
  /**
   * Attaches a producer. `streaming` is `true` for a {@linkcode PushProducer},
   * `false` for a {@linkcode PullProducer}.
   *
   * @throws {Error} If a producer is already registered.
   */
  registerProducer(producer: Producer, streaming: boolean): void;
  /** Detaches the producer. */
  unregisterProducer(): void;
  /** Queues bytes (a string is encoded as UTF-8). Never blocks. */
  write(data: Uint8Array | string): void;
}

/**
 * A connection as a protocol sees it. Writes never block and never throw
 * for a closed connection (the data is dropped, as in Twisted). The transport
 * is itself a push producer: pausing it stops reading.
 */
export interface Transport extends Consumer, PushProducer {
  /** Queues several chunks at once. */
  writeSequence(chunks: Iterable<Uint8Array | string>): void;
  /** Flushes what is queued, then closes; `connectionLost` gets `ConnectionDone`. */
  loseConnection(): void;
  /** Closes at once, dropping what is queued; `connectionLost` gets `ConnectionAborted`, on a later turn. */
  abortConnection(): void;
  /** Flushes, then shuts down the write side only (half-close). */
  loseWriteConnection(): void;
  /** The other end. */
  getPeer(): Address;
  /** This end. */
  getHost(): Address;
  /** Whether `loseConnection()` has been called. */
  readonly disconnecting: boolean;
}

/** A TCP connection's transport. */
export interface TCPTransport extends Transport {
  /** Turns Nagle's algorithm off (`true`) or on. Deno's default is off (no delay). */
  setTcpNoDelay(enabled: boolean): void;
  /** Turns TCP keep-alive probes on or off. */
  setTcpKeepAlive(enabled: boolean): void;
  /**
   * Starts TLS on the connection (client side only): see
   * `TCPConnection.startTLS`. Optional, so that fakes need not have it.
   */
  startTLS?(
    contextFactory?: { hostname?: string; caCerts?: string[]; alpnProtocols?: string[] },
    normal?: boolean,
  ): void;
  /** The other end. */
  getPeer(): IPAddress;
  /** This end. */
  getHost(): IPAddress;
}

/**
 * What the reactor calls on a protocol. `Protocol` in `protocols/`
 * implements it. A protocol that also has `readConnectionLost` and
 * `writeConnectionLost` opts in to half-close: on the peer's EOF it gets
 * `readConnectionLost()` instead of `connectionLost`.
 */
export interface ProtocolLike {
  /** Called once, when the connection is up. */
  makeConnection(transport: Transport): void;
  /** Called with each chunk of bytes, in arbitrary sizes. */
  dataReceived(data: Uint8Array): void;
  /**
   * `true` if this protocol is done with each chunk when `dataReceived`
   * returns: a stream transport then reads the next chunk into the same
   * buffer instead of a fresh one, which saves allocating and zeroing a
   * buffer per read (a bulk echo server then costs what a raw Deno
   * read/write loop does). Copy (`data.slice()`) whatever must outlive the call. Writing the
   * chunk is safe: the transport copies it, or for its own connection holds
   * the next read until it is written. Unset, every chunk is the protocol's
   * to keep. Read once, when reading starts. Not in Twisted, whose chunks
   * are immutable `bytes`.
   */
  readonly borrowsData?: boolean;
  /** Called exactly once, when the connection is gone. */
  connectionLost(reason: Failure): void;
  /** Half-close: the peer will send no more. */
  readConnectionLost?(): void;
  /** Half-close: our write side is shut down. */
  writeConnectionLost?(): void;
}

/** What a listening port calls on its factory. `Factory` implements it. */
export interface FactoryLike {
  /** Makes a protocol for a new connection, or `null` to refuse it. */
  buildProtocol(addr: Address): ProtocolLike | null;
  /** Called when a port starts using the factory. */
  doStart(): void;
  /** Called when a port stops using the factory. */
  doStop(): void;
}

/** What a connector calls on its factory. `ClientFactory` implements it. */
export interface ClientFactoryLike extends FactoryLike {
  /** A connection attempt has started. */
  startedConnecting?(connector: Connector): void;
  /** The attempt failed. */
  clientConnectionFailed?(connector: Connector, reason: Failure): void;
  /** An established connection was lost. */
  clientConnectionLost?(connector: Connector, reason: Failure): void;
}

/** The states of a {@linkcode Connector}. */
export type ConnectorState = "disconnected" | "connecting" | "connected";

/** A client connection attempt that can be repeated, as Twisted's `IConnector`. */
export interface Connector {
  /** Starts (or restarts) connecting. @throws {Error} Unless disconnected. */
  connect(): void;
  /** Stops an attempt, or closes the connection. */
  disconnect(): void;
  /** Stops an attempt; the factory sees `UserError`. @throws {Error} Unless connecting. */
  stopConnecting(): void;
  /** Where it connects to. */
  getDestination(): Address;
  /** Where it is. */
  readonly state: ConnectorState;
}

/** A port listening for connections. */
export interface ListeningPort {
  /** The address it is bound to (with the real port when 0 was asked for). */
  getHost(): Address;
  /** Stops accepting; fires when the listener is closed and the factory stopped. */
  stopListening(): Deferred<void>;
}
