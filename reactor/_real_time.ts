/**
 * Real time for the process: the one scheduler behind the reactor's
 * `callLater` (so behind `LoopingCall`, whose default clock is the reactor)
 * and the default `Cooperator`, driven by a single Deno timer.
 *
 * @module
 */
import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import { Scheduler } from "./_scheduler.ts";
import { functionName } from "./delayed_call.ts";
import { Logger } from "./log.ts";

const logger = new Logger("reactor");

// The longest delay setTimeout takes (a signed 32-bit count of
// milliseconds); a call due later is reached in several hops.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Told of an error thrown by a call, and the call. */
export type CallErrorReporter = (error: unknown, call: DelayedCall) => void;

/** Options for {@linkcode RealTime}. */
export interface RealTimeOptions {
  /** The current time in seconds; by default {@linkcode wallSeconds}. */
  seconds?: () => number;
  /** Where errors thrown by calls go; by default the `reactor` log. */
  report?: CallErrorReporter;
}

/**
 * The current time in seconds since the Unix epoch, as a float with
 * microsecond resolution: `performance.timeOrigin + performance.now()`.
 *
 * This reads like `Date.now() / 1000` (and like Twisted's `time.time()`), but
 * it moves with the monotonic clock, so it never jumps backwards when the
 * system clock is set back, and calls stay in order.
 *
 * @returns Seconds since the epoch.
 */
export function wallSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

/**
 * Reports an error thrown by a call, naming the function: the default for
 * {@linkcode RealTime}, as Twisted logs an error in a delayed call and goes
 * on.
 *
 * @param error What the call threw.
 * @param call The call.
 */
export function reportToConsole(error: unknown, call: DelayedCall): void {
  logger.error(`Unhandled error in delayed call to ${functionName(call.func)}`, error);
}

/**
 * A {@linkcode ReactorTime} over real time: a {@linkcode Scheduler} of the
 * pending calls, and one `setTimeout` armed for the earliest of them.
 *
 * The timer keeps the process alive while a call is pending, as `setTimeout`
 * does; with nothing pending there is no timer at all, so the process can
 * exit, unless {@linkcode RealTime.setKeepAlive} asks otherwise (a running
 * reactor does). An error thrown by a call is reported and the other calls
 * still run.
 *
 * Moving a call later (`reset`, `delay`, cancelling the first call) does not
 * touch the timer: it fires early, finds nothing due and re-arms, so calls
 * that are pushed back again and again (timeouts) cost no timer churn.
 */
export class RealTime implements ReactorTime {
  readonly #scheduler: Scheduler;
  readonly #seconds: () => number;
  readonly #report: CallErrorReporter;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  // When the armed timer is meant to fire, in seconds; Infinity for the
  // keep-alive timer.
  #timerDue = Infinity;
  #keepAlive = false;
  #running = false;

  /**
   * Makes a scheduler over real time, with no call pending and no timer.
   *
   * @param options Where time comes from and where errors go.
   */
  constructor(options: RealTimeOptions = {}) {
    this.#seconds = options.seconds ?? wallSeconds;
    this.#report = options.report ?? reportToConsole;
    this.#scheduler = new Scheduler(this.#seconds);
    this.#scheduler.onChange = () => this.#arm();
  }

  /**
   * The current time.
   *
   * @returns Seconds since the epoch, as a float.
   */
  seconds(): number {
    return this.#seconds();
  }

  /**
   * Schedules `fn(...args)` to run `delay` seconds from now.
   *
   * @param delay Seconds from now, zero or more.
   * @param fn The function to call.
   * @param args Its arguments.
   * @returns The call, to cancel, reset or delay.
   * @throws {RangeError} If `delay` is negative, NaN or infinite.
   * @throws {TypeError} If `fn` is not a function.
   */
  // deno-lint-ignore no-explicit-any
  callLater<A extends any[]>(delay: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    return this.#scheduler.callLater(delay, fn, ...args);
  }

  /**
   * Every pending call.
   *
   * @returns The calls in the order they would run, in a new array.
   */
  getDelayedCalls(): DelayedCall[] {
    return this.#scheduler.getDelayedCalls();
  }

  /** Whether a Deno timer is armed now (for tests). */
  get timerArmed(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Whether to keep the process alive even with no call pending: on while a
   * reactor runs, so that the process lasts until it is stopped.
   *
   * @param on Keep the process alive.
   */
  setKeepAlive(on: boolean): void {
    this.#keepAlive = on;
    this.#arm();
  }

  #arm(): void {
    if (this.#running) return; // #fire arms once the pass is over
    const next = this.#scheduler.nextTime();
    if (next === undefined) {
      if (!this.#keepAlive) {
        this.#clear();
      } else if (this.#timer === undefined) {
        this.#timerDue = Infinity;
        this.#timer = setTimeout(this.#fire, MAX_TIMER_MS);
      }
      return;
    }
    // A timer due at or before `next` fires in time; it re-arms then.
    if (this.#timer !== undefined && this.#timerDue <= next) return;
    this.#clear();
    const ms = Math.min(Math.max(Math.ceil((next - this.#seconds()) * 1000), 0), MAX_TIMER_MS);
    this.#timerDue = next;
    this.#timer = setTimeout(this.#fire, ms);
  }

  #clear(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerDue = Infinity;
    }
  }

  #fire = (): void => {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    this.#running = true;
    try {
      this.#scheduler.runDue(this.#seconds(), this.#report);
    } finally {
      this.#running = false;
      this.#arm();
    }
  };
}

/**
 * The process-wide real time: what the reactor's `seconds`, `callLater` and
 * `getDelayedCalls` use, and the default clock of `LoopingCall` and of the
 * default `Cooperator`.
 */
export const realTime: RealTime = new RealTime();

/**
 * Keeps the process alive while `on`, even with no call pending; the reactor
 * turns it on for as long as `run()` is active.
 *
 * @param on Keep the process alive.
 */
export function setKeepAlive(on: boolean): void {
  realTime.setKeepAlive(on);
}
