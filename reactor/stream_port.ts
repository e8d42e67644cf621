/**
 * What every listening stream port does, whatever the socket: accept in a
 * loop, build a protocol per connection (`null` refuses it), start a
 * transport, and stop on request or at the reactor's shutdown. TCP, TLS and
 * UNIX ports differ only in the transport they wrap a connection in and the
 * address type they report.
 *
 * A failed accept is one of two kinds. Most are one connection's problem: a
 * client that connected and reset before it was accepted (`NotConnected`,
 * `ConnectionReset`, `ConnectionAborted`). Those are logged at debug level
 * and the loop accepts the next connection at once, so a client that loops
 * connect-then-reset cannot stall the port for everyone else. The rest, such
 * as running out of file descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM), would
 * fail again at once: the loop pauses 100 ms before trying again and warns at
 * most once every 10 seconds, saying how many failures it skipped.
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import type { ReactorTime } from "../defer/time.ts";
import { _formatAddress, _toAddress, StreamTransport } from "./stream_transport.ts";
import type { Address, FactoryLike, ListeningPort, ProtocolLike } from "./interfaces.ts";
import { Logger } from "./log.ts";

const logger = new Logger("reactor");

/** The longest delay `setTimeout` takes, in milliseconds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Seconds to wait before accepting again after running out of resources. */
const BACKOFF_SECONDS = 0.1;

/** Seconds between two warnings about failing accepts, per port. */
const WARN_INTERVAL_SECONDS = 10;

/**
 * Errors that concern the one connection being accepted, after which the
 * next accept can go ahead at once.
 */
const PER_CONNECTION_ERRORS: readonly (new (...args: never[]) => Error)[] = [
  Deno.errors.NotConnected,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
  Deno.errors.ConnectionRefused,
  Deno.errors.BrokenPipe,
  Deno.errors.TimedOut,
  Deno.errors.InvalidData,
];

/**
 * Whether a failed accept was one connection's problem rather than the
 * listener's (see the module notes).
 *
 * @param error What `accept()` threw.
 * @returns `true` to accept again at once.
 */
export function _isPerConnectionError(error: unknown): boolean {
  return PER_CONNECTION_ERRORS.some((kind) => error instanceof kind);
}

/** Ports listening now, for {@linkcode _stopAllPorts}. */
const ports = new Set<StreamPort<Address>>();

/** The class name of a factory or protocol, for log messages. */
export function _nameOf(value: unknown): string {
  const name = (value as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name !== "" ? name : "factory";
}

/**
 * Runs `fn` after `seconds`, on `clock` if given, else on a timer.
 *
 * @returns A function that cancels it.
 */
export function _schedule(
  seconds: number,
  fn: () => void,
  clock: ReactorTime | undefined,
): () => void {
  if (clock !== undefined) {
    const call = clock.callLater(seconds, fn);
    return () => {
      if (call.active()) call.cancel();
    };
  }
  const ms = seconds * 1000;
  if (ms > MAX_TIMER_MS) return () => {};
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
}

/**
 * A listening stream port serving a factory: the shared part of
 * `TCPPort`, `TLSPort` and `UNIXPort`.
 */
export class StreamPort<A extends Address> implements ListeningPort {
  readonly #listener: Deno.Listener;
  readonly #factory: FactoryLike;
  readonly #host: A;
  readonly #clock: ReactorTime | undefined;
  readonly #accepting: Promise<void>;
  #stopping: Promise<void> | undefined;
  #cancelBackoff: (() => void) | undefined;
  #endBackoff: (() => void) | undefined;
  #lastWarning = -Infinity;
  #unreported = 0;

  /**
   * Starts accepting on a bound listener.
   *
   * @param listener The bound listener.
   * @param factory The factory for accepted connections, already started.
   * @param clock Schedules the pause after a failed accept and spaces the
   *   warnings about them.
   */
  constructor(listener: Deno.Listener, factory: FactoryLike, clock?: ReactorTime) {
    this.#listener = listener;
    this.#factory = factory;
    this.#clock = clock;
    this.#host = _toAddress(listener.addr) as A;
    ports.add(this);
    this.#accepting = this.#acceptLoop();
  }

  /**
   * The address the port is bound to, with the real port number when 0 was
   * asked for.
   *
   * @returns The address.
   */
  getHost(): A {
    return this.#host;
  }

  /**
   * Wraps an accepted connection; subclasses give their own transport.
   *
   * @param conn The connection.
   * @param protocol Its protocol.
   * @returns The transport, not yet started.
   */
  protected makeTransport(conn: Deno.Conn, protocol: ProtocolLike): StreamTransport {
    return new StreamTransport(conn, protocol);
  }

  /**
   * Stops accepting connections (connections already accepted carry on).
   * Calling it again gives the same outcome.
   *
   * @returns A Deferred that fires once the listener is closed and the
   *   factory's `doStop()` has run.
   */
  stopListening(): Deferred<void> {
    if (this.#stopping === undefined) {
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
      this.#cancelBackoff?.();
      this.#endBackoff?.();
      this.#stopping = this.#accepting.then(() => {
        ports.delete(this);
        this.#factory.doStop();
      });
    }
    return Deferred.fromPromise(this.#stopping);
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#stopping !== undefined || error instanceof Deno.errors.BadResource) return;
        if (_isPerConnectionError(error)) {
          logger.debug(`${this.#describe()}: a connection was lost before it was accepted`, error);
          continue;
        }
        this.#warnRateLimited(error);
        await new Promise<void>((resolve) => {
          this.#endBackoff = resolve;
          this.#cancelBackoff = _schedule(BACKOFF_SECONDS, resolve, this.#clock);
        });
        this.#cancelBackoff = this.#endBackoff = undefined;
        continue;
      }
      if (this.#stopping !== undefined) {
        conn.close();
        return;
      }
      this.#accepted(conn);
    }
  }

  #describe(): string {
    return `${_nameOf(this.#factory)} on ${_formatAddress(this.#host)}`;
  }

  /** Warns about a failed accept, at most once per interval per port. */
  #warnRateLimited(error: unknown): void {
    const now = this.#clock?.seconds() ?? performance.now() / 1000;
    if (now - this.#lastWarning < WARN_INTERVAL_SECONDS) {
      this.#unreported++;
      return;
    }
    const skipped = this.#unreported === 0
      ? ""
      : ` (${this.#unreported} more failed since the last warning)`;
    logger.warn(
      `${this.#describe()} could not accept a connection, pausing ${
        BACKOFF_SECONDS * 1000
      } ms${skipped}: ${error instanceof Error ? error.message : String(error)}`,
    );
    this.#lastWarning = now;
    this.#unreported = 0;
  }

  #accepted(conn: Deno.Conn): void {
    const peer = _toAddress(conn.remoteAddr);
    let protocol: ProtocolLike | null;
    try {
      protocol = this.#factory.buildProtocol(peer);
    } catch (error) {
      logger.error(
        `Unhandled error in ${_nameOf(this.#factory)}.buildProtocol() for ${_formatAddress(peer)}`,
        error,
      );
      protocol = null;
    }
    if (protocol === null || protocol === undefined) {
      conn.close();
      return;
    }
    this.makeTransport(conn, protocol).start();
  }
}

/**
 * Stops every listening stream port, for the reactor's shutdown.
 *
 * @returns One promise per port, settled when it has stopped.
 */
export function _stopAllPorts(): Promise<void>[] {
  return [...ports].map((port) =>
    port.stopListening().asPromise().catch((error) => {
      logger.error("Unhandled error while stopping a port", error);
    })
  );
}
