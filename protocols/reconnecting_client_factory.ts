import type { Failure } from "../defer/failure.ts";
import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import type { Connector, ProtocolLike } from "../reactor/interfaces.ts";
import { realTime } from "../reactor/_real_time.ts";
import { ClientFactory } from "./factory.ts";

/**
 * A client factory that reconnects whenever a connection fails or is lost,
 * waiting longer after each failure (exponential back-off with random
 * jitter), so a client survives server restarts without hammering a server
 * that is down, and a crowd of clients does not reconnect in lockstep.
 *
 * The delay before the first retry is {@linkcode ReconnectingClientFactory.initialDelay};
 * each further retry waits {@linkcode ReconnectingClientFactory.factor} times
 * longer, up to {@linkcode ReconnectingClientFactory.maxDelay}; each wait is
 * then spread at random by up to ±{@linkcode ReconnectingClientFactory.jitter}
 * of itself. After {@linkcode ReconnectingClientFactory.maxRetries} failures
 * in a row it gives up. {@linkcode ReconnectingClientFactory.stopTrying} stops
 * it for good (call it before shutting down, or the factory reconnects).
 *
 * **Call {@linkcode ReconnectingClientFactory.resetDelay} once connected.**
 * Building a protocol does not reset the back-off: a connection that works is
 * not yet a reason to forget past failures. Unless your protocol calls
 * `this.factory.resetDelay()` (usually in `connectionMade`, or once the peer
 * has answered), the retry counter keeps growing across successful
 * connections, the client waits up to `maxDelay` (an hour by default) before
 * reconnecting after a mere restart of the server, and `maxRetries` counts
 * failures since the very first connection.
 *
 * Settings are instance fields: set them on the instance, or override them
 * in a subclass (`override maxDelay = 30;`). Tests set
 * {@linkcode ReconnectingClientFactory.clock} to a `Clock`, and
 * {@linkcode ReconnectingClientFactory.random} (or `jitter = 0`) to make the
 * delays exact.
 *
 * Divergences from Twisted:
 * - The first retry waits `initialDelay`. Twisted multiplies before its first
 *   wait, so it waits `initialDelay * factor` (2.7 s by default; Twisted
 *   issue #12478).
 * - Jitter is drawn uniformly from
 *   `[delay * (1 - jitter), min(maxDelay, delay * (1 + jitter))]`, never below
 *   zero. Twisted draws from a normal distribution, whose tails can go
 *   negative or beyond `maxDelay` (issues #4734 and #8714). The jitter is
 *   applied to each wait without compounding: {@linkcode ReconnectingClientFactory.delay}
 *   keeps the un-jittered value, which grows by exactly `factor` each time
 *   (Twisted grows the next delay from the jittered one).
 * - A subclass's `initialDelay` is the first delay (Twisted's class attribute
 *   `delay` is bound to the base class's `initialDelay`).
 * - `retry()` while a retry is pending replaces the pending one rather than
 *   scheduling a second connect, and `resetDelay()` keeps a pending retry
 *   cancellable by `stopTrying()`.
 * - `stopTrying()` calls `connector.stopConnecting()` only when the connector
 *   is connecting, instead of calling it and catching `NotConnectingError`.
 * - `continueTrying` is a boolean; nothing is logged (no `noisy` flag); no
 *   pickling support.
 *
 * @typeParam P The protocol this factory builds.
 *
 * @example A client that reconnects, resetting the back-off once connected
 * ```ts ignore
 * import { Protocol, ReconnectingClientFactory } from "@torsion/torsion/protocols";
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * class Feed extends Protocol {
 *   declare factory: FeedFactory | null;
 *   override connectionMade(): void {
 *     // Without this, every reconnection waits longer than the last one.
 *     this.factory!.resetDelay();
 *     this.transport!.write("SUBSCRIBE news\r\n");
 *   }
 *   override dataReceived(data: Uint8Array): void {
 *     console.log(new TextDecoder().decode(data));
 *   }
 * }
 *
 * class FeedFactory extends ReconnectingClientFactory<Feed> {
 *   override protocol = Feed;
 *   override maxDelay = 60;
 * }
 *
 * const factory = new FeedFactory();
 * reactor.connectTCP("127.0.0.1", 7000, factory);
 * // Later, to shut down without reconnecting:
 * // factory.stopTrying(); connector.disconnect();
 * ```
 */
