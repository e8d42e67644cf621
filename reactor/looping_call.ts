import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import { maybeDeferred } from "../defer/helpers.ts";
import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import { reactor } from "./deno_reactor.ts";
import { functionName } from "./delayed_call.ts";

/**
 * Calls a function every `interval` seconds: polling, heartbeats, periodic
 * flushes. Built on a clock's `callLater` (the reactor's unless told otherwise), so in tests set
 * {@linkcode LoopingCall.clock} to a `Clock` and advance it.
 *
 * Each run is scheduled at the next multiple of the interval since `start()`
 * that is still in the future: when the process was busy (or the function
 * took longer than the interval) the missed runs are skipped, not bunched up.
 * {@linkcode LoopingCall.withCount} tells the function how many intervals
 * went by. When the function returns a Deferred (or another PromiseLike), the
 * next run waits until it has fired; when it throws or its Deferred fails,
 * the loop stops and the Deferred from `start()` fails with that error.
 *
 * Divergences from Twisted: there are no keyword arguments; misuse (`start`
 * while running, `stop` or `reset` while stopped) throws an `Error` instead of
 * failing an assertion, and a bad interval throws a `RangeError` instead of a
 * `ValueError`; after a restart, `withCount` counts from the new `start()`.
 *
 * @typeParam A The types of the function's arguments.
 *
 * @example Every half second, on a test clock
 * ```ts
 * import { Clock, LoopingCall } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const times: number[] = [];
 * const loop = new LoopingCall(() => times.push(clock.seconds()));
 * loop.clock = clock;
 * const done = loop.start(0.5); // runs at once, then every 0.5 s
 * clock.advance(2); // the runs due at 0.5, 1 and 1.5 are skipped
 * clock.advance(1);
 * loop.stop();
 * assert.deepEqual(times, [0, 2, 3]);
 * assert.equal(await done, loop);
 * ```
 */
export class LoopingCall<A extends unknown[] = unknown[]> {
  /**
   * Where time comes from: by default the global `reactor`, as in Twisted
   * (`clock = reactor`), so the loop's calls are among the reactor's
   * `getDelayedCalls()`. Set it before `start()`: a `Clock` in tests.
   */
  clock: ReactorTime = reactor;

  readonly #run: () => unknown;
  #name: string;
  #running = false;
  #interval: number | undefined = undefined;
  #call: DelayedCall | undefined = undefined;
  #deferred: Deferred<this> | undefined = undefined;
  #startTime: number | undefined = undefined;
  #runAtStart = false;
  // For withCount: when the function was last given a count.
  #realLastTime: number | undefined = undefined;

  /**
   * Prepares to call `fn(...args)` repeatedly; nothing runs before `start()`.
   *
   * @param fn The function. Its return value is ignored, except that a
   * Deferred or PromiseLike is waited on before the next run.
   * @param args Its arguments, the same for every run.
   * @throws {TypeError} If `fn` is not a function.
   */
  constructor(fn: (...args: A) => unknown, ...args: A) {
    if (typeof fn !== "function") {
      throw new TypeError(`LoopingCall needs a function to call, got: ${String(fn)}`);
    }
    this.#run = () => fn(...args);
    this.#name = functionName(fn);
  }

