/**
 * Errors of connections, ports and connectors: why a connection ended, why a
 * port could not listen, why a connection attempt failed. Each class has its
 * `name` set, so a `Failure` can be checked by class or by name
 * (`reason.check("ConnectionDone")`), and keeps the Deno error it stands for
 * as `cause`.
 *
 * @module
 */
import type { Address } from "./interfaces.ts";

/** Formats an address for a message: `127.0.0.1:80`, `[::1]:80`, a path. */
function formatAddress(address: Address): string {
  if (address.type === "UNIX") return address.path || "(unnamed socket)";
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/** `Address already in use (os error 98)` → `address already in use`. */
function describeCause(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  const bare = text.replace(/\s*\(os error \d+\)\s*$/, "");
  return bare.charAt(0).toLowerCase() + bare.slice(1);
}

// ---------------------------------------------------------------------------
// Why a connection ended: the reason given to connectionLost()
// ---------------------------------------------------------------------------

/**
 * The base of every reason a connection ended, clean or not. A protocol that
 * does not care how its connection ended checks for this one class.
 *
 * @example Matching any end of a connection
 * ```ts
 * import { ConnectionClosed, ConnectionDone, ConnectionLost } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new ConnectionDone() instanceof ConnectionClosed);
 * assert.ok(new ConnectionLost() instanceof ConnectionClosed);
 * ```
 */
export class ConnectionClosed extends Error {
  /**
   * Makes the error.
   *
   * @param message What happened.
   * @param options The `cause`, if any.
   */
  constructor(message = "Connection was closed", options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionClosed";
  }
}

/**
 * The reason given to `connectionLost` when a connection ended cleanly: this
 * side called `loseConnection()` and everything queued was sent, or the peer
 * closed its side in an orderly way (EOF).
 *
 * @example Telling a clean close from a lost connection
 * ```ts
 * import { Failure } from "@torsion/torsion/defer";
 * import { ConnectionDone, ConnectionLost } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const reason = new Failure(new ConnectionDone());
 * assert.equal(reason.check(ConnectionLost, ConnectionDone), ConnectionDone);
 * assert.equal(reason.getErrorMessage(), "Connection was closed cleanly");
 * ```
 */
export class ConnectionDone extends ConnectionClosed {
  /**
   * Makes the error; transports build it themselves.
   *
   * @param message What happened.
   * @param options The `cause`, if any.
   */
  constructor(message = "Connection was closed cleanly", options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionDone";
  }
}

/**
 * The reason given to `connectionLost` when a connection ended in a non-clean
 * way: the peer reset it, a read or write failed, or (as the subclass
 * {@linkcode ConnectionAborted}) this side aborted it. The Deno error, when
 * there is one, is the `cause`.
 *
 * @example Looking at what the operating system said
 * ```ts
 * import { ConnectionLost } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const os = new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)");
 * const e = new ConnectionLost(undefined, { cause: os });
 * assert.equal(e.cause, os);
 * assert.match(e.message, /connection reset by peer/);
 * ```
 */
export class ConnectionLost extends ConnectionClosed {
  /**
   * Makes the error. Without a message, the message names the cause.
   *
   * @param message What happened.
   * @param options The `cause`, if any: usually the Deno error.
   */
  constructor(message?: string, options?: ErrorOptions) {
    const base = "Connection to the other side was lost in a non-clean fashion";
    super(
      message ?? (options?.cause === undefined ? base : `${base}: ${describeCause(options.cause)}`),
      options,
    );
    this.name = "ConnectionLost";
  }
}

/**
 * The reason given to `connectionLost` after `abortConnection()`: this side
 * dropped the connection and whatever was still queued for it. A subclass of
 * {@linkcode ConnectionLost}, as in Twisted.
 *
 * @example
 * ```ts
 * import { ConnectionAborted, ConnectionLost } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const e = new ConnectionAborted();
 * assert.ok(e instanceof ConnectionLost);
 * assert.equal(e.name, "ConnectionAborted");
 * ```
 */
export class ConnectionAborted extends ConnectionLost {
  /**
   * Makes the error; transports build it themselves.
   *
   * @param message What happened.
   * @param options The `cause`, if any.
   */
  constructor(
    message = "Connection was aborted locally using abortConnection()",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ConnectionAborted";
  }
}

// ---------------------------------------------------------------------------
// Why a connection attempt failed: the reason given to clientConnectionFailed()
// ---------------------------------------------------------------------------

/**
 * The base of the reasons a connection attempt failed: refused, stopped by
 * the user, a name that did not resolve, or another error from the operating
 * system (kept as `cause`). A connect timeout is not one of these: it fails
 * with `TimeoutError` from `defer`, the one class for every timeout.
 *
 * Divergence from Twisted: {@linkcode DNSLookupError} derives from this class
 * (Twisted derives it from `IOError`), so one check catches every failed
 * attempt but a timeout.
 *
 * @example Catching any failed attempt
 * ```ts
 * import { ConnectError, ConnectionRefusedError, UserError } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new ConnectionRefusedError() instanceof ConnectError);
 * assert.ok(new UserError() instanceof ConnectError);
 * ```
 */
export class ConnectError extends Error {
  /**
   * Makes the error.
   *
   * @param message What failed.
   * @param options The `cause`, if any: usually the Deno error.
   */
  constructor(message = "An error occurred while connecting", options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectError";
  }
}

/**
 * The peer refused the connection (`ECONNREFUSED`): nothing listens on that
 * port. The Deno error is the `cause`.
 *
 * @example
 * ```ts
 * import { ConnectionRefusedError } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const os = new Deno.errors.ConnectionRefused("Connection refused (os error 111)");
 * const e = new ConnectionRefusedError(undefined, { cause: os });
 * assert.equal(e.name, "ConnectionRefusedError");
 * assert.equal(e.cause, os);
 * ```
 */
export class ConnectionRefusedError extends ConnectError {
  /**
   * Makes the error; connectors build it themselves.
   *
   * @param message What was refused.
   * @param options The `cause`, if any.
   */
  constructor(message = "Connection was refused by the other side", options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionRefusedError";
  }
}

/**
 * A connection attempt was stopped on purpose, with `stopConnecting()` or
 * `disconnect()` on its connector; the factory's `clientConnectionFailed`
 * gets this reason.
 *
 * @example
 * ```ts
 * import { ConnectError, UserError } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const e = new UserError();
 * assert.ok(e instanceof ConnectError);
 * assert.equal(e.message, "Connection attempt was stopped by the user");
 * ```
 */
export class UserError extends ConnectError {
  /**
   * Makes the error; connectors build it themselves.
   *
   * @param message What was stopped.
   * @param options The `cause`, if any.
   */
  constructor(message = "Connection attempt was stopped by the user", options?: ErrorOptions) {
    super(message, options);
    this.name = "UserError";
  }
}

/**
 * A host name could not be resolved to an address, so there was nothing to
 * connect to. The resolver's error is the `cause`.
 *
 * @example
 * ```ts
 * import { DNSLookupError } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const e = new DNSLookupError("no-such-host.invalid");
 * assert.equal(e.hostname, "no-such-host.invalid");
 * assert.equal(e.message, "DNS lookup failed for no-such-host.invalid");
 * ```
 */
export class DNSLookupError extends ConnectError {
  /** The name that did not resolve, when known. */
  readonly hostname: string | undefined;

  /**
   * Makes the error.
   *
   * @param hostname The name that did not resolve.
   * @param options The `cause`, if any.
   */
  constructor(hostname?: string, options?: ErrorOptions) {
    super(
      hostname === undefined ? "DNS lookup failed" : `DNS lookup failed for ${hostname}`,
      options,
    );
    this.name = "DNSLookupError";
    this.hostname = hostname;
  }
}

// ---------------------------------------------------------------------------
// Misuse of a connector or a factory
// ---------------------------------------------------------------------------

/**
 * Thrown by `stopConnecting()` on a connector that is not connecting: it is
 * already connected, or disconnected. `disconnect()` works in every state.
 *
 * @example
 * ```ts
 * import { NotConnectingError } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const e = new NotConnectingError("connected");
 * assert.match(e.message, /state is connected/);
 * ```
 */
export class NotConnectingError extends Error {
  /**
   * Makes the error.
   *
   * @param state The connector's state when it was asked to stop connecting.
   */
  constructor(state?: string) {
    super(
      "The connector was not connecting when it was asked to stop connecting" +
        (state === undefined ? "" : `: its state is ${state}`),
    );
    this.name = "NotConnectingError";
  }
}

/**
 * A client factory's `buildProtocol` returned `null`, so a connection was
 * made but nothing was there to speak on it. Endpoints fail their `connect`
 * Deferred with this.
 *
 * @example
 * ```ts
 * import { NoProtocol } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new NoProtocol().name, "NoProtocol");
 * ```
 */
export class NoProtocol extends Error {
  /**
   * Makes the error.
   *
   * @param message What returned no protocol.
   */
  constructor(message = "The factory's buildProtocol() returned null") {
    super(message);
    this.name = "NoProtocol";
  }
}

/**
 * A connection attempt through an endpoint was cancelled (its Deferred's
 * `cancel()`) before it connected. `address` says where it was going.
 *
 * @example
 * ```ts
 * import { ConnectingCancelledError } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const e = new ConnectingCancelledError({ type: "TCP", host: "example.com", port: 80 });
 * assert.equal(e.address.type, "TCP");
 * assert.equal(e.message, "Connecting to example.com:80 was cancelled");
 * ```
 */
export class ConnectingCancelledError extends Error {
  /** Where the cancelled attempt was connecting to. */
  readonly address: Address;

  /**
   * Makes the error.
   *
   * @param address The destination of the cancelled attempt.
   */
  constructor(address: Address) {
    super(`Connecting to ${formatAddress(address)} was cancelled`);
    this.name = "ConnectingCancelledError";
    this.address = address;
  }
}

// ---------------------------------------------------------------------------
// Listening
// ---------------------------------------------------------------------------

/**
 * A port could not start listening: the address is in use, not on this
 * host, or not allowed. Thrown synchronously by `listenTCP`, with the Deno
 * error as `cause`.
 *
 * @example Reporting a port in use
 * ```ts
 * import { CannotListenError } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const os = new Deno.errors.AddrInUse("Address already in use (os error 98)");
 * const e = new CannotListenError("127.0.0.1", 8080, { cause: os });
 * assert.equal(e.message, "Cannot listen on 127.0.0.1:8080: address already in use");
 * assert.equal(e.port, 8080);
 * assert.equal(e.cause, os);
 * ```
 */
export class CannotListenError extends Error {
  /** The interface that was asked for (`""` for every interface). */
  readonly interface: string;
  /** The port that was asked for; for a UNIX socket, its path (as in Twisted). */
  readonly port: number | string;

  /**
   * Makes the error; the message names the address and the cause.
   *
   * @param iface The interface that was asked for (`""` for every interface).
   * @param port The port that was asked for.
   * @param options The `cause`: the Deno error.
   */
  constructor(iface: string, port: number | string, options?: ErrorOptions) {
    const host = iface === "" ? "any" : iface.includes(":") ? `[${iface}]` : iface;
    const why = options?.cause === undefined ? "" : `: ${describeCause(options.cause)}`;
    const where = typeof port === "string" ? port : `${host}:${port}`;
    super(`Cannot listen on ${where}${why}`, options);
    this.name = "CannotListenError";
    this.interface = iface;
    this.port = port;
  }
}
