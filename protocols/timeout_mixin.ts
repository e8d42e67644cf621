import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import type { Transport } from "../reactor/interfaces.ts";
import { realTime } from "../reactor/_real_time.ts";

/** Something that can schedule a call: a `Clock`, the reactor, any `ReactorTime`. */
export type CallLaterClock = Pick<ReactorTime, "callLater">;

/**
 * One idle timer: calls `onTimeout` when `setTimeout(seconds)` has passed
 * without a `resetTimeout()`. The building block of {@linkcode TimeoutMixin},
 * for when a mixin does not fit: a protocol that holds several timers, or an
 * object that is not a protocol.
 *
 * It follows Twisted's `TimeoutMixin` logic: `setTimeout(period)` returns
 * the previous period and moves a pending timer to the new one;
 * `setTimeout(null)` cancels; `resetTimeout()` restarts a pending timer (and
 * does nothing once it has fired or been cancelled).
 *
 * Divergence from Twisted: a timer cancelled from outside (say by
 * `clock.getDelayedCalls()[0].cancel()`) is replaced by a new one on the
 * next `setTimeout(period)` and ignored by `resetTimeout()`, where Twisted
 * raises `AlreadyCancelled`.
 *
 * @example A timer driven by a Clock
 * ```ts
 * import { ConnectionTimeout } from "@torsion/torsion/protocols";
 * import { Clock } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * let fired = 0;
 * const timer = new ConnectionTimeout(() => fired++, clock);
 * assert.equal(timer.setTimeout(5), null);
 * clock.advance(4);
 * timer.resetTimeout();
 * clock.advance(4);
 * assert.equal(fired, 0);
 * clock.advance(1);
 * assert.equal(fired, 1);
 * assert.equal(timer.pending, false);
 * ```
 */
export class ConnectionTimeout {
  /** The period in seconds, or `null` when disabled. */
  timeOut: number | null = null;

  readonly #onTimeout: () => void;
  readonly #clock: CallLaterClock | null;
  #call: DelayedCall | null = null;

  /**
   * Makes a timer that is not running.
   *
   * @param onTimeout Called when the period passes without a reset.
   * @param clock Where the timer is scheduled (default: the reactor's real
   * time). Pass a `Clock` in tests.
   */
  constructor(onTimeout: () => void, clock: CallLaterClock | null = null) {
    this.#onTimeout = onTimeout;
    this.#clock = clock;
  }

  /** Whether a timer is scheduled and has neither fired nor been cancelled. */
  get pending(): boolean {
    return this.#call !== null && this.#call.active();
  }

  /**
   * Changes the period: a pending timer is moved to `period` from now, or
   * cancelled for `null`; with no pending timer, one is started.
   *
   * @param period Seconds, or `null` to disable the timer.
   * @returns The previous period.
   * @throws {RangeError} If `period` is negative or not finite.
   */
  setTimeout(period: number | null): number | null {
    const previous = this.timeOut;
    this.timeOut = period;
    const call = this.#call;
    if (period === null) {
      this.#call = null;
      if (call !== null && call.active()) call.cancel();
    } else if (call !== null && call.active()) {
      call.reset(period);
    } else {
      this.#call = (this.#clock ?? realTime).callLater(period, () => this.#timedOut());
    }
    return previous;
  }

  /**
   * Restarts a pending timer for a full period: call it when the peer shows
   * signs of life. Does nothing when no timer is pending.
   */
  resetTimeout(): void {
    const call = this.#call;
    if (call !== null && call.active() && this.timeOut !== null) call.reset(this.timeOut);
  }

  /** Cancels the timer, as `setTimeout(null)`. */
  cancel(): void {
    this.setTimeout(null);
  }

  #timedOut(): void {
    this.#call = null;
    this.#onTimeout();
  }
}

/** What {@linkcode TimeoutMixin} adds to a class. */
export interface TimeoutMixinMembers {
  /**
   * The idle period in seconds, or `null` for none (the default). Override
   * it in a subclass (`override timeOut: number | null = 30;`) and start the
   * timer with `this.setTimeout(this.timeOut)` in `connectionMade`.
   */
  timeOut: number | null;
  /**
   * Where the timer is scheduled: `null` (the default) uses the reactor's
   * real time; set a `Clock` in tests.
   */
  clock: CallLaterClock | null;
  /**
   * Schedules `fn` after `period` seconds on {@linkcode TimeoutMixinMembers.clock}.
   * Override it to schedule elsewhere, as in Twisted.
   */
  callLater(period: number, fn: () => void): DelayedCall;
  /**
   * Changes the period and (re)starts, moves or (for `null`) cancels the
   * timer; returns the previous period.
   */
  setTimeout(period: number | null): number | null;
  /** Restarts a pending timer for a full `timeOut`; does nothing otherwise. */
  resetTimeout(): void;
  /**
   * Called when the timer fires. By default it closes the connection
   * (`this.transport.loseConnection()`); override it to do something else.
   */
  timeoutConnection(): void;
}

