import { Failure } from "../defer/failure.ts";
import { ConnectionAborted, ConnectionDone } from "../reactor/connection_errors.ts";
import type {
  Address,
  IPAddress,
  Producer,
  ProtocolLike,
  Transport,
} from "../reactor/interfaces.ts";
import { concat, nameOf, toBytes } from "./_bytes.ts";

const decoder = new TextDecoder();

/** Options for {@linkcode StringTransport}. */
export interface StringTransportOptions<A extends Address = IPAddress> {
  /**
   * What `getHost()` returns; by default `{ type: "TCP", host: "10.0.0.1",
   * port: 12345 }`, as in Twisted.
   */
  hostAddress?: A;
  /**
   * What `getPeer()` returns; by default `{ type: "TCP", host: "192.168.1.1",
   * port: 54321 }`, as in Twisted. Give both addresses when they are not TCP.
   */
  peerAddress?: A;
  /**
   * Allow `pauseProducing()` and `resumeProducing()` after
   * `loseConnection()` (default `false`: they throw, so code that resumes a
   * closing transport and waits for data that can never come is caught).
   */
  lenient?: boolean;
}

/** The state of a {@linkcode StringTransport} as a push producer. */
export type ProducerState = "producing" | "paused" | "stopped";

/**
 * A transport that keeps what is written to it in memory and records every
 * other call, without doing anything: the way to unit-test a protocol
 * without sockets. Connect the protocol with `protocol.makeConnection(t)`,
 * feed it with `protocol.dataReceived(bytes)` (in every chunking, down to
 * one byte at a time), and check what it wrote with
 * {@linkcode StringTransport.value} or {@linkcode StringTransport.valueString}.
 *
 * Nothing is ever delivered back: `loseConnection()` only sets
 * `disconnecting`, and the protocol's `connectionLost` is never called (use
 * {@linkcode StringTransportWithDisconnection} for that, or call it
 * yourself). Pausing, resuming and stopping the transport as a producer
 * only records {@linkcode StringTransport.producerState}. A registered
 * producer is recorded and never driven. `value()`, `valueString()`,
 * `clear()` and the recording fields are for tests; protocol code must not
 * use them. With TCP addresses (the default), it is also a `TCPTransport`.
 *
 * Divergences from Twisted: `write` also takes a string (encoded as UTF-8);
 * errors are `Error`s rather than `RuntimeError`s; `loseWriteConnection()`,
 * `setTcpNoDelay()` and `setTcpKeepAlive()` are recorded in
 * {@linkcode StringTransport.writeDisconnecting},
 * {@linkcode StringTransport.tcpNoDelay} and
 * {@linkcode StringTransport.tcpKeepAlive}.
 *
 * @typeParam A The type of the host and peer addresses.
 *
 * @example Testing an echo protocol
 * ```ts
 * import { Protocol } from "@torsion/torsion/protocols";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport!.write(data);
 *   }
 * }
 *
 * const transport = new StringTransport();
 * const echo = new Echo();
 * echo.makeConnection(transport);
 * for (const byte of new TextEncoder().encode("hello")) {
 *   echo.dataReceived(Uint8Array.of(byte));
 * }
 * assert.equal(transport.valueString(), "hello");
 * assert.deepEqual(transport.getPeer(), { type: "TCP", host: "192.168.1.1", port: 54321 });
 * ```
 */
export class StringTransport<A extends Address = IPAddress> implements Transport {
  /** `true` once `loseConnection()` or `abortConnection()` has been called. */
  disconnecting: boolean = false;
  /** `true` once `abortConnection()` has been called. */
  disconnected: boolean = false;
  /** `true` until the connection is lost (only {@linkcode StringTransportWithDisconnection} loses it). */
  connected: boolean = true;
  /** `true` once `loseWriteConnection()` has been called. */
  writeDisconnecting: boolean = false;
  /** The last value given to `setTcpNoDelay()`, or `null` if it was never called. */
  tcpNoDelay: boolean | null = null;
  /** The last value given to `setTcpKeepAlive()`, or `null` if it was never called. */
  tcpKeepAlive: boolean | null = null;
  /** The registered producer, or `null`. */
  producer: Producer | null = null;
  /** Whether the registered producer is a push producer; `null` when none is registered. */
  streaming: boolean | null = null;
  /** The transport's own state as a push producer, as set by `pauseProducing()` and friends. */
  producerState: ProducerState = "producing";
  /** What `getHost()` returns, or `null` for the default. */
  hostAddress: A | null;
  /** What `getPeer()` returns, or `null` for the default. */
  peerAddress: A | null;

