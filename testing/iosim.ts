import { Failure } from "../defer/failure.ts";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "../reactor/connection_errors.ts";
import type {
  Address,
  IPAddress,
  Producer,
  ProtocolLike,
  PushProducer,
  Transport,
} from "../reactor/interfaces.ts";
import { concat, nameOf, toBytes } from "./_bytes.ts";

/** How many rounds {@linkcode IOPump.flush} runs before it gives up. */
const MAX_ROUNDS = 1000;

/**
 * One round of {@linkcode IOPump.pump}: set by {@linkcode FakeTransport}'s
 * static block, as it needs the transports' private state.
 */
let round: (clientIO: FakeTransport, serverIO: FakeTransport) => boolean;

/** Options of a {@linkcode FakeTransport}. */
export interface FakeTransportOptions {
  /** What `getHost()` returns. */
  hostAddress: Address;
  /** What `getPeer()` returns. */
  peerAddress: Address;
}

/**
 * One end of the in-memory connection made by
 * {@linkcode connectedServerAndClient}: a transport that holds what its
 * protocol writes until an {@linkcode IOPump} moves it to the other end.
 *
 * It behaves as a real connection does where a test can tell:
 * - Writes are queued, never delivered at once; a string is sent as UTF-8.
 *   Writes after the connection is lost, after `abortConnection()` or after
 *   `loseWriteConnection()` are dropped.
 * - `loseConnection()` closes once what is queued has been delivered (and
 *   no pull producer is registered): in the first round that moves none of
 *   this side's bytes, the peer's protocol gets
 *   `connectionLost(ConnectionDone)`, and this side's protocol gets it in
 *   the round after. From the call on, data from the peer is no longer
 *   delivered. A connection lost stops its registered producer.
 * - `abortConnection()` drops what is queued; the peer gets `ConnectionLost`
 *   in the next round, and this side `ConnectionAborted` in the round after.
 * - `loseWriteConnection()` (half-close), once the queue is delivered, calls
 *   this protocol's `writeConnectionLost()` and the peer protocol's
 *   `readConnectionLost()`; a peer without `readConnectionLost` closes the
 *   connection instead.
 * - A pull producer is resumed at registration and on each round in which
 *   the queue is empty; a push producer is paused when more than
 *   {@linkcode FakeTransport.bufferSize} bytes are queued and resumed once
 *   they are delivered. The transport's own `pauseProducing()` holds the
 *   peer's data back until `resumeProducing()`.
 *
 * An error thrown by a protocol propagates out of `pump()` or `flush()`
 * (a real transport logs it and closes the connection).
 *
 * Divergences from Twisted's `iosim.FakeTransport`: writes after
 * `loseConnection()` are still delivered, data for a closing end is dropped,
 * `abortConnection()` drops the queue and reports `ConnectionAborted`,
 * half-close and push-producer back-pressure are simulated, registering a
 * second producer throws, and there is no TLS simulation.
 *
 * @example Looking at a connection's ends
 * ```ts
 * import { Protocol } from "@torsion/torsion/protocols";
 * import { connectedServerAndClient, FakeTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const { client, server, pump } = connectedServerAndClient(() => new Protocol(), () => new Protocol());
 * assert.ok(server.transport instanceof FakeTransport);
 * assert.equal(pump.serverIO.isServer, true);
 * assert.deepEqual(client.transport!.getPeer(), server.transport.getHost());
 * ```
 */
export class FakeTransport implements Transport {
  /** The protocol this transport delivers to. */
  readonly protocol: ProtocolLike;
  /** Whether this is the accepting end. */
  readonly isServer: boolean;
  /** Queued bytes above which a registered push producer is paused (64 KiB). */
  bufferSize: number = 64 * 1024;
  /** The registered producer, or `null`. */
  producer: Producer | null = null;
  /** Whether the registered producer is a push producer. */
  streaming: boolean = false;

  readonly #host: Address;
  readonly #peer: Address;
  #stream: Uint8Array[] = [];
  #queued = 0;
  #producerPaused = false;
  #readPaused = false;
  #closeRequested = false; // loseConnection()
  #aborted = false; // abortConnection()
  #peerClosed = false; // the other end closed; we are going too
  #propagated = false; // the other end has been told we closed
  #lost = false; // connectionLost has run
  #writeDisconnecting = false; // loseWriteConnection()
  #eofSent = false;
  #eofReceived = false;