  /**
   * Makes a LoopingCall that passes `fn` the number of intervals that went by
   * since its last run: normally 1, more when runs were skipped because the
   * process was busy or the previous run's Deferred took long. Use it to
   * advance an animation or a rate counter by the right number of steps.
   *
   * The count is never 0 (a run that would get 0 is skipped), the counts add
   * up to the intervals elapsed since `start()`, and with an interval of 0 the
   * count is always 1.
   *
   * @param fn Gets the count.
   * @returns A LoopingCall that is not started.
   *
   * @example Counting skipped intervals
   * ```ts
   * import { Clock, LoopingCall } from "@torsion/torsion/reactor";
   * import assert from "node:assert/strict";
   *
   * const clock = new Clock();
   * const seen: Array<[number, number]> = [];
   * const loop = LoopingCall.withCount((count) => seen.push([clock.seconds(), count]));
   * loop.clock = clock;
   * loop.start(0.5);
   * clock.advance(0.5);
   * clock.advance(1.5);
   * loop.stop();
   * assert.deepEqual(seen, [[0, 1], [0.5, 1], [2, 3]]);
   * ```
   */
  static withCount(fn: (count: number) => unknown): LoopingCall<[]> {
    const loop: LoopingCall<[]> = new LoopingCall(() => {
      const now = loop.clock.seconds();
      const interval = loop.#interval!;
      if (interval === 0) {
        loop.#realLastTime = now;
        return fn(1);
      }
      let lastTime = loop.#realLastTime;
      if (lastTime === undefined) {
        lastTime = loop.#startTime!;
        if (loop.#runAtStart) lastTime -= interval;
      }
      const count = loop.#intervalOf(now) - loop.#intervalOf(lastTime);
      if (count > 0) {
        loop.#realLastTime = now;
        return fn(count);
      }
      return undefined;
    });
    loop.#name = functionName(fn);
    return loop;
  }

  /** Whether the loop is started: from `start()` until `stop()` or a failure. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * The seconds between runs: what `start()` was given, `undefined` before.
   * Setting it while running takes effect when the next run is scheduled.
   *
   * @throws {RangeError} When set to a negative, NaN or infinite value.
   */
  get interval(): number | undefined {
    return this.#interval;
  }

  set interval(interval: number) {
    checkInterval(interval);
    this.#interval = interval;
  }

  /**
   * Starts calling the function every `interval` seconds.
   *
   * @param interval Seconds between runs; 0 runs it as often as the clock
   * allows, yielding to other calls in between.
   * @param now Whether the first run is right now (the default) or one
   * interval from now.
   * @returns A Deferred that fires with this LoopingCall once `stop()` is
   * called (and the run under way, if any, has finished), or fails with the
   * error of a run that failed. `running` is false by the time it fires.
   * @throws {RangeError} If `interval` is negative, NaN or infinite.
   * @throws {Error} If the loop is running already.
   */
  start(interval: number, now = true): Deferred<this> {
    if (this.#running) throw new Error(`Tried to start an already running ${this}`);
    checkInterval(interval);
    this.#running = true;
    // A run at once may fail and clear #deferred: keep our own reference.
    const deferred = new Deferred<this>();
    this.#deferred = deferred;
    this.#startTime = this.clock.seconds();
    this.#interval = interval;
    this.#runAtStart = now;
    this.#realLastTime = undefined;
    if (now) this.#tick();
    else this.#scheduleFrom(this.#startTime);
    return deferred;
  }

  /**
   * Stops the loop. The Deferred from `start()` fires now, or, when a run is
   * under way (waiting on a Deferred), once that run has finished.
   *
   * @throws {Error} If the loop is not running.
   */
  stop(): void {
    if (!this.#running) throw new Error(`Tried to stop ${this}, which is not running`);
    this.#running = false;
    if (this.#call !== undefined) {
      this.#call.cancel();
      this.#call = undefined;
      this.#fireDeferred();
    }
  }

  /**
   * Skips the next run and restarts the timing from now: the next run is one
   * interval from now. Does nothing while a run is under way.
   *
   * @throws {Error} If the loop is not running.
   */
  reset(): void {
    if (!this.#running) throw new Error(`Tried to reset ${this}, which is not running`);
    if (this.#call !== undefined) {
      this.#call.cancel();
      this.#call = undefined;
      this.#startTime = this.clock.seconds();
      this.#scheduleFrom(this.#startTime);
    }
  }

  /**
   * Describes the loop for messages and logs.
   *
   * @returns For example `LoopingCall<0.5>(poll)`.
   */
  toString(): string {
    return `LoopingCall<${this.#interval}>(${this.#name})`;
  }

  #tick = (): void => {
    this.#call = undefined;
    maybeDeferred(this.#run)
      .addCallback(() => {
        if (this.#running) this.#scheduleFrom(this.clock.seconds());
        else this.#fireDeferred();
      })
      .addErrback((failure: Failure) => {
        this.#running = false;
        const d = this.#deferred;
        this.#deferred = undefined;
        d?.errback(failure);
      });
  };

  #fireDeferred(): void {
    const d = this.#deferred;
    this.#deferred = undefined;
    d?.callback(this);
  }

  #scheduleFrom(when: number): void {
    this.#call = this.clock.callLater(this.#howLong(when), this.#tick);
  }

  // Seconds from `when` to the next interval boundary after it.
  #howLong(when: number): number {
    const interval = this.#interval!;
    if (interval === 0) return 0;
    const runningFor = when - this.#startTime!;
    // The remainder taken towards minus infinity, as Python's `%` does, so
    // that a clock that went back still gives a delay within one interval.
    const untilNext = interval - (((runningFor % interval) + interval) % interval);
    // A step too small to change `when` means we are on a boundary: wait a
    // whole interval.
    if (when === when + untilNext) return interval;
    return untilNext;
  }

  #intervalOf(t: number): number {
    return Math.trunc((t - this.#startTime!) / this.#interval!);
  }
}

function checkInterval(interval: number): void {
  if (typeof interval !== "number" || !(interval >= 0) || interval === Infinity) {
    throw new RangeError(
      `Interval must be a finite number of seconds, zero or more: ${String(interval)}`,
    );
  }
}