  #chunks: Uint8Array[] = [];
  readonly #lenient: boolean;

  /**
   * Makes a connected transport with nothing written.
   *
   * @param options The addresses it reports, and leniency about producing
   * after `loseConnection()`.
   */
  constructor(options: StringTransportOptions<A> = {}) {
    this.hostAddress = options.hostAddress ?? null;
    this.peerAddress = options.peerAddress ?? null;
    this.#lenient = options.lenient ?? false;
  }

  /**
   * Everything written since the transport was made or last cleared. For
   * tests only.
   *
   * @returns The bytes, in a new array.
   */
  value(): Uint8Array {
    return concat(this.#chunks);
  }

  /**
   * Everything written since the transport was made or last cleared,
   * decoded as UTF-8: the easy check for text protocols. For tests only.
   *
   * @returns The text.
   */
  valueString(): string {
    return decoder.decode(this.value());
  }

  /** Forgets everything written so far. For tests only. */
  clear(): void {
    this.#chunks = [];
  }

  /**
   * Records bytes; a string is encoded as UTF-8. Writes are recorded even
   * after `loseConnection()`, as in Twisted.
   *
   * @param data The bytes, or a string.
   * @throws {TypeError} If `data` is neither a Uint8Array nor a string.
   */
  write(data: Uint8Array | string): void {
    this.#chunks.push(toBytes(data).slice());
  }

  /**
   * Records several chunks, as one `write` each.
   *
   * @param chunks The bytes or strings, in order.
   * @throws {TypeError} If a chunk is neither a Uint8Array nor a string.
   */
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    const bytes = Array.from(chunks, (chunk) => toBytes(chunk).slice());
    this.#chunks.push(...bytes);
  }

  /** Sets {@linkcode StringTransport.disconnecting}; nothing else happens. */
  loseConnection(): void {
    this.disconnecting = true;
  }

  /** Sets {@linkcode StringTransport.disconnected} and `disconnecting`; nothing else happens. */
  abortConnection(): void {
    this.disconnected = true;
    this.disconnecting = true;
  }

  /** Sets {@linkcode StringTransport.writeDisconnecting}; nothing else happens. */
  loseWriteConnection(): void {
    this.writeDisconnecting = true;
  }

  /**
   * The other end.
   *
   * @returns The `peerAddress` option, or `192.168.1.1:54321` over TCP.
   */
  getPeer(): A {
    return this.peerAddress ?? ({ type: "TCP", host: "192.168.1.1", port: 54321 } as A);
  }

  /**
   * This end.
   *
   * @returns The `hostAddress` option, or `10.0.0.1:12345` over TCP.
   */
  getHost(): A {
    return this.hostAddress ?? ({ type: "TCP", host: "10.0.0.1", port: 12345 } as A);
  }

  /**
   * Records the value in {@linkcode StringTransport.tcpNoDelay}.
   *
   * @param enabled Whether Nagle's algorithm would be off.
   */
  setTcpNoDelay(enabled: boolean): void {
    this.tcpNoDelay = enabled;
  }

  /**
   * Records the value in {@linkcode StringTransport.tcpKeepAlive}.
   *
   * @param enabled Whether keep-alive probes would be sent.
   */
  setTcpKeepAlive(enabled: boolean): void {
    this.tcpKeepAlive = enabled;
  }

  /**
   * Records the producer in {@linkcode StringTransport.producer} and
   * {@linkcode StringTransport.streaming}. A pull producer is not resumed.
   *
   * @param producer The producer.
   * @param streaming `true` for a push producer, `false` for a pull producer.
   * @throws {Error} If a producer is already registered.
   */
  registerProducer(producer: Producer, streaming: boolean): void {
    if (this.producer !== null) {
      throw new Error(
        `Cannot register two producers: ${nameOf(this.producer)} is still registered`,
      );
    }
    this.producer = producer;
    this.streaming = streaming;
  }

