/**
 * What every stream client connection does, whatever the socket: Twisted's
 * `Connector` life cycle (connect, time out, stop, fail, connect again) and
 * the factory calls that go with it. TCP, TLS and UNIX connectors differ
 * only in how they dial, how they name a failure, and the transport they
 * wrap the connection in.
 *
 * @module
 */
import { TimeoutError } from "../defer/errors.ts";
import { Failure } from "../defer/failure.ts";
import type { ReactorTime } from "../defer/time.ts";
import { _nameOf, _schedule } from "./stream_port.ts";
import { _formatAddress, _toAddress, StreamTransport } from "./stream_transport.ts";
import { NotConnectingError, UserError } from "./connection_errors.ts";
import type {
  Address,
  ClientFactoryLike,
  Connector,
  ConnectorState,
  ProtocolLike,
  Transport,
} from "./interfaces.ts";
import { Logger } from "./log.ts";

const logger = new Logger("reactor");

/** Connectors with an attempt under way, for {@linkcode _stopAllConnecting}. */
const connecting = new Set<StreamConnector<Address>>();
/** Dials not yet settled (some already given up on). */
const unsettled = new Set<Promise<void>>();

/** What an attempt in flight holds. */
interface Attempt {
  readonly controller: AbortController;
  cancelTimer: () => void;
}

/** A protocol for a connection whose factory returned `null`. */
class NoProtocolYet implements ProtocolLike {
  makeConnection(_transport: Transport): void {}
  dataReceived(_data: Uint8Array): void {}
  connectionLost(_reason: Failure): void {}
}

/**
 * A client connection that can be made again: the shared part of
 * `TCPConnector`, `TLSConnector` and `UNIXConnector`. It drives the factory:
 * `startedConnecting(connector)` when an attempt starts,
 * `clientConnectionFailed(connector, reason)` when it fails,
 * `buildProtocol(peer)` when it succeeds and
 * `clientConnectionLost(connector, reason)` when the connection ends, always
 * with this same connector. A factory may call `connect()` again from those
 * last two (that is how reconnecting factories work); if it does not, the
 * connector calls the factory's `doStop()`.
 */
export abstract class StreamConnector<A extends Address> implements Connector {
  readonly #factory: ClientFactoryLike;
  readonly #timeout: number;
  readonly #clock: ReactorTime | undefined;
  #state: ConnectorState = "disconnected";
  #factoryStarted = false;
  #attempt: Attempt | undefined;
  #transport: StreamTransport | undefined;

  /**
   * Makes a connector in the `"disconnected"` state.
   *
   * @param factory The client factory.
   * @param timeout Seconds before an attempt fails with `TimeoutError`.
   * @param clock Schedules the timeout (default: timers).
   */
  constructor(factory: ClientFactoryLike, timeout: number, clock?: ReactorTime) {
    this.#factory = factory;
    this.#timeout = timeout;
    this.#clock = clock;
  }

  /**
   * Where this connector connects to.
   *
   * @returns The address, as given.
   */
  abstract getDestination(): A;

  /**
   * Opens the connection.
   *
   * @param signal Aborted when the attempt is given up on.
   * @returns The connection.
   */
  protected abstract dial(signal: AbortSignal): Promise<Deno.Conn>;

  /**
   * Names a failed dial with the class a factory checks for.
   *
   * @param error What `dial` threw.
   * @returns The error to report.
   */
  protected abstract failure(error: unknown): Error;

  /**
   * Wraps the connection; subclasses give their own transport.
   *
   * @param conn The connection.
   * @param protocol Its protocol.
   * @param onConnectionLost Tells the connector when it ends.
   * @returns The transport, not yet started.
   */
  protected makeTransport(
    conn: Deno.Conn,
    protocol: ProtocolLike,
    onConnectionLost: (reason: Failure) => void,
  ): StreamTransport {
    return new StreamTransport(conn, protocol, { onConnectionLost });
  }

  /** `"disconnected"`, `"connecting"` or `"connected"`. */
  get state(): ConnectorState {
    return this.#state;
  }

