import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import type { Address, ClientFactoryLike, Connector, ProtocolLike } from "../reactor/interfaces.ts";
import type { ConnectTCPOptions } from "../reactor/tcp.ts";
import { ClientFactory } from "./factory.ts";

/**
 * What {@linkcode ClientCreator} needs of a reactor: TCP connections, and
 * `callLater` to fire its Deferred on a later turn. The reactor provides
 * both; a test passes a fake.
 */
export interface TCPClientReactor extends Pick<ReactorTime, "callLater"> {
  /**
   * Starts connecting to `host:port`, reporting to `factory`.
   *
   * @param host The host name or address.
   * @param port The port.
   * @param factory Builds the protocol and hears how the attempt went.
   * @param options Timeout and local address.
   * @returns The connector of the attempt.
   */
  connectTCP(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    options?: ConnectTCPOptions,
  ): Connector;
}

// The one-shot factory of one ClientCreator attempt: hands out the protocol
// it was given, and settles the Deferred on the reactor's next turn, once
// the transport has called makeConnection (and so connectionMade).
class InstanceFactory<P extends ProtocolLike> extends ClientFactory<P> {
  pending: DelayedCall | null = null;
  #reactor: TCPClientReactor;
  #instance: P;
  #deferred: Deferred<P> | null;

  constructor(reactor: TCPClientReactor, instance: P, deferred: Deferred<P>) {
    super();
    this.#reactor = reactor;
    this.#instance = instance;
    this.#deferred = deferred;
  }

  override buildProtocol(_addr: Address): P {
    const d = this.#deferred;
    this.#deferred = null;
    if (d !== null) this.#settle(() => d.callback(this.#instance));
    return this.#instance;
  }

  override clientConnectionFailed(_connector: Connector, reason: Failure): void {
    const d = this.#deferred;
    this.#deferred = null;
    if (d !== null) this.#settle(() => d.errback(reason));
  }

  #settle(fire: () => void): void {
    this.pending = this.#reactor.callLater(0, () => {
      this.pending = null;
      fire();
    });
  }
}

/**
 * Connects one protocol instance without writing a factory: for clients
 * that share no state between connections and never reconnect.
 * `connectTCP` gives a Deferred of the connected protocol, so the code that
 * uses it reads top to bottom.
 *
 * The protocol is made at once with the constructor arguments given here;
 * the Deferred fires with it on the reactor's turn after the connection is
 * made, so its `connectionMade` has already run. If the attempt fails, the
 * Deferred fails with the connector's reason (`ConnectionRefusedError`,
 * `DNSLookupError`, `TimeoutError`...).
 *
 * Cancelling the Deferred calls `connector.disconnect()`, which stops the
 * attempt, or closes the connection if it was made in the meantime, and the
 * Deferred fails with defer's `CancelledError` (as Twisted's ClientCreator;
 * the endpoints' `connect` fails with `ConnectingCancelledError` instead).
 *
 * Divergences from Twisted: only `connectTCP` exists so far (no
 * `connectUNIX` or `connectSSL`); options come in an object; the protocol's
 * constructor takes positional arguments only.
 *
 * @typeParam P The protocol class's instances.
 * @typeParam A The protocol constructor's arguments.
 *
 * @example Connecting, then using the protocol
 * ```ts ignore
 * import { ClientCreator, Protocol } from "@torsion/torsion/protocols";
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * class Greeter extends Protocol {
 *   constructor(readonly name: string) {
 *     super();
 *   }
 *   greet(): void {
 *     this.transport!.write(`HELLO ${this.name}\r\n`);
 *   }
 * }
 *
 * const creator = new ClientCreator(reactor, Greeter, "alice");
 * const greeter = await creator.connectTCP("127.0.0.1", 1234, { timeout: 5 });
 * greeter.greet();
 * ```
 */
export class ClientCreator<P extends ProtocolLike, A extends unknown[] = []> {
  /** The reactor that connects. */
  readonly reactor: TCPClientReactor;
  /** The protocol class to instantiate for each connection. */
  readonly protocolClass: new (...args: A) => P;
  /** The arguments for its constructor. */
  readonly args: A;

  /**
   * Keeps what each `connectTCP` needs: no connection is made yet.
   *
   * @param reactor What connects: the reactor, or a fake in tests.
   * @param protocolClass The protocol class.
   * @param args Arguments for its constructor.
   */
  constructor(reactor: TCPClientReactor, protocolClass: new (...args: A) => P, ...args: A) {
    this.reactor = reactor;
    this.protocolClass = protocolClass;
    this.args = args;
  }

  /**
   * Connects a new instance of the protocol to a TCP server.
   *
   * @param host The host name or address.
   * @param port The port.
   * @param options Timeout (default 30 seconds) and local address, as for
   * `reactor.connectTCP`.
   * @returns A Deferred that fires with the protocol once it is connected,
   * or fails with the reason of the failed attempt; cancelling it abandons
   * the attempt and fails it with `CancelledError`.
   */
  connectTCP(host: string, port: number, options: ConnectTCPOptions = {}): Deferred<P> {
    let factory: InstanceFactory<P> | null = null;
    let connector: Connector | null = null;
    const d = new Deferred<P>(() => {
      connector?.disconnect();
      const pending = factory?.pending;
      if (pending != null && pending.active()) pending.cancel();
    });
    factory = new InstanceFactory(this.reactor, new this.protocolClass(...this.args), d);
    connector = this.reactor.connectTCP(host, port, factory, options);
    return d;
  }
}