/**
 * A class whose instances have at least a constructor; TypeScript requires
 * mixin bases to take `any[]` arguments.
 */
// deno-lint-ignore no-explicit-any
export type MixinBase<T = object> = new (...args: any[]) => T;

/**
 * Gives a protocol one idle timeout: Twisted's `TimeoutMixin`, as a mixin
 * function, since JavaScript classes have one base. Write
 * `class MyProtocol extends TimeoutMixin(Protocol)` where Twisted has
 * `class MyProtocol(Protocol, TimeoutMixin)`; any base class works
 * (`TimeoutMixin(LineReceiver)`).
 *
 * As in Twisted, nothing is automatic: start the timer with
 * `this.setTimeout(this.timeOut)` (usually in `connectionMade`), call
 * `this.resetTimeout()` when the peer shows signs of life (usually in
 * `dataReceived`), and stop it with `this.setTimeout(null)` in
 * `connectionLost`. When the period passes without a reset,
 * `timeoutConnection()` runs, which closes the connection unless
 * overridden. In tests, set `clock` to a `Clock`, or override `callLater`.
 * For a timer that is not tied to a class, use
 * {@linkcode ConnectionTimeout}.
 *
 * Divergences from Twisted: the timer is scheduled through an injectable
 * `clock` field (Twisted only lets you override `callLater`); a timer
 * cancelled from outside is replaced or ignored rather than raising
 * `AlreadyCancelled` (see {@linkcode ConnectionTimeout}); `timeoutConnection`
 * does nothing when the protocol has no transport.
 *
 * @typeParam TBase The base class.
 * @param Base The class to extend, usually `Protocol` or one of its subclasses.
 * @returns A subclass of `Base` with {@linkcode TimeoutMixinMembers}.
 *
 * @example Hanging up on an idle client
 * ```ts
 * import type { Failure } from "@torsion/torsion/defer";
 * import { Protocol, TimeoutMixin } from "@torsion/torsion/protocols";
 * import { Clock, StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * class Idle extends TimeoutMixin(Protocol) {
 *   override timeOut: number | null = 3;
 *   override connectionMade(): void {
 *     this.setTimeout(this.timeOut);
 *   }
 *   override dataReceived(_data: Uint8Array): void {
 *     this.resetTimeout();
 *   }
 *   override connectionLost(reason: Failure): void {
 *     this.setTimeout(null);
 *     super.connectionLost(reason);
 *   }
 * }
 *
 * const clock = new Clock();
 * const p = new Idle();
 * p.clock = clock;
 * const transport = new StringTransport();
 * p.makeConnection(transport);
 * clock.pump([0, 0.5, 1.0, 1.0]);
 * assert.equal(transport.disconnecting, false);
 * clock.pump([0, 1.0]);
 * assert.equal(transport.disconnecting, true);
 * ```
 */
export function TimeoutMixin<TBase extends MixinBase>(
  Base: TBase,
): TBase & MixinBase<TimeoutMixinMembers> {
  class WithTimeout extends Base implements TimeoutMixinMembers {
    timeOut: number | null = null;
    clock: CallLaterClock | null = null;
    #call: DelayedCall | null = null;

    callLater(period: number, fn: () => void): DelayedCall {
      return (this.clock ?? realTime).callLater(period, fn);
    }

    setTimeout(period: number | null): number | null {
      const previous = this.timeOut;
      this.timeOut = period;
      const call = this.#call;
      if (period === null) {
        this.#call = null;
        if (call !== null && call.active()) call.cancel();
      } else if (call !== null && call.active()) {
        call.reset(period);
      } else {
        this.#call = this.callLater(period, () => {
          this.#call = null;
          this.timeoutConnection();
        });
      }
      return previous;
    }

    resetTimeout(): void {
      const call = this.#call;
      if (call !== null && call.active() && this.timeOut !== null) call.reset(this.timeOut);
    }

    timeoutConnection(): void {
      (this as { transport?: Transport | null }).transport?.loseConnection();
    }
  }
  return WithTimeout;
}
