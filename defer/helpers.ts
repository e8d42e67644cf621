import { _fired, _isThenable, Deferred } from "./deferred.ts";
import { Failure } from "./failure.ts";

/**
 * A Deferred that already has `value`: the way to return a synchronous result
 * from an API that returns Deferreds.
 *
 * @param value The result.
 * @returns A fired Deferred.
 *
 * @example
 * ```ts
 * import { succeed } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * let seen = 0;
 * succeed(7).addCallback((n) => (seen = n)); // runs at once
 * assert.equal(seen, 7);
 * ```
 */
export function succeed<T>(value: T): Deferred<T> {
  return _fired(value) as Deferred<T>;
}

/**
 * A Deferred that has already failed with `reason` (wrapped in a
 * {@linkcode Failure} unless it is one).
 *
 * @param reason What went wrong.
 * @returns A failed Deferred.
 *
 * @example
 * ```ts
 * import { fail } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * let message = "";
 * fail(new Error("nope")).addErrback((f) => (message = f.getErrorMessage()));
 * assert.equal(message, "nope");
 * ```
 */
export function fail<T = never>(reason: unknown): Deferred<T> {
  const d = new Deferred<T>();
  d.errback(reason);
  return d;
}

/**
 * Calls `fn(...args)` and always gives a Deferred: a thrown error becomes a
 * failed one, a returned Failure a failed one (with that very Failure), a
 * Deferred is returned as it is, a PromiseLike is wrapped, and any other value
 * becomes a fired one. Generators are values here, as in Twisted; use
 * {@linkcode ensureDeferred} to run one.
 *
 * @param fn The function to call.
 * @param args Its arguments.
 * @returns A Deferred of its result.
 *
 * @example
 * ```ts
 * import { maybeDeferred } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * let message = "";
 * maybeDeferred(() => {
 *   throw new Error("thrown synchronously");
 * }).addErrback((f) => (message = f.getErrorMessage()));
 * assert.equal(message, "thrown synchronously");
 * ```
 */
export function maybeDeferred<R, A extends unknown[]>(
  fn: (...args: A) => R | Deferred<R> | PromiseLike<R> | Failure,
  ...args: A
): Deferred<R> {
  let result: unknown;
  try {
    result = fn(...args);
  } catch (error) {
    return fail(error);
  }
  if (result instanceof Deferred) return result as Deferred<R>;
  if (result instanceof Failure) return fail(result);
  if (_isThenable(result)) return Deferred.fromPromise(result as PromiseLike<R>);
  return succeed(result as R);
}

/**
 * Calls `fn(...args)` and wraps its return value (or thrown error) in a fired
 * Deferred. Unlike {@linkcode maybeDeferred}, nothing returned is waited on:
 * a returned Deferred or Promise is itself the result, handed to the
 * callbacks as a plain value (as in Twisted 24.7 and later).
 *
 * @param fn The function to call.
 * @param args Its arguments.
 * @returns A fired Deferred.
 *
 * @example
 * ```ts
 * import { execute } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * execute(Math.max, 3, 9).addCallback((n) => assert.equal(n, 9));
 * ```
 */
export function execute<R, A extends unknown[]>(fn: (...args: A) => R, ...args: A): Deferred<R> {
  let result: R;
  try {
    result = fn(...args);
  } catch (error) {
    return fail(error);
  }
  return succeed(result);
}

/**
 * Cancels `d` when `signal` aborts (at once if it already has), so Deferred
 * APIs fit code that uses `AbortController`. The listener is removed when `d`
 * gets its result.
 *
 * @param d The Deferred to cancel.
 * @param signal The signal to follow.
 * @returns `d`.
 *
 * @example
 * ```ts
 * import { CancelledError, Deferred, withSignal } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const controller = new AbortController();
 * const d = withSignal(new Deferred<string>(), controller.signal);
 * let error: unknown;
 * d.addErrback((f) => (error = f.value));
 * controller.abort();
 * assert.ok(error instanceof CancelledError);
 * ```
 */
export function withSignal<T>(d: Deferred<T>, signal: AbortSignal): Deferred<T> {
  if (signal.aborted) {
    d.cancel();
    return d;
  }
  const onAbort = (): void => d.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  return d.addBoth((result) => {
    signal.removeEventListener("abort", onAbort);
    return result;
  }) as Deferred<T>;
}
