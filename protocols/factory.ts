import type { Failure } from "../defer/failure.ts";
import type {
  Address,
  ClientFactoryLike,
  Connector,
  FactoryLike,
  ProtocolLike,
} from "../reactor/interfaces.ts";

/**
 * A protocol class, or a function that returns a new protocol: what
 * {@linkcode Factory.protocol} holds.
 *
 * @typeParam P The protocol made.
 */
export type ProtocolMaker<P extends ProtocolLike> = (new () => P) | (() => P);

// Whether `new f()` is allowed, found without calling f: Reflect.construct
// checks that its third argument is a constructor before anything runs.
function isConstructor(f: unknown): boolean {
  try {
    Reflect.construct(Object, [], f as new () => unknown);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes a protocol for each connection and holds what those connections
 * share (configuration, a user table, a database handle): protocols are
 * short-lived, one per connection; the factory outlives them all.
 *
 * Give it a protocol class, with {@linkcode Factory.forProtocol} or by
 * setting {@linkcode Factory.protocol}; {@linkcode Factory.buildProtocol}
 * makes one per connection and points its `factory` field back here.
 * Override `buildProtocol` to pass arguments to the protocol, or return
 * `null` to refuse a connection. A port calls {@linkcode Factory.doStart}
 * when it starts using the factory and {@linkcode Factory.doStop} when it
 * stops; {@linkcode Factory.startFactory} and {@linkcode Factory.stopFactory}
 * run only on the first start and the last stop, however many ports share
 * the factory.
 *
 * The type parameter `P` is the protocol it builds, so
 * `Factory.forProtocol(Echo).buildProtocol(addr)` is typed `Echo | null`.
 *
 * Divergences from Twisted: `forProtocol` passes its extra arguments to the
 * factory's constructor, as Twisted does, but takes no keyword arguments;
 * `doStop()` without a matching `doStart()` throws instead of being ignored;
 * there is no `noisy` flag and nothing is logged on start or stop.
 *
 * @typeParam P The protocol this factory builds.
 *
 * @example A server factory that counts its connections
 * ```ts
 * import { Factory, Protocol, type Transport } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class Counting extends Protocol {
 *   declare factory: CountingFactory | null;
 *   override connectionMade(): void {
 *     this.factory!.connections++;
 *   }
 * }
 * class CountingFactory extends Factory<Counting> {
 *   override protocol = Counting;
 *   connections = 0;
 * }
 *
 * const factory = new CountingFactory();
 * const p = factory.buildProtocol({ type: "TCP", host: "127.0.0.1", port: 5000 });
 * assert.ok(p instanceof Counting);
 * assert.equal(p.factory, factory);
 * p.makeConnection({} as Transport);
 * assert.equal(factory.connections, 1);
 * ```
 */
export class Factory<P extends ProtocolLike = ProtocolLike> implements FactoryLike {
  /**
   * What {@linkcode Factory.buildProtocol} makes each protocol with: a
   * protocol class, instantiated with no arguments, or (Twisted's "any
   * callable") a function that returns a protocol, such as `() => new
   * Echo(options)`; `null` until set. A subclass sets it with a field:
   * `override protocol = MyProtocol;`.
   *
   * The two are told apart by whether `new` accepts the value: a class or a
   * `function` is used with `new` (a `function` that returns an object gives
   * that object, so `function () { return p; }` works too), and an arrow
   * function, method or async function, which `new` refuses, is called.
   */
  protocol: ProtocolMaker<P> | null = null;
  #maker: ProtocolMaker<P> | null = null;
  #construct = true;

  /** How many ports use the factory: `doStart()` minus `doStop()` calls. */
  numPorts: number = 0;

  /**
   * Makes a factory of this class (`this`, so `ClientFactory.forProtocol`
   * makes a ClientFactory) and sets its `protocol`: the short way to serve a
   * protocol that needs no shared state.
   *
   * @param protocol The protocol class to build for each connection, or a
   *   function that returns a protocol (see {@linkcode Factory.protocol}).
   * @param args Arguments for the factory's constructor (not the protocol's).
   * @returns The new factory, typed to build `protocol`.
   *
   * @example A factory for one protocol
   * ```ts
   * import { Factory, Protocol } from "@torsion/torsion/protocols";
   * import assert from "node:assert/strict";
   *
   * class Echo extends Protocol {}
   * const factory = Factory.forProtocol(Echo);
   * const p = factory.buildProtocol({ type: "TCP", host: "::1", port: 7 });
   * assert.ok(p instanceof Echo);
   * ```
   */
  static forProtocol<
    Q extends ProtocolLike,
    A extends unknown[],
    F extends Factory<ProtocolLike>,
  >(
    this: new (...args: A) => F,
    protocol: ProtocolMaker<Q>,
    ...args: A
  ): Factory<Q> & F {
    const factory = new this(...args) as Factory<Q> & F;
    factory.protocol = protocol;
    return factory;
  }

  /**
   * Names this factory in log messages.
   *
   * @returns The class name.
   */
  logPrefix(): string {
    return this.constructor.name;
  }

  /**
   * Called by a port when it starts using the factory; calls
   * {@linkcode Factory.startFactory} if no other port uses it yet. Users do
   * not call it.
   */
  doStart(): void {
    if (this.numPorts === 0) this.startFactory();
    this.numPorts++;
  }

  /**
   * Called by a port when it stops using the factory; calls
   * {@linkcode Factory.stopFactory} when the last port stops. Users do not
   * call it.
   *
   * @throws {Error} If the factory is not started (Twisted ignores this call).
   */
  doStop(): void {
    if (this.numPorts === 0) {
      throw new Error(`Cannot stop ${this.logPrefix()}: doStop() called without doStart()`);
    }
    this.numPorts--;
    if (this.numPorts === 0) this.stopFactory();
  }

  /**
   * Called once before the first port or connector starts using the factory:
   * the place to open files or connect to a database. Does nothing by
   * default.
   */
  startFactory(): void {}

  /**
   * Called once after the last port or connector stops using the factory:
   * the place to close what `startFactory` opened. Does nothing by default.
   */
  stopFactory(): void {}

  /**
   * Makes the protocol for a new connection: an instance of
   * {@linkcode Factory.protocol}, whose `factory` field (when it has one, as
   * every {@linkcode Protocol} does) is set to this factory. Override it to
   * build the protocol differently, or to refuse connections.
   *
   * @param addr The address of the peer.
   * @returns The protocol, or `null` to close the connection at once.
   * @throws {TypeError} If `protocol` is not set.
   */
  // deno-lint-ignore no-unused-vars
  buildProtocol(addr: Address): P | null {
    const maker = this.protocol;
    if (maker === null) {
      throw new TypeError(
        `${this.logPrefix()}.protocol is not set: set it, or override buildProtocol()`,
      );
    }
    if (maker !== this.#maker) {
      this.#maker = maker;
      this.#construct = isConstructor(maker);
    }
    const p = this.#construct ? new (maker as new () => P)() : (maker as () => P)();
    if ("factory" in p) (p as { factory: unknown }).factory = this;
    return p;
  }
}

/**
 * A factory meant for servers only. It adds nothing to
 * {@linkcode Factory}; subclassing it says which side the factory is for.
 *
 * @typeParam P The protocol this factory builds.
 *
 * @example Serving a protocol
 * ```ts
 * import { Protocol, ServerFactory } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class Greeter extends Protocol {
 *   override connectionMade(): void {
 *     this.transport!.write("hello\r\n");
 *     this.transport!.loseConnection();
 *   }
 * }
 * const factory = ServerFactory.forProtocol(Greeter);
 * assert.ok(factory instanceof ServerFactory);
 * ```
 */
export class ServerFactory<P extends ProtocolLike = ProtocolLike> extends Factory<P> {}

/**
 * A factory for client connections: on top of {@linkcode Factory}, it hears
 * how each connection attempt went. Pass it to `reactor.connectTCP`; the
 * connector calls {@linkcode ClientFactory.startedConnecting} when it starts,
 * then either {@linkcode ClientFactory.clientConnectionFailed} or (after the
 * protocol has run) {@linkcode ClientFactory.clientConnectionLost}. Calling
 * `connector.connect()` from either of the last two reconnects; see
 * {@linkcode ReconnectingClientFactory} for a factory that does so with a
 * back-off.
 *
 * @typeParam P The protocol this factory builds.
 *
 * @example Reporting a failed connection
 * ```ts ignore
 * import { ClientFactory, type Connector, Protocol } from "@torsion/torsion/protocols";
 * import type { Failure } from "@torsion/torsion/defer";
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * class Client extends Protocol {
 *   override connectionMade(): void {
 *     this.transport!.write("PING\r\n");
 *   }
 * }
 * class ClientFactoryWithReport extends ClientFactory<Client> {
 *   override protocol = Client;
 *   override clientConnectionFailed(_connector: Connector, reason: Failure): void {
 *     console.error(`Connection failed: ${reason.getErrorMessage()}`);
 *   }
 * }
 * reactor.connectTCP("127.0.0.1", 6379, new ClientFactoryWithReport());
 * ```
 */
export class ClientFactory<P extends ProtocolLike = ProtocolLike> extends Factory<P>
  implements ClientFactoryLike {
  /**
   * Called when a connection attempt starts; `connector.stopConnecting()`
   * abandons it. Does nothing by default.
   *
   * @param connector The connector making the attempt.
   */
  // deno-lint-ignore no-unused-vars
  startedConnecting(connector: Connector): void {}

  /**
   * Called when a connection attempt fails; `connector.connect()` tries
   * again. Does nothing by default.
   *
   * @param connector The connector that failed.
   * @param reason Why: `ConnectionRefusedError`, `DNSLookupError`,
   * `TimeoutError`, `UserError` after `stopConnecting()`...
   */
  // deno-lint-ignore no-unused-vars
  clientConnectionFailed(connector: Connector, reason: Failure): void {}

  /**
   * Called when an established connection is lost, after the protocol's
   * `connectionLost`; `connector.connect()` reconnects. Does nothing by
   * default.
   *
   * @param connector The connector of the lost connection.
   * @param reason Why: `ConnectionDone` for a clean close.
   */
  // deno-lint-ignore no-unused-vars
  clientConnectionLost(connector: Connector, reason: Failure): void {}
}
