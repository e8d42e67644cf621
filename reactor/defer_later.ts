import type { CallbackResult } from "../defer/deferred.ts";
import { Deferred } from "../defer/deferred.ts";
import type { DelayedCall, ReactorTime } from "../defer/time.ts";

/**
 * A Deferred that fires `delay` seconds from now with the result of
 * `fn(...args)` (or with `undefined` when there is no `fn`): `callLater` for
 * code that composes Deferreds, and the way to wait inside `inlineCallbacks`
 * (`yield* deferLater(clock, 1)`).
 *
 * Cancelling the Deferred before then cancels the delayed call, and the
 * Deferred fails with `CancelledError`. If `fn` throws, or returns a Deferred
 * or PromiseLike that fails, the Deferred fails with that error. In tests,
 * pass a `Clock`.
 *
 * This form, without `fn`, just waits: the Deferred fires with `undefined`.
 *
 * @param clock Where time comes from: the reactor, or a `Clock` in tests.
 * @param delay Seconds from now, zero or more.
 * @returns A Deferred of `undefined`, cancellable until it fires.
 * @throws {RangeError} If `delay` is negative, NaN or infinite.
 *
 * @example Waiting, then computing
 * ```ts
 * import { Clock, deferLater } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * let sum = 0;
 * deferLater(clock, 3, (a: number, b: number) => a + b, 2, 5)
 *   .addCallback((n) => (sum = n));
 * clock.advance(2);
 * assert.equal(sum, 0);
 * clock.advance(1);
 * assert.equal(sum, 7);
 * ```
 */
export function deferLater(clock: ReactorTime, delay: number): Deferred<undefined>;
/**
 * A Deferred that fires `delay` seconds from now with the result of
 * `fn(...args)`; cancelling it before then cancels the call.
 *
 * @typeParam R The result of `fn`.
 * @typeParam A The types of its arguments.
 * @param clock Where time comes from: the reactor, or a `Clock` in tests.
 * @param delay Seconds from now, zero or more.
 * @param fn The function to call then.
 * @param args Its arguments.
 * @returns A Deferred of `fn`'s result, cancellable until it runs.
 * @throws {RangeError} If `delay` is negative, NaN or infinite.
 * @throws {TypeError} If `fn` is not a function.
 */
export function deferLater<R, A extends unknown[]>(
  clock: ReactorTime,
  delay: number,
  fn: (...args: A) => CallbackResult<R>,
  ...args: A
): Deferred<R>;
export function deferLater(
  clock: ReactorTime,
  delay: number,
  fn?: (...args: unknown[]) => unknown,
  ...args: unknown[]
): Deferred<unknown> {
  if (fn !== undefined && typeof fn !== "function") {
    throw new TypeError(`deferLater needs a function to call, got: ${String(fn)}`);
  }
  let call: DelayedCall | undefined = undefined;
  const d = new Deferred<unknown>(() => call?.cancel());
  d.addCallback(() => (fn === undefined ? undefined : fn(...args)));
  call = clock.callLater(delay, () => d.callback(undefined));
  return d;
}