export class ReconnectingClientFactory<P extends ProtocolLike = ProtocolLike>
  extends ClientFactory<P> {
  /** The longest wait between two attempts, in seconds (default one hour, as Twisted). */
  maxDelay: number = 3600;

  /** The wait before the first retry, in seconds. */
  initialDelay: number = 1.0;

  /** How much longer each wait is than the one before (default e, as Twisted). */
  factor: number = Math.E;

  /**
   * How much each wait is spread at random, as a fraction of it: with the
   * default (about 0.12, as Twisted), a 10-second wait becomes one between
   * 8.8 and 11.2 seconds. `0` makes the waits exact.
   */
  jitter: number = 0.119626565582;

  /**
   * How many failed attempts in a row to retry before giving up; `null` (the
   * default) retries forever. `resetDelay()` restarts the count.
   */
  maxRetries: number | null = null;

  /** Where retries are scheduled: `null` (the default) uses the reactor's real time. */
  clock: ReactorTime | null = null;

  /**
   * The source of jitter, returning a number in `[0, 1)` as `Math.random`
   * does (the default); a fixed function makes the waits predictable.
   */
  random: () => number = Math.random;

  /** How many retries since the last `resetDelay()`. */
  retries: number = 0;

  /**
   * Whether connections that fail or are lost are retried: cleared by
   * `stopTrying()`, set again by `resetDelay()`.
   */
  continueTrying: boolean = true;

  /** The connector of the last failed or lost connection: what `retry()` reconnects. */
  connector: Connector | null = null;

  #delay: number | undefined = undefined;
  #callID: DelayedCall | null = null;

  /**
   * The wait of the latest retry before jitter, in seconds: the base the next
   * wait grows from. It reads as `initialDelay` until the first retry, and
   * after `resetDelay()`.
   */
  get delay(): number {
    return this.#delay ?? this.initialDelay;
  }

  set delay(seconds: number) {
    this.#delay = seconds;
  }

  /**
   * Retries the failed attempt, unless `stopTrying()` was called.
   *
   * @param connector The connector whose attempt failed.
   * @param reason Why it failed.
   */
  // deno-lint-ignore no-unused-vars
  override clientConnectionFailed(connector: Connector, reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /**
   * Reconnects the lost connection, unless `stopTrying()` was called.
   *
   * @param connector The connector of the lost connection.
   * @param reason Why it was lost.
   */
  // deno-lint-ignore no-unused-vars
  override clientConnectionLost(connector: Connector, reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /**
   * Schedules `connector.connect()` after the next back-off delay: counts
   * the retry, gives up past `maxRetries`, then waits `initialDelay` for the
   * first retry and `factor` times the previous delay for the next ones
   * (capped at `maxDelay`), spread by `jitter`. Does nothing after
   * `stopTrying()`. A retry still pending is replaced.
   *
   * @param connector What to reconnect; by default the last connector seen.
   * @throws {Error} If there is no connector to retry.
   */
  retry(connector?: Connector): void {
    if (!this.continueTrying) return;
    const target = connector ?? this.connector;
    if (target === null) {
      throw new Error(`Cannot retry ${this.logPrefix()}: no connector to retry`);
    }
    this.retries++;
    if (this.maxRetries !== null && this.retries > this.maxRetries) return;

    const nominal = this.retries === 1 ? this.initialDelay : this.delay * this.factor;
    const delay = Math.min(nominal, this.maxDelay);
    this.#delay = delay;

    this.#cancelPending();
    this.#callID = (this.clock ?? realTime).callLater(this.#jittered(delay), () => {
      this.#callID = null;
      target.connect();
    });
  }

  /**
   * Stops reconnecting for good: cancels a pending retry, stops an attempt
   * in progress, and makes failures and losses no longer retried. Call it
   * before closing a connection on purpose; `resetDelay()` undoes it.
   */
  stopTrying(): void {
    this.#cancelPending();
    this.continueTrying = false;
    const connector = this.connector;
    if (connector !== null && connector.state === "connecting") {
      try {
        connector.stopConnecting();
      } catch (e) {
        // Twisted's connectors raise NotConnectingError when no attempt is
        // under way; the state check above makes that a race we can ignore.
        if (!(e instanceof Error && e.name === "NotConnectingError")) throw e;
      }
    }
  }

  /**
   * Forgets past failures: the next retry waits `initialDelay` again, the
   * retry count restarts from zero, and retrying is back on. Call it once a
   * connection has succeeded, usually from the protocol's `connectionMade`:
   * building the protocol does not do it.
   */
  resetDelay(): void {
    this.#delay = this.initialDelay;
    this.retries = 0;
    this.continueTrying = true;
  }

  #cancelPending(): void {
    const call = this.#callID;
    this.#callID = null;
    if (call !== null && call.active()) call.cancel();
  }

  // A wait spread uniformly by ±jitter, clipped to [0, maxDelay].
  #jittered(delay: number): number {
    const jitter = Math.abs(this.jitter);
    if (jitter === 0 || delay === 0) return delay;
    const low = Math.max(0, delay * (1 - jitter));
    const high = Math.max(low, Math.min(this.maxDelay, delay * (1 + jitter)));
    return low + this.random() * (high - low);
  }
}
