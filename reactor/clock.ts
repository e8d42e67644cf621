import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import { Scheduler } from "./_scheduler.ts";

/**
 * A clock that only moves when told to: the way to test code that schedules
 * calls, without real sleeps and with exact times. Pass it wherever a
 * {@linkcode ReactorTime} is taken (a `LoopingCall`'s `clock`, `deferLater`,
 * `Deferred.addTimeout`), then {@linkcode Clock.advance} it.
 *
 * Time starts at 0. Calls due at the same time run in the order they were
 * scheduled; `reset()` or `delay()` gives a call a new place in that order
 * (see `DelayedCall`). A call scheduled with a zero delay while the clock
 * advances runs in the same `advance`. An error thrown by a call escapes
 * `advance`, and the calls not yet run stay pending: advance again (by 0, if
 * need be) to run them.
 *
 * Unlike Twisted's `Clock`, `getDelayedCalls()` returns a copy, and a
 * negative `advance` is refused.
 *
 * @example Testing a timeout
 * ```ts
 * import { Clock } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const seen: Array<[string, number]> = [];
 * clock.callLater(2, (what: string) => seen.push([what, clock.seconds()]), "timeout");
 * clock.advance(1);
 * assert.deepEqual(seen, []);
 * clock.advance(1);
 * assert.deepEqual(seen, [["timeout", 2]]);
 * ```
 */
export class Clock implements ReactorTime {
  #now = 0;
  readonly #scheduler: Scheduler = new Scheduler(() => this.#now);

  /**
   * The clock's current time.
   *
   * @returns Seconds since the clock was made, as moved by `advance`.
   */
  seconds(): number {
    return this.#now;
  }

  /**
   * Schedules `fn(...args)` to run once the clock has advanced `delay`
   * seconds from now.
   *
   * @param delay Seconds from now, zero or more.
   * @param fn The function to call.
   * @param args Its arguments.
   * @returns The call, to cancel, reset or delay; its `getTime()` is
   * `seconds() + delay`.
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

  /**
   * Moves time forward by `seconds` and runs every call that is then due,
   * earliest first.
   *
   * @param seconds How far to move, zero or more.
   * @throws {RangeError} If `seconds` is negative, NaN or infinite.
   * @throws Whatever a call throws; the calls not yet run stay pending.
   */
  advance(seconds: number): void {
    if (typeof seconds !== "number" || !(seconds >= 0) || seconds === Infinity) {
      throw new RangeError(
        `Cannot advance a Clock by other than a finite number of seconds, zero or more: ${
          String(seconds)
        }`,
      );
    }
    this.#now += seconds;
    this.#scheduler.runDue(this.#now);
  }

  /**
   * Advances the clock by each amount in turn, running the calls due after
   * each step: `pump([1, 1, 1])` is three `advance(1)` calls.
   *
   * @param timings The steps, in seconds.
   * @throws {RangeError} If a step is negative, NaN or infinite; the steps
   * before it have been taken.
   * @throws Whatever a call throws; later steps are not taken.
   */
  pump(timings: Iterable<number>): void {
    for (const amount of timings) this.advance(amount);
  }
}
