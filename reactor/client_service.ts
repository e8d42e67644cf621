/**
 * A client that keeps one connection up (Twisted's
 * `twisted.application.internet.ClientService`): it connects through an
 * endpoint, and whenever the attempt fails or the connection is lost it
 * waits as its retry policy says and connects again. Code that needs the
 * connection asks `whenConnected()`.
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import { CancelledError } from "../defer/errors.ts";
import { maybeDeferred } from "../defer/helpers.ts";
import type { Failure } from "../defer/failure.ts";
import type { DelayedCall } from "../defer/time.ts";
import { realTime } from "./_real_time.ts";
import type { StreamClientEndpoint } from "./stream_endpoint.ts";
import type { Address, FactoryLike, ProtocolLike } from "./interfaces.ts";
import { Logger } from "./log.ts";

const logger = new Logger("client-service");

/**
 * Seconds to wait before the next attempt, given how many attempts in a row
 * have failed (1 after the first failure or a lost connection).
 */
export type RetryPolicy = (failedAttempts: number) => number;

/**
 * Twisted's default retry policy: `min(initialDelay * factor ** attempt,
 * maxDelay) + jitter()`.
 *
 * @param initialDelay The first delay, in seconds (default 1).
 * @param maxDelay The longest delay before jitter (default 60).
 * @param factor How much each failure multiplies the delay (default 1.5).
 * @param jitter Extra seconds added to each delay (default `Math.random`).
 * @returns The policy.
 * @throws {RangeError} For a negative delay or a factor below 1.
 *
 * @example
 * ```ts
 * import { backoffPolicy } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const policy = backoffPolicy(1, 10, 2, () => 0);
 * assert.deepEqual([1, 2, 3, 4, 5].map(policy), [2, 4, 8, 10, 10]);
 * ```
 */
export function backoffPolicy(
  initialDelay = 1.0,
  maxDelay = 60.0,
  factor = 1.5,
  jitter: () => number = Math.random,
): RetryPolicy {
  if (!(initialDelay >= 0) || !(maxDelay >= 0)) {
    throw new RangeError(`Delays must be 0 or more seconds, not ${initialDelay} and ${maxDelay}`);
  }
  if (!(factor >= 1)) throw new RangeError(`The factor must be 1 or more, not ${factor}`);
  return (attempt) => Math.min(initialDelay * factor ** attempt, maxDelay) + jitter();
}

/** Options of {@linkcode ClientService}. */
export interface ClientServiceOptions {
  /** Seconds before each retry (default `backoffPolicy()`). */
  retryPolicy?: RetryPolicy;
  /** Where retries are scheduled (default: the real clock). */
  clock?: { callLater(delay: number, fn: () => void): DelayedCall };
  /**
   * Runs on each new connection before `whenConnected` hears of it, to log
   * in or say hello; a Deferred or promise it returns is waited for, and
   * its failure drops the connection and counts as a failed attempt.
   */
  prepareConnection?: (protocol: ProtocolLike) => unknown;
}

/** Options of {@linkcode ClientService.whenConnected}. */
export interface WhenConnectedOptions {
  /**
   * Fail instead of waiting once this many attempts in a row have failed
   * (counting those before the call). By default, wait for as long as it
   * takes.
   */
  failAfterFailures?: number;
}

/**
 * The parent a {@linkcode ClientService} joins in a service tree; the
 * application layer's `MultiService` has this shape.
 */
export interface ClientServiceParent {
  /** Adds the child; starts it if the parent is running. */
  addService(service: ClientService): void;
  /** Removes the child; stops it if the parent is running. */
  removeService(service: ClientService): Deferred<void> | void;
}

interface Waiter {
  d: Deferred<ProtocolLike>;
  failAfter: number;
}

/**
 * Keeps a connection through `endpoint` up, reconnecting with backoff.
 *
 * It is a service (Twisted's `IService`) that joins a service tree with
 * `setServiceParent`: a `MultiService` or the application root of
 * `@torsion/torsion/application` starts it with the tree and stops it
 * (closing the connection) when the tree stops. It lives in the reactor
 * layer, below the application layer, so it has that layer's members
 * without extending its `Service` class.
 *
 * @example
 * ```ts ignore
 * import { ClientService, clientFromString, Factory, LineReceiver, reactor } from "@torsion/torsion";
 *
 * const service = new ClientService(
 *   clientFromString(reactor, "tcp:127.0.0.1:8023"),
 *   Factory.forProtocol(LineReceiver),
 * );
 * service.startService();
 * const chat = await service.whenConnected();
 * await service.stopService();
 * ```
 */