  /**
   * Starts an attempt: `factory.doStart()` (unless already started), then
   * `factory.startedConnecting(this)`, both before this returns.
   *
   * @throws {Error} Unless the connector is disconnected.
   */
  connect(): void {
    if (this.#state !== "disconnected") {
      throw new Error(`Cannot connect: the connector's state is ${this.#state}`);
    }
    this.#state = "connecting";
    if (!this.#factoryStarted) {
      this.#factory.doStart();
      this.#factoryStarted = true;
    }
    const attempt: Attempt = { controller: new AbortController(), cancelTimer: () => {} };
    this.#attempt = attempt;
    connecting.add(this);
    if (this.#timeout !== Infinity) {
      const seconds = this.#timeout;
      attempt.cancelTimer = _schedule(
        seconds,
        () => this.#fail(attempt, new TimeoutError(seconds, `Connecting to ${this.#describe()}`)),
        this.#clock,
      );
    }
    let pending: Promise<Deno.Conn>;
    try {
      pending = this.dial(attempt.controller.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    const settled: Promise<void> = pending.then(
      (conn) => this.#connected(attempt, conn),
      (error) => this.#fail(attempt, this.failure(error)),
    ).catch((error) => {
      logger.error(`Unhandled error while connecting to ${this.#describe()}`, error);
    }).finally(() => unsettled.delete(settled));
    unsettled.add(settled);
    this.#callFactory("startedConnecting", () => this.#factory.startedConnecting?.(this));
  }

  /**
   * Stops the attempt under way; the factory's `clientConnectionFailed` gets
   * `UserError` before this returns.
   *
   * @throws {NotConnectingError} Unless the connector is connecting.
   */
  stopConnecting(): void {
    if (this.#state !== "connecting" || this.#attempt === undefined) {
      throw new NotConnectingError(this.#state);
    }
    this.#state = "disconnected";
    this.#fail(this.#attempt, new UserError());
  }

  /** Stops the attempt (as `stopConnecting()`) or closes the connection (as `loseConnection()`). */
  disconnect(): void {
    if (this.#state === "connecting") this.stopConnecting();
    else if (this.#state === "connected") this.#transport?.loseConnection();
  }

  #describe(): string {
    return _formatAddress(this.getDestination());
  }

  #callFactory(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      logger.error(`Unhandled error in ${_nameOf(this.#factory)}.${what}()`, error);
    }
  }

  /** Gives up on `attempt` (if it is still the current one) with `error`. */
  #fail(attempt: Attempt, error: Error): void {
    if (this.#attempt !== attempt) return;
    this.#attempt = undefined;
    connecting.delete(this);
    attempt.cancelTimer();
    attempt.controller.abort(error);
    this.#state = "disconnected";
    const reason = new Failure(error);
    this.#callFactory("clientConnectionFailed", () => {
      this.#factory.clientConnectionFailed?.(this, reason);
    });
    this.#stopFactoryUnlessReconnecting();
  }

  #connected(attempt: Attempt, conn: Deno.Conn): void {
    if (this.#attempt !== attempt) {
      // Given up on (timeout, stopConnecting) while it was connecting.
      conn.close();
      return;
    }
    this.#attempt = undefined;
    connecting.delete(this);
    attempt.cancelTimer();
    this.#state = "connected";
    let protocol: ProtocolLike | null;
    try {
      protocol = this.#factory.buildProtocol(_toAddress(conn.remoteAddr));
    } catch (error) {
      logger.error(`Unhandled error in ${_nameOf(this.#factory)}.buildProtocol()`, error);
      conn.close();
      this.#state = "disconnected";
      const reason = new Failure(error);
      this.#callFactory("clientConnectionFailed", () => {
        this.#factory.clientConnectionFailed?.(this, reason);
      });
      this.#stopFactoryUnlessReconnecting();
      return;
    }
    const transport = this.makeTransport(
      conn,
      protocol ?? new NoProtocolYet(),
      (reason) => this.#connectionLost(transport, reason),
    );
    this.#transport = transport;
    transport.start();
    // As in Twisted: a factory that returns null gets a connection that
    // closes at once, and clientConnectionLost with ConnectionDone.
    if (protocol === null || protocol === undefined) transport.loseConnection();
  }

  #connectionLost(transport: StreamTransport, reason: Failure): void {
    if (this.#transport !== transport) return;
    this.#transport = undefined;
    this.#state = "disconnected";
    this.#callFactory("clientConnectionLost", () => {
      this.#factory.clientConnectionLost?.(this, reason);
    });
    this.#stopFactoryUnlessReconnecting();
  }

  #stopFactoryUnlessReconnecting(): void {
    if (this.#state === "disconnected" && this.#factoryStarted) {
      this.#factoryStarted = false;
      this.#callFactory("doStop", () => this.#factory.doStop());
    }
  }
}

/**
 * Stops every connection attempt, for the reactor's shutdown.
 *
 * @returns The dials still in flight, settled when they have.
 */
export function _stopAllConnecting(): Promise<void>[] {
  for (const connector of [...connecting]) {
    if (connector.state === "connecting") connector.stopConnecting();
  }
  return [...unsettled];
}

/**
 * Checks a connect timeout.
 *
 * @param timeout Seconds, or `undefined` for the default 30.
 * @returns The timeout.
 * @throws {RangeError} Unless a number of seconds, 0 or more.
 */
export function _connectTimeout(timeout: number | undefined): number {
  const seconds = timeout ?? 30;
  if (typeof seconds !== "number" || Number.isNaN(seconds) || seconds < 0) {
    throw new RangeError(`Timeout must be a number of seconds, 0 or more, not ${seconds}`);
  }
  return seconds;
}
