import type { Failure } from "../defer/failure.ts";
import type { DelayedCall } from "../defer/time.ts";
import type { Address, FactoryLike, ProtocolLike } from "../reactor/interfaces.ts";
import { realTime } from "../reactor/_real_time.ts";
import type { CallLaterClock } from "./timeout_mixin.ts";
import { ProtocolWrapper, WrappingFactory } from "./wrapping_factory.ts";

/**
 * The wrapper a {@linkcode TimeoutFactory} puts around each protocol: it
 * closes the connection when nothing has been read or written for
 * `timeoutPeriod` seconds. The timer starts when the wrapper is built,
 * restarts on every read and write, and stops when the connection ends.
 *
 * @example Closing an idle connection
 * ```ts
 * import { Factory, Protocol, TimeoutFactory } from "@torsion/torsion/protocols";
 * import { AccumulatingProtocol, Clock, StringTransportWithDisconnection } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const factory = new TimeoutFactory(Factory.forProtocol(AccumulatingProtocol), {
 *   timeoutPeriod: 3,
 *   clock,
 * });
 * const p = factory.buildProtocol({ type: "TCP", host: "10.0.0.2", port: 4000 })!;
 * const transport = new StringTransportWithDisconnection();
 * transport.protocol = p;
 * p.makeConnection(transport);
 * const wrapped = p.wrappedProtocol as AccumulatingProtocol;
 * clock.advance(2);
 * p.dataReceived(new TextEncoder().encode("still here"));
 * clock.advance(2);
 * assert.equal(wrapped.closed, false);
 * clock.advance(1);
 * assert.equal(wrapped.closed, true);
 * ```
 */
export class TimeoutProtocol extends ProtocolWrapper {
  /** The factory that made the wrapper, which schedules the timer. */
  declare factory: TimeoutFactory | null;
  /** The pending timer, or `null`. */
  timeoutCall: DelayedCall | null = null;
  /** The idle period in seconds, or `null` when no timer is set. */
  timeoutPeriod: number | null = null;

  /**
   * Wraps a protocol and starts the timer.
   *
   * @param factory The factory, which schedules the timer.
   * @param wrappedProtocol The protocol to wrap.
   * @param timeoutPeriod Seconds of idleness allowed, or `null` for no timer.
   */
  constructor(
    factory: TimeoutFactory,
    wrappedProtocol: ProtocolLike,
    timeoutPeriod: number | null,
  ) {
    super(factory, wrappedProtocol);
    this.setTimeout(timeoutPeriod);
  }

  /**
   * Cancels the timer, then sets a new one for `timeoutPeriod` seconds.
   *
   * @param timeoutPeriod The new period, or `null` for no timer.
   */
  setTimeout(timeoutPeriod: number | null = null): void {
    this.cancelTimeout();
    this.timeoutPeriod = timeoutPeriod;
    if (timeoutPeriod !== null) {
      this.timeoutCall = this.factory!.callLater(timeoutPeriod, () => this.timeoutFunc());
    }
  }

  /** Cancels the timer; does nothing if it has fired or was cancelled. */
  cancelTimeout(): void {
    this.timeoutPeriod = null;
    const call = this.timeoutCall;
    this.timeoutCall = null;
    if (call !== null && call.active()) call.cancel();
  }

  /** Restarts a pending timer for a full period: activity just happened. */
  resetTimeout(): void {
    const call = this.timeoutCall;
    if (call !== null && call.active() && this.timeoutPeriod !== null) {
      call.reset(this.timeoutPeriod);
    }
  }

  /**
   * Restarts the timer, then writes.
   *
   * @param data The bytes, or a string.
   */
  override write(data: Uint8Array | string): void {
    this.resetTimeout();
    super.write(data);
  }

  /**
   * Restarts the timer, then writes.
   *
   * @param chunks The bytes or strings, in order.
   */
  override writeSequence(chunks: Iterable<Uint8Array | string>): void {
    this.resetTimeout();
    super.writeSequence(chunks);
  }