export class ClientService {
  readonly #endpoint: StreamClientEndpoint;
  readonly #factory: FactoryLike;
  readonly #retryPolicy: RetryPolicy;
  readonly #clock: { callLater(delay: number, fn: () => void): DelayedCall };
  readonly #prepare: ((protocol: ProtocolLike) => unknown) | undefined;
  #running = false;
  #failedAttempts = 0;
  #attempt: Deferred<ProtocolLike> | undefined;
  #retry: DelayedCall | undefined;
  #protocol: ProtocolLike | undefined;
  #candidate: ProtocolLike | undefined; // connected, being prepared
  #lastFailure: Failure | undefined;
  #waiters: Waiter[] = [];
  #whenLost: Array<() => void> = [];

  /** The service's name among its parent's children (`undefined`: anonymous). */
  name: string | undefined = undefined;
  /** The service it is a child of, if any. */
  parent: ClientServiceParent | undefined = undefined;

  /**
   * Makes a stopped service.
   *
   * @param endpoint Where to connect.
   * @param factory Builds the protocol for each connection.
   * @param options `retryPolicy`, `clock`, `prepareConnection`.
   */
  constructor(
    endpoint: StreamClientEndpoint,
    factory: FactoryLike,
    options: ClientServiceOptions = {},
  ) {
    this.#endpoint = endpoint;
    this.#factory = factory;
    this.#retryPolicy = options.retryPolicy ?? backoffPolicy();
    this.#clock = options.clock ?? realTime;
    this.#prepare = options.prepareConnection;
  }

  /** Whether the service has been started and not stopped. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Makes this a child of `parent` (leaving any previous parent first).
   *
   * @param parent The new parent, such as a `MultiService`.
   */
  setServiceParent(parent: ClientServiceParent): void {
    if (this.parent !== undefined) this.disownServiceParent();
    this.parent = parent;
    parent.addService(this);
  }

  /**
   * Leaves the parent, which stops the service if the parent is running.
   *
   * @returns What the parent's `removeService` returned: a Deferred of the
   *   stop, if there was one.
   * @throws {Error} If the service has no parent.
   */
  disownServiceParent(): Deferred<void> | void {
    const parent = this.parent;
    if (parent === undefined) throw new Error("The client service has no parent");
    const stopped = parent.removeService(this);
    this.parent = undefined;
    return stopped;
  }

  /** Nothing to do before privileges are dropped: connecting happens in `startService`. */
  privilegedStartService(): void {}

