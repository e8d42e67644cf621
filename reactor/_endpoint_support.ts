/**
 * What every endpoint shares: turning a reactor's `listen*` call into a
 * Deferred of the port, and a `connect*` call into a cancellable Deferred
 * of the connected protocol (through {@linkcode OneConnectionFactory}, which
 * builds one protocol and fires once it is connected).
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import type { ReactorTime } from "../defer/time.ts";
import { ConnectingCancelledError, NoProtocol, NotConnectingError } from "./connection_errors.ts";
import type {
  Address,
  ClientFactoryLike,
  Connector,
  FactoryLike,
  ListeningPort,
  ProtocolLike,
  Transport,
} from "./interfaces.ts";

/** Runs a reactor's `listen*` call: a Deferred of the port, or of its error. */
export function listening(listen: () => ListeningPort): Deferred<ListeningPort> {
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

/** Whether the reactor keeps time, so timeouts can run on its clock. */
export function isReactorTime(value: object): value is ReactorTime {
  const time = value as Partial<ReactorTime>;
  return typeof time.seconds === "function" && typeof time.callLater === "function" &&
    typeof time.getDelayedCalls === "function";
}

/** The error of an endpoint whose reactor lacks the method it needs. */
export function missing(method: string): TypeError {
  return new TypeError(`This reactor has no ${method}()`);
}

/**
 * The client factory behind `connect()`: asks the caller's factory for one
 * protocol, and fires the Deferred once it is connected. The protocol itself
 * is handed to the transport (no wrapper on the data path); only its
 * `makeConnection` is intercepted, once.
 */
export class OneConnectionFactory implements ClientFactoryLike {
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
export function connecting(
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
