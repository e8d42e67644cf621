/**
 * A function called every so often while a service runs (Twisted's
 * `twisted.application.internet.TimerService`).
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import type { ReactorTime } from "../defer/time.ts";
import { LoopingCall } from "../reactor/looping_call.ts";
import { Logger } from "../reactor/log.ts";
import { Service } from "./service.ts";

const logger = new Logger("service");

/**
 * Calls `fn(...args)` every `step` seconds while running, the first time
 * when it starts, over a {@linkcode LoopingCall}. A Deferred or promise that
 * `fn` returns is waited for before the next call, and the stop waits for
 * the call under way. If a call fails, the failure is logged and the calls
 * stop (the service stays "running" until stopped, as in Twisted).
 *
 * @example Ticking on a test clock
 * ```ts
 * import { TimerService } from "@torsion/torsion/application";
 * import { Clock } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const ticks: number[] = [];
 * const timer = new TimerService(10, () => ticks.push(clock.seconds()));
 * timer.clock = clock;
 * timer.startService();
 * clock.advance(10);
 * clock.advance(10);
 * await timer.stopService();
 * assert.deepEqual(ticks, [0, 10, 20]);
 * ```
 */
export class TimerService<A extends unknown[] = unknown[]> extends Service {
  /** Seconds between calls. */
  readonly step: number;
  /** Where time comes from (default: the reactor's real time). Set it before starting. */
  clock: ReactorTime | undefined = undefined;
  readonly #fn: (...args: A) => unknown;
  readonly #args: A;
  #loop: LoopingCall<A> | undefined;
  #finished: Deferred<void> | undefined;

  /**
   * Makes a stopped service.
   *
   * @param step Seconds between calls.
   * @param fn The function.
   * @param args Its arguments.
   * @throws {RangeError} If `step` is negative, NaN or infinite.
   */
  constructor(step: number, fn: (...args: A) => unknown, ...args: A) {
    super();
    if (!(step >= 0) || step === Infinity) {
      throw new RangeError(`The step must be 0 or more seconds, not ${step}`);
    }
    this.step = step;
    this.#fn = fn;
    this.#args = args;
  }

  /**
   * Starts the calls; the first one runs now.
   */
  override startService(): void {
    super.startService();
    const loop = new LoopingCall<A>(this.#fn, ...this.#args);
    if (this.clock !== undefined) loop.clock = this.clock;
    this.#loop = loop;
    const finished = new Deferred<void>();
    this.#finished = finished;
    loop.start(this.step, true).addCallbacks(
      () => finished.callback(undefined),
      (failure: Failure) => {
        logger.error(`a timer's call failed; it is called no more`, failure);
        finished.callback(undefined);
      },
    );
  }

  /**
   * Stops the calls.
   *
   * @returns A Deferred that fires once the call under way, if any, has finished.
   */
  override stopService(): Deferred<void> {
    const loop = this.#loop;
    const finished = this.#finished;
    this.#loop = undefined;
    this.#finished = undefined;
    const stopped = new Deferred<void>();
    if (loop === undefined || finished === undefined) {
      super.stopService();
      stopped.callback(undefined);
      return stopped;
    }
    if (loop.running) loop.stop();
    finished.addCallback(() => {
      super.stopService();
      stopped.callback(undefined);
    });
    return stopped;
  }
}