  /**
   * Makes one end of a connection; {@linkcode connectedServerAndClient}
   * makes both.
   *
   * @param protocol The protocol it delivers to.
   * @param isServer Whether it is the accepting end.
   * @param options Its host and peer addresses.
   */
  constructor(protocol: ProtocolLike, isServer: boolean, options: FakeTransportOptions) {
    this.protocol = protocol;
    this.isServer = isServer;
    this.#host = options.hostAddress;
    this.#peer = options.peerAddress;
  }

  /** Whether this end is closing or closed, by either side. */
  get disconnecting(): boolean {
    return this.#closeRequested || this.#aborted || this.#peerClosed || this.#lost;
  }

  /** Whether the protocol's `connectionLost` has run. */
  get disconnected(): boolean {
    return this.#lost;
  }

  /**
   * Queues bytes for the peer; a string is sent as UTF-8. Dropped once the
   * connection is lost, aborted or half-closed.
   *
   * @param data The bytes, or a string.
   * @throws {TypeError} If `data` is neither a Uint8Array nor a string.
   */
  write(data: Uint8Array | string): void {
    const bytes = toBytes(data);
    if (!this.#writable() || bytes.length === 0) return;
    this.#stream.push(bytes.slice());
    this.#queued += bytes.length;
    const producer = this.producer;
    if (
      producer !== null && this.streaming && !this.#producerPaused &&
      this.#queued > this.bufferSize
    ) {
      this.#producerPaused = true;
      (producer as PushProducer).pauseProducing();
    }
  }

  /**
   * Queues several chunks, as one `write` each.
   *
   * @param chunks The bytes or strings, in order.
   * @throws {TypeError} If a chunk is neither a Uint8Array nor a string.
   */
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    const list = Array.from(chunks, toBytes);
    for (const chunk of list) this.write(chunk);
  }

  /** Closes once the queue is delivered; both protocols then get `ConnectionDone`. */
  loseConnection(): void {
    this.#closeRequested = true;
  }