  /**
   * Forgets the producer.
   *
   * @throws {Error} If no producer is registered.
   */
  unregisterProducer(): void {
    if (this.producer === null) {
      throw new Error("Cannot unregister a producer unless one is registered");
    }
    this.producer = null;
    this.streaming = null;
  }

  /**
   * Sets {@linkcode StringTransport.producerState} to `"paused"`.
   *
   * @throws {Error} After `loseConnection()` (unless `lenient`) or `stopProducing()`.
   */
  pauseProducing(): void {
    this.#checkState();
    this.producerState = "paused";
  }

  /**
   * Sets {@linkcode StringTransport.producerState} to `"producing"`.
   *
   * @throws {Error} After `loseConnection()` (unless `lenient`) or `stopProducing()`.
   */
  resumeProducing(): void {
    this.#checkState();
    this.producerState = "producing";
  }

  /** Sets {@linkcode StringTransport.producerState} to `"stopped"`. */
  stopProducing(): void {
    this.producerState = "stopped";
  }

  #checkState(): void {
    if (this.disconnecting && !this.#lenient) {
      throw new Error("Cannot resume producing after loseConnection");
    }
    if (this.producerState === "stopped") {
      throw new Error("Cannot resume a stopped producer");
    }
  }
}

/**
 * A {@linkcode StringTransport} that tells its protocol when the connection
 * is closed: set {@linkcode StringTransportWithDisconnection.protocol}, and
 * `loseConnection()` calls the protocol's `connectionLost` with
 * `ConnectionDone`, synchronously and only the first time. Use it to test
 * what a protocol does once closed, or code (such as a wrapping factory)
 * that counts connections.
 *
 * Divergences from Twisted: `loseConnection()` also sets `disconnecting`;
 * `abortConnection()` gives `ConnectionAborted` rather than `ConnectionDone`;
 * closing before `protocol` is set throws an `Error` that says so.
 *
 * @typeParam A The type of the host and peer addresses.
 *
 * @example A protocol that says goodbye when closed
 * ```ts
 * import { Protocol } from "@torsion/torsion/protocols";
 * import type { Failure } from "@torsion/torsion/defer";
 * import { StringTransportWithDisconnection } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const reasons: string[] = [];
 * class Quitter extends Protocol {
 *   override connectionLost(reason: Failure): void {
 *     super.connectionLost(reason);
 *     reasons.push(reason.getErrorMessage());
 *   }
 * }
 *
 * const transport = new StringTransportWithDisconnection();
 * const p = new Quitter();
 * transport.protocol = p;
 * p.makeConnection(transport);
 * transport.loseConnection();
 * transport.loseConnection(); // only the first call is delivered
 * assert.deepEqual(reasons, ["Bye."]);
 * assert.equal(p.connected, false);
 * ```
 */
export class StringTransportWithDisconnection<A extends Address = IPAddress>
  extends StringTransport<A> {
  /** The protocol told of the disconnection; set it before closing. */
  protocol: ProtocolLike | null = null;

  /**
   * Sets `disconnecting` and, the first time, calls the protocol's
   * `connectionLost` with `ConnectionDone("Bye.")`.
   *
   * @throws {Error} If {@linkcode StringTransportWithDisconnection.protocol} is not set.
   */
  override loseConnection(): void {
    this.#lose(new ConnectionDone("Bye."));
  }

  /**
   * Sets `disconnected` and `disconnecting` and, the first time, calls the
   * protocol's `connectionLost` with `ConnectionAborted`.
   *
   * @throws {Error} If {@linkcode StringTransportWithDisconnection.protocol} is not set.
   */
  override abortConnection(): void {
    this.disconnected = true;
    this.#lose(new ConnectionAborted());
  }

  #lose(reason: Error): void {
    this.disconnecting = true;
    if (!this.connected) return;
    const protocol = this.protocol;
    if (protocol === null) {
      throw new Error(
        "StringTransportWithDisconnection.protocol is not set: set it before closing the connection",
      );
    }
    this.connected = false;
    protocol.connectionLost(new Failure(reason));
  }
}