  /**
   * Starts connecting. Does nothing if already running.
   */
  startService(): void {
    if (this.#running) return;
    this.#running = true;
    this.#failedAttempts = 0;
    this.#connect();
  }

  /**
   * Stops: cancels an attempt or a pending retry, or closes the connection.
   * Callers still waiting in `whenConnected` get `CancelledError`.
   *
   * @returns A Deferred that fires once no connection is left.
   */
  stopService(): Deferred<void> {
    const done = new Deferred<void>();
    if (!this.#running) {
      done.callback(undefined);
      return done;
    }
    this.#running = false;
    if (this.#retry?.active()) this.#retry.cancel();
    this.#retry = undefined;
    const attempt = this.#attempt;
    this.#attempt = undefined;
    attempt?.cancel();
    for (const waiter of this.#waiters.splice(0)) {
      waiter.d.errback(new CancelledError("The client service was stopped"));
    }
    const protocol = this.#protocol ?? this.#candidate;
    if (protocol === undefined) {
      done.callback(undefined);
      return done;
    }
    this.#whenLost.push(() => done.callback(undefined));
    (protocol as { transport?: { loseConnection(): void } | null }).transport?.loseConnection();
    return done;
  }

  /**
   * The connected protocol: at once if connected, else once connected.
   *
   * @param options `failAfterFailures`.
   * @returns A Deferred of the protocol. It fails with the last connection
   *   failure after `failAfterFailures` failed attempts in a row, and with
   *   `CancelledError` if the service is stopped first (or is not running).
   * @throws {RangeError} If `failAfterFailures` is below 1.
   */
  whenConnected(options: WhenConnectedOptions = {}): Deferred<ProtocolLike> {
    const failAfter = options.failAfterFailures ?? Infinity;
    if (!(failAfter >= 1)) {
      throw new RangeError(`failAfterFailures must be 1 or more, not ${failAfter}`);
    }
    const d = new Deferred<ProtocolLike>((cancelled) => {
      this.#waiters = this.#waiters.filter((w) => w.d !== cancelled);
    });
    if (this.#protocol !== undefined && this.#running) {
      d.callback(this.#protocol);
      return d;
    }
    if (!this.#running) {
      d.errback(new CancelledError("The client service is not running"));
      return d;
    }
    if (this.#failedAttempts >= failAfter && this.#lastFailure !== undefined) {
      d.errback(this.#lastFailure);
      return d;
    }
    this.#waiters.push({ d, failAfter });
    return d;
  }

  #connect(): void {
    this.#retry = undefined;
    if (!this.#running) return;
    const factory: FactoryLike = {
      buildProtocol: (addr: Address) => this.#build(addr),
      doStart: () => this.#factory.doStart(),
      doStop: () => this.#factory.doStop(),
    };
    const attempt = this.#endpoint.connect(factory);
    this.#attempt = attempt;
    attempt.addCallbacks((protocol: ProtocolLike) => {
      if (this.#attempt !== attempt) return;
      this.#attempt = undefined;
      this.#connected(protocol);
    }, (failure: Failure) => {
      if (this.#attempt !== attempt) return;
      this.#attempt = undefined;
      this.#failed(failure);
    });
  }

  #build(addr: Address): ProtocolLike | null {
    const protocol = this.#factory.buildProtocol(addr);
    if (protocol === null) return null;
    const connectionLost = protocol.connectionLost;
    const own = Object.hasOwn(protocol, "connectionLost");
    protocol.connectionLost = (reason: Failure): void => {
      if (own) protocol.connectionLost = connectionLost;
      else delete (protocol as Partial<ProtocolLike>).connectionLost;
      protocol.connectionLost(reason);
      this.#lost(protocol, reason);
    };
    return protocol;
  }

  #connected(protocol: ProtocolLike): void {
    const ready = (): void => {
      this.#candidate = undefined;
      if (!this.#running) return;
      this.#protocol = protocol;
      this.#failedAttempts = 0;
      this.#lastFailure = undefined;
      for (const waiter of this.#waiters.splice(0)) waiter.d.callback(protocol);
    };
    if (this.#prepare === undefined) {
      ready();
      return;
    }
    const prepare = this.#prepare;
    const prepared = maybeDeferred(() => prepare(protocol));
    this.#candidate = protocol; // so that stopService can close it meanwhile
    prepared.addCallbacks(() => {
      if (this.#candidate === protocol) ready();
    }, (failure: Failure) => {
      if (this.#candidate !== protocol) return;
      logger.warn(`preparing a connection failed: ${failure.getErrorMessage()}`);
      this.#lastFailure = failure;
      (protocol as { transport?: { loseConnection(): void } | null }).transport?.loseConnection();
    });
  }

  #failed(failure: Failure): void {
    this.#failedAttempts++;
    this.#lastFailure = failure;
    const count = this.#failedAttempts;
    for (const waiter of [...this.#waiters]) {
      if (count >= waiter.failAfter) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.d.errback(failure);
      }
    }
    this.#scheduleRetry();
  }

  #lost(protocol: ProtocolLike, reason: Failure): void {
    if (this.#candidate === protocol) {
      // Lost while being prepared: a failed attempt.
      this.#candidate = undefined;
      for (const notify of this.#whenLost.splice(0)) notify();
      if (this.#running) this.#failed(this.#lastFailure ?? reason);
      return;
    }
    if (this.#protocol !== protocol) return;
    this.#protocol = undefined;
    for (const notify of this.#whenLost.splice(0)) notify();
    if (!this.#running) return;
    this.#lastFailure = reason;
    this.#failedAttempts++;
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (!this.#running) return;
    const delay = this.#retryPolicy(this.#failedAttempts);
    this.#retry = this.#clock.callLater(Math.max(0, delay), () => this.#connect());
  }
}