  /** Drops the queue and closes: `ConnectionAborted` here, `ConnectionLost` at the peer. */
  abortConnection(): void {
    if (this.#lost || this.#peerClosed) return;
    this.#aborted = true;
    this.#stream = [];
    this.#queued = 0;
  }

  /** Half-close: once the queue is delivered, the peer reads end of stream. */
  loseWriteConnection(): void {
    this.#writeDisconnecting = true;
  }

  /**
   * This end.
   *
   * @returns The host address given at construction.
   */
  getHost(): Address {
    return this.#host;
  }

  /**
   * The other end.
   *
   * @returns The peer address given at construction.
   */
  getPeer(): Address {
    return this.#peer;
  }

  /** Does nothing: there is no Nagle's algorithm in memory. */
  setTcpNoDelay(_enabled: boolean): void {}

  /** Does nothing: there are no keep-alive probes in memory. */
  setTcpKeepAlive(_enabled: boolean): void {}

  /**
   * Attaches a producer; a pull producer is resumed at once. On a lost
   * connection the producer is stopped instead.
   *
   * @param producer The producer.
   * @param streaming `true` for a push producer, `false` for a pull producer.
   * @throws {Error} If a producer is already registered.
   */
  registerProducer(producer: Producer, streaming: boolean): void {
    if (this.producer !== null) {
      throw new Error(
        `Cannot register producer ${nameOf(producer)}: producer ${
          nameOf(this.producer)
        } is still registered`,
      );
    }
    if (this.#lost) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    this.streaming = streaming;
    this.#producerPaused = false;
    if (!streaming) producer.resumeProducing();
  }

  /** Detaches the producer; a pending `loseConnection()` can then complete. */
  unregisterProducer(): void {
    this.producer = null;
    this.#producerPaused = false;
  }

  /** Holds the peer's data back until `resumeProducing()`. */
  pauseProducing(): void {
    this.#readPaused = true;
  }

  /** Delivers the peer's data again. */
  resumeProducing(): void {
    this.#readPaused = false;
  }

  /** Closes the connection, as `loseConnection()`. */
  stopProducing(): void {
    this.loseConnection();
  }

  /** A short description, for messages. */
  toString(): string {
    return `FakeTransport<${this.isServer ? "S" : "C"},${nameOf(this.protocol)}>`;
  }

  #writable(): boolean {
    return !(this.#aborted || this.#peerClosed || this.#lost || this.#writeDisconnecting);
  }

  // Takes what is queued, or null.
  #takeOutput(): Uint8Array | null {
    if (this.#stream.length === 0) return null;
    const data = concat(this.#stream);
    this.#stream = [];
    this.#queued = 0;
    return data;
  }

  // Called once per round, after the queue was taken: feed the producer.
  #checkProducer(): void {
    const producer = this.producer;
    if (producer === null || this.#lost || this.#stream.length > 0) return;
    if (!this.streaming) {
      producer.resumeProducing();
    } else if (this.#producerPaused) {
      this.#producerPaused = false;
      producer.resumeProducing();
    }
  }

  #receive(data: Uint8Array): void {
    if (this.#closeRequested || this.#aborted || this.#peerClosed || this.#lost) return;
    if (this.#eofReceived) return;
    this.protocol.dataReceived(data);
  }

  #report(reason: Error): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#stream = [];
    this.#queued = 0;
    const producer = this.producer;
    this.producer = null;
    producer?.stopProducing();
    this.protocol.connectionLost(new Failure(reason));
  }

  // One end's closing steps for a round; true if something happened.
  static #closeStep(self: FakeTransport, peer: FakeTransport): boolean {
    // Half-close: our queue is delivered, so the peer reads end of stream.
    if (
      self.#writeDisconnecting && !self.#eofSent && self.#stream.length === 0 &&
      !self.#lost && !self.#aborted
    ) {
      self.#eofSent = true;
      self.protocol.writeConnectionLost?.();
      if (!peer.#lost) {
        peer.#eofReceived = true;
        if (typeof peer.protocol.readConnectionLost === "function") {
          peer.protocol.readConnectionLost();
        } else {
          peer.#closeRequested = true;
        }
      }
      return true;
    }
    // Our close reaches the peer: the peer hears of it in this round, and
    // (as the peer's own close then reaches us) we do in the next one.
    if (self.#propagated) return false;
    const closing = self.#aborted || self.#lost ||
      (self.#closeRequested && self.#stream.length === 0 &&
        (self.producer === null || self.streaming));
    if (!closing) return false;
    self.#propagated = true;
    if (!peer.#lost) {
      peer.#peerClosed = true;
      peer.#report(
        peer.#aborted
          ? new ConnectionAborted()
          : self.#aborted
          ? new ConnectionLost()
          : new ConnectionDone(),
      );
    }
    return true;
  }

  static {
    round = (clientIO, serverIO) => {
      const sData = clientIO.#readPaused ? null : serverIO.#takeOutput();
      const cData = serverIO.#readPaused ? null : clientIO.#takeOutput();
      clientIO.#checkProducer();
      serverIO.#checkProducer();
      if (cData !== null) serverIO.#receive(cData);
      if (sData !== null) clientIO.#receive(sData);
      // A close (or half-close) moves one step per round, and not in a round
      // in which the closing side's own bytes moved: they arrive first.
      const stepped = (sData === null && FakeTransport.#closeStep(serverIO, clientIO)) ||
        (cData === null && FakeTransport.#closeStep(clientIO, serverIO));
      return stepped || cData !== null || sData !== null;
    };
  }
}

/** A clock that {@linkcode IOPump} can run the due calls of. */
export interface AdvanceableClock {
  /** Moves time forward by `seconds` and runs the calls then due. */
  advance(seconds: number): void;
}

/**
 * Moves bytes between the two ends of an in-memory connection, when told
 * to: what {@linkcode connectedServerAndClient} returns as `pump`. Nothing
 * moves on its own, so a test decides exactly when each side sees the
 * other's data.
 *
 * @example Stepping a conversation one round at a time
 * ```ts
 * import { Protocol } from "@torsion/torsion/protocols";
 * import { AccumulatingProtocol, connectedServerAndClient } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * class Greeter extends Protocol {
 *   override connectionMade(): void {
 *     this.transport!.write("hello");
 *   }
 * }
 * const { client, pump } = connectedServerAndClient(
 *   () => new Greeter(),
 *   () => new AccumulatingProtocol(),
 *   { greet: false },
 * );
 * assert.equal(client.dataString(), "");
 * assert.equal(pump.pump(), true);
 * assert.equal(client.dataString(), "hello");
 * assert.equal(pump.pump(), false);
 * ```
 */
export class IOPump<C extends ProtocolLike = ProtocolLike, S extends ProtocolLike = ProtocolLike> {
  /** The client protocol. */
  readonly client: C;
  /** The server protocol. */
  readonly server: S;
  /** The client's transport. */
  readonly clientIO: FakeTransport;
  /** The server's transport. */
  readonly serverIO: FakeTransport;
  /** The clock advanced by 0 at the start of each round, or `null`. */
  readonly clock: AdvanceableClock | null;

  /**
   * Joins two connected transports.
   *
   * @param client The client protocol.
   * @param server The server protocol.
   * @param clientIO The client's transport.
   * @param serverIO The server's transport.
   * @param clock Advanced by 0 at the start of each round, if given.
   */
  constructor(
    client: C,
    server: S,
    clientIO: FakeTransport,
    serverIO: FakeTransport,
    clock: AdvanceableClock | null = null,
  ) {
    this.client = client;
    this.server = server;
    this.clientIO = clientIO;
    this.serverIO = serverIO;
    this.clock = clock;
  }

  /**
   * One round: runs the clock's calls due now (`advance(0)`, when there is
   * a clock), takes what each side has queued, feeds the producers, then
   * delivers the bytes each way. A round that moves no bytes moves a
   * closing connection one step instead.
   *
   * @returns Whether anything moved: bytes, or a step of a close.
   * @throws Whatever a protocol or a scheduled call throws.
   */
  pump(): boolean {
    this.clock?.advance(0);
    return round(this.clientIO, this.serverIO);
  }

  /**
   * Pumps until a round moves nothing: every byte delivered and every
   * close reported. A pull producer that always has more keeps the
   * connection busy, so pump a set number of rounds for those.
   *
   * @returns Whether anything moved at all.
   * @throws {Error} `"Too long"` if the connection is still busy after 1000 rounds.
   * @throws Whatever a protocol or a scheduled call throws.
   */
  flush(): boolean {
    let moved = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (!this.pump()) return moved;
      moved = true;
    }
    throw new Error(`Too long: the connection was still busy after ${MAX_ROUNDS} rounds`);
  }
}

/**
 * Where a side of {@linkcode connectedServerAndClient} gets its protocol: a
 * factory (its `buildProtocol` gets the other side's address), a protocol
 * class, or a function returning the protocol.
 */
export type ProtocolSource<P extends ProtocolLike> =
  | { buildProtocol(addr: Address): P | null }
  | (new () => P)
  | (() => P);

/** Options of {@linkcode connectedServerAndClient}. */
export interface ConnectedServerAndClientOptions {
  /**
   * Flush once after connecting, so both sides are past their greetings
   * (default `true`).
   */
  greet?: boolean;
  /**
   * A clock (a `Clock` or `MemoryReactorClock`) advanced by 0 at the start
   * of every round, so calls scheduled with `callLater(0, ...)` run as they
   * would on the reactor's next turn.
   */
  clock?: AdvanceableClock;
  /** The server's address (default `10.0.0.1:12345` over TCP). */
  serverAddress?: Address;
  /** The client's address (default `192.168.1.1:54321` over TCP). */
  clientAddress?: Address;
}

/** What {@linkcode connectedServerAndClient} returns. */
export interface ConnectedServerAndClient<C extends ProtocolLike, S extends ProtocolLike> {
  /** The client protocol, connected. */
  client: C;
  /** The server protocol, connected. */
  server: S;
  /** Moves bytes between them. */
  pump: IOPump<C, S>;
}

const DEFAULT_SERVER: IPAddress = { type: "TCP", host: "10.0.0.1", port: 12345 };
const DEFAULT_CLIENT: IPAddress = { type: "TCP", host: "192.168.1.1", port: 54321 };

function build<P extends ProtocolLike>(source: ProtocolSource<P>, addr: Address, side: string): P {
  let protocol: P | null;
  if (typeof source === "function") {
    // A class (or a plain function) has a prototype and is called with
    // `new`; an arrow function has none and is called.
    protocol = "prototype" in source && source.prototype !== undefined
      ? new (source as new () => P)()
      : (source as () => P)();
  } else {
    protocol = source.buildProtocol(addr);
  }
  if (protocol === null || protocol === undefined) {
    throw new Error(`Cannot connect the ${side}: its factory's buildProtocol() returned null`);
  }
  return protocol;
}

/**
 * Connects a server protocol and a client protocol to each other in memory:
 * the way to test both sides of a conversation, or a client against a real
 * server implementation, with no socket and no waiting. Each side gets a
 * {@linkcode FakeTransport}; the returned `pump` moves bytes between them
 * when told to, and {@linkcode IOPump.flush} runs the conversation until
 * both sides are quiet.
 *
 * The server connects first, then the client (each gets `makeConnection`);
 * unless `greet` is `false`, the pump is then flushed once, so greetings
 * have been exchanged when this returns.
 *
 * The protocols are typed from the sources. A factory made by
 * `Factory.forProtocol(P)` types its side as `ProtocolLike` only (its type
 * is an intersection, whose most general `buildProtocol` TypeScript picks):
 * pass the class `P` itself, or a `Factory<P>` subclass, for a typed result.
 *
 * Divergences from Twisted's `iosim.connectedServerAndClient`: it returns
 * an object rather than a tuple; each side may be a factory, a class or a
 * function; no clock is made unless one is given; there is no `debug`
 * output and no TLS simulation (see {@linkcode FakeTransport}).
 *
 * @typeParam S The server protocol.
 * @typeParam C The client protocol.
 * @param serverSource Builds the server's protocol.
 * @param clientSource Builds the client's protocol.
 * @param options Greeting, clock and addresses.
 * @returns The client and server protocols and the pump between them.
 * @throws {Error} If a factory's `buildProtocol` returns `null`, or
 * `"Too long"` if the greeting never ends.
 *
 * @example An echo server and a client, in memory
 * ```ts
 * import { Protocol } from "@torsion/torsion/protocols";
 * import { AccumulatingProtocol, connectedServerAndClient } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport!.write(data);
 *   }
 * }
 *
 * const { client, server, pump } = connectedServerAndClient(Echo, AccumulatingProtocol);
 * client.transport!.write("ping");
 * pump.flush();
 * assert.equal(client.dataString(), "ping");
 *
 * server.transport!.loseConnection();
 * pump.flush();
 * assert.equal(client.closed, true);
 * assert.equal(client.closedReason?.getErrorMessage(), "Connection was closed cleanly");
 * ```
 */
export function connectedServerAndClient<S extends ProtocolLike, C extends ProtocolLike>(
  serverSource: ProtocolSource<S>,
  clientSource: ProtocolSource<C>,
  options: ConnectedServerAndClientOptions = {},
): ConnectedServerAndClient<C, S> {
  const serverAddress = options.serverAddress ?? DEFAULT_SERVER;
  const clientAddress = options.clientAddress ?? DEFAULT_CLIENT;
  const client = build(clientSource, serverAddress, "client");
  const server = build(serverSource, clientAddress, "server");
  const clientIO = new FakeTransport(client, false, {
    hostAddress: clientAddress,
    peerAddress: serverAddress,
  });
  const serverIO = new FakeTransport(server, true, {
    hostAddress: serverAddress,
    peerAddress: clientAddress,
  });
  server.makeConnection(serverIO);
  client.makeConnection(clientIO);
  const pump = new IOPump(client, server, clientIO, serverIO, options.clock ?? null);
  if (options.greet ?? true) pump.flush();
  return { client, server, pump };
}