  /**
   * Restarts the timer, then passes the bytes on.
   *
   * @param data The bytes received.
   */
  override dataReceived(data: Uint8Array): void {
    this.resetTimeout();
    super.dataReceived(data);
  }

  /**
   * Stops the timer, then passes the end of the connection on.
   *
   * @param reason Why the connection ended.
   */
  override connectionLost(reason: Failure): void {
    this.cancelTimeout();
    super.connectionLost(reason);
  }

  /**
   * Called when the timer fires: closes the connection. Override it to do
   * something else.
   */
  timeoutFunc(): void {
    this.timeoutCall = null;
    this.loseConnection();
  }
}

/** Options of a {@linkcode TimeoutFactory}. */
export interface TimeoutFactoryOptions {
  /** Seconds of idleness before a connection is closed (default 1800: 30 minutes). */
  timeoutPeriod?: number | null;
  /** Where the timers are scheduled (default: the reactor's real time). */
  clock?: CallLaterClock | null;
}

/**
 * Closes the connections of the factory it wraps once they have been idle
 * (nothing read, nothing written) for `timeoutPeriod` seconds: protection
 * against clients that connect and go silent, holding a slot. For a
 * protocol that decides itself when it is idle, use `TimeoutMixin`.
 *
 * Divergences from Twisted: the period and the clock are passed as an
 * options object (Twisted's tests override `callLater`, which also works);
 * `timeoutFunc` clears `timeoutCall` before closing.
 *
 * @example Wrapping a server factory
 * ```ts
 * import { Factory, Protocol, TimeoutFactory, TimeoutProtocol } from "@torsion/torsion/protocols";
 * import { Clock } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const factory = new TimeoutFactory(Factory.forProtocol(Protocol), { timeoutPeriod: 60, clock });
 * const p = factory.buildProtocol({ type: "TCP", host: "10.0.0.2", port: 4000 });
 * assert.ok(p instanceof TimeoutProtocol);
 * assert.equal(clock.getDelayedCalls()[0].getTime(), 60);
 * p.cancelTimeout();
 * ```
 */
export class TimeoutFactory extends WrappingFactory {
  /** Seconds of idleness before a connection is closed, or `null` for no limit. */
  timeoutPeriod: number | null;
  /** Where timers are scheduled: `null` uses the reactor's real time. */
  clock: CallLaterClock | null;

  /**
   * Wraps a factory.
   *
   * @param wrappedFactory The factory whose connections time out.
   * @param options The period and the clock.
   */
  constructor(wrappedFactory: FactoryLike, options: TimeoutFactoryOptions = {}) {
    super(wrappedFactory);
    this.timeoutPeriod = options.timeoutPeriod === undefined ? 30 * 60 : options.timeoutPeriod;
    this.clock = options.clock ?? null;
  }

  /**
   * Builds the wrapped factory's protocol in a {@linkcode TimeoutProtocol},
   * whose timer starts now.
   *
   * @param addr The peer's address.
   * @returns The wrapper, or `null` if the wrapped factory refused.
   */
  override buildProtocol(addr: Address): TimeoutProtocol | null {
    return super.buildProtocol(addr) as TimeoutProtocol | null;
  }

  /**
   * Makes a {@linkcode TimeoutProtocol} with this factory's period.
   *
   * @param wrappedProtocol The protocol to wrap.
   * @returns The wrapper.
   */
  override wrapProtocol(wrappedProtocol: ProtocolLike): TimeoutProtocol {
    return new TimeoutProtocol(this, wrappedProtocol, this.timeoutPeriod);
  }

  /**
   * Schedules `fn` after `period` seconds on {@linkcode TimeoutFactory.clock};
   * override it to schedule elsewhere.
   *
   * @param period Seconds from now.
   * @param fn The function.
   * @returns The call.
   */
  callLater(period: number, fn: () => void): DelayedCall {
    return (this.clock ?? realTime).callLater(period, fn);
  }
}
