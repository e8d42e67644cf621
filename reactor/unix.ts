/**
 * UNIX domain stream sockets for the reactor, over `Deno.listen` and
 * `Deno.connect` with `transport: "unix"`: the same ports, connectors and
 * transports as TCP, addressed by a path.
 *
 * @module
 */
import type { ReactorTime } from "../defer/time.ts";
import { _connectTimeout, StreamConnector } from "./stream_connector.ts";
import { StreamPort } from "./stream_port.ts";
import { CannotListenError, ConnectError, ConnectionRefusedError } from "./connection_errors.ts";
import type { ClientFactoryLike, FactoryLike, UNIXAddress } from "./interfaces.ts";

/** Options for {@linkcode listenUNIX}. */
export interface ListenUNIXOptions {
  /** How many connections the kernel queues before they are accepted (default 50). */
  backlog?: number;
  /** The socket file's permissions, applied after binding (default `0o666`). */
  mode?: number;
  /**
   * Twisted's PID lock file next to the socket. Not supported: giving
   * `true` throws a `TypeError` rather than listening without the lock.
   */
  wantPID?: boolean;
}

/** Options for {@linkcode connectUNIX}. */
export interface ConnectUNIXOptions {
  /** Seconds before the attempt fails with `TimeoutError` (default 30). */
  timeout?: number;
  /**
   * Twisted's check of the server's PID lock file. Not supported: giving
   * `true` throws a `TypeError`.
   */
  checkPID?: boolean;
}

function checkPath(path: string): void {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`A UNIX socket path must be a non-empty string, not ${String(path)}`);
  }
}

/**
 * A UNIX socket accepting connections for a factory, as returned by
 * {@linkcode listenUNIX}. Stopping it removes the socket file (Deno does,
 * as Twisted does).
 *
 * @example
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const port = reactor.listenUNIX("/tmp/app.sock", factory);
 * await port.stopListening();
 * ```
 */
export class UNIXPort extends StreamPort<UNIXAddress> {}

/**
 * Listens on a UNIX socket at `path`, serving each connection with a
 * protocol from `factory`, as {@linkcode listenTCP} does for TCP. The
 * socket is bound before this returns.
 *
 * Divergences from Twisted: `wantPID` (the lock file) is not supported, and
 * an existing socket file, even one left by a process that died, makes
 * binding fail with `CannotListenError` (Twisted's `wantPID` would clean it
 * up): remove it first.
 *
 * @param path The socket file's path.
 * @param factory Builds a protocol for each connection (`null` refuses it).
 * @param options `backlog` (50), `mode` (`0o666`).
 * @param clock Schedules the pause after a failed accept (default: timers).
 * @returns The listening port.
 * @throws {CannotListenError} If the path cannot be bound (in use, no such
 *   directory, not allowed), with the Deno error as `cause`.
 * @throws {TypeError} For an empty path or `wantPID`.
 *
 * @example
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const port = reactor.listenUNIX("/tmp/echo.sock", factory, { mode: 0o600 });
 * ```
 */
export function listenUNIX(
  path: string,
  factory: FactoryLike,
  options: ListenUNIXOptions = {},
  clock?: ReactorTime,
): UNIXPort {
  checkPath(path);
  if (options.wantPID) {
    throw new TypeError("wantPID (a PID lock file next to the socket) is not supported");
  }
  const mode = options.mode ?? 0o666;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new RangeError(`mode must be a file mode from 0 to 0o7777, not ${mode}`);
  }
  let listener: Deno.UnixListener;
  try {
    listener = Deno.listen({ transport: "unix", path });
  } catch (error) {
    throw new CannotListenError("", path, { cause: error });
  }
  try {
    Deno.chmodSync(path, mode);
    factory.doStart();
  } catch (error) {
    listener.close();
    if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotFound) {
      throw new CannotListenError("", path, { cause: error });
    }
    throw error;
  }
  return new UNIXPort(listener, factory, clock);
}

/**
 * A UNIX socket client connection that can be made again, as returned by
 * {@linkcode connectUNIX}: the same life cycle as a TCP connector.
 *
 * @example
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const connector = reactor.connectUNIX("/tmp/echo.sock", clientFactory);
 * connector.disconnect();
 * ```
 */
export class UNIXConnector extends StreamConnector<UNIXAddress> {
  readonly #path: string;

  /**
   * Makes a connector in the `"disconnected"` state; {@linkcode connectUNIX}
   * makes one and connects it.
   *
   * @param path The socket's path.
   * @param factory The client factory.
   * @param timeout Seconds before an attempt fails with `TimeoutError`.
   * @param clock Schedules the timeout (default: timers).
   */
  constructor(path: string, factory: ClientFactoryLike, timeout: number, clock?: ReactorTime) {
    super(factory, timeout, clock);
    this.#path = path;
  }

  /**
   * Where this connector connects to.
   *
   * @returns The socket's path.
   */
  getDestination(): UNIXAddress {
    return { type: "UNIX", path: this.#path };
  }

  /**
   * Opens the connection.
   *
   * @returns The connection.
   */
  protected dial(): Promise<Deno.Conn> {
    return Deno.connect({ transport: "unix", path: this.#path });
  }

  /**
   * Names a failed connect: nothing listening is a refusal, as in Twisted.
   *
   * @param error What `Deno.connect` threw.
   * @returns The error to report.
   */
  protected failure(error: unknown): Error {
    const path = this.#path;
    if (
      error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.ConnectionReset
    ) {
      return new ConnectionRefusedError(`Connection to ${path} was refused`, { cause: error });
    }
    if (error instanceof Deno.errors.NotFound) {
      return new ConnectError(`No UNIX socket at ${path}`, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new ConnectError(`Connecting to ${path} failed: ${message}`, { cause: error });
  }
}

/**
 * Connects to the UNIX socket at `path`, as {@linkcode connectTCP} does for
 * TCP: the factory hears `startedConnecting`, then `buildProtocol` or
 * `clientConnectionFailed` (`ConnectionRefusedError` when nothing listens,
 * `ConnectError` when there is no such socket, `TimeoutError`), and later
 * `clientConnectionLost`.
 *
 * @param path The socket's path.
 * @param factory The client factory.
 * @param options `timeout` in seconds (default 30).
 * @param clock Schedules the timeout (default: timers).
 * @returns The connector, already connecting.
 * @throws {TypeError} For an empty path or `checkPID`.
 * @throws {RangeError} For a bad timeout.
 *
 * @example
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * reactor.connectUNIX("/tmp/echo.sock", clientFactory, { timeout: 5 });
 * ```
 */
export function connectUNIX(
  path: string,
  factory: ClientFactoryLike,
  options: ConnectUNIXOptions = {},
  clock?: ReactorTime,
): UNIXConnector {
  checkPath(path);
  if (options.checkPID) {
    throw new TypeError(
      "checkPID (lockfile=1 in a description: checking the server's PID lock file) is not " +
        "supported: torsion's UNIX servers write no lock file to check",
    );
  }
  const connector = new UNIXConnector(path, factory, _connectTimeout(options.timeout), clock);
  connector.connect();
  return connector;
}
