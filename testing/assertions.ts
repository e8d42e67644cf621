import { AssertionError } from "node:assert";
import { _NO_RESULT, _takeResult, type Deferred } from "../defer/deferred.ts";
import { Failure, type FailureType } from "../defer/failure.ts";

const NO_RESULT: unique symbol = Symbol("no result");

// Takes the result at the end of the chain, leaving `undefined` behind (so a
// failure counts as handled), as a callback returning `undefined` would; or
// returns NO_RESULT, adding nothing to the chain.
function take(d: Deferred<unknown>): unknown {
  const result = _takeResult(d);
  return result === _NO_RESULT ? NO_RESULT : result;
}

function fail(message: string): never {
  throw new AssertionError({ message });
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Failure) return value.toString();
  try {
    return Deno.inspect(value, { depth: 2 });
  } catch {
    return String(value);
  }
}

function typeName(type: FailureType): string {
  return typeof type === "string" ? type : type.name;
}

/**
 * The result a Deferred already has, taken synchronously: the way to test
 * code that returns a Deferred without awaiting it, so that a result that
 * is late (or never comes) fails the test instead of hanging it.
 *
 * The result is consumed, as trial's `successResultOf` does: the Deferred's
 * result is `undefined` afterwards, as if a callback returning `undefined`
 * had been added. A Deferred that is paused, or waiting on another
 * Deferred, has no result yet.
 *
 * Divergences from trial: it is a function, not a test-case method; it takes
 * only a Deferred (a Promise's result cannot be read synchronously); a
 * Deferred without a result is left untouched (trial leaves a callback on it
 * that will consume the result when it comes); it throws `AssertionError`
 * from `node:assert`.
 *
 * @typeParam T The type of the result.
 * @param d The Deferred.
 * @returns Its result.
 * @throws {AssertionError} If `d` has no result yet ("found no result
 * instead"), or has failed ("found failure result instead", with the
 * failure's traceback; the failure is then handled).
 *
 * @example Testing a function that returns a Deferred
 * ```ts
 * import { Deferred, succeed } from "@torsion/torsion/defer";
 * import { successResultOf } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(successResultOf(succeed(42)), 42);
 * assert.throws(() => successResultOf(new Deferred()), /found no result instead/);
 * ```
 */
export function successResultOf<T>(d: Deferred<T>): T {
  const before = String(d);
  const result = take(d);
  if (result === NO_RESULT) {
    fail(`Success result expected on ${before}, found no result instead`);
  }
  if (result instanceof Failure) {
    fail(
      `Success result expected on ${before}, found failure result instead:\n${result.getTraceback()}`,
    );
  }
  return result as T;
}

/**
 * The failure a Deferred already has, taken synchronously: the way to test
 * that code fails, and how, without awaiting.
 *
 * The result is consumed, as trial's `failureResultOf` does: the Deferred's
 * result is `undefined` afterwards, and a failure taken is handled, never
 * reported as unhandled.
 *
 * Divergences from trial: it is a function, not a test-case method; types
 * may be classes or error names, as for `Failure.check`; a Deferred without
 * a result is left untouched; it throws `AssertionError` from `node:assert`.
 *
 * @param d The Deferred.
 * @param types The classes or error names expected; none means any.
 * @returns The failure.
 * @throws {AssertionError} If `d` has no result yet, has succeeded ("found
 * success result (...) instead"), or failed with another type ("Failure of
 * type (RangeError or TypeError) expected on ..., found type Error
 * instead", with the traceback).
 *
 * @example Checking why a Deferred failed
 * ```ts
 * import { fail } from "@torsion/torsion/defer";
 * import { failureResultOf } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const f = failureResultOf(fail(new RangeError("too big")), RangeError);
 * assert.equal(f.getErrorMessage(), "too big");
 * assert.throws(
 *   () => failureResultOf(fail(new Error("boom")), TypeError),
 *   /Failure of type \(TypeError\) expected on .*, found type Error instead/,
 * );
 * ```
 */
export function failureResultOf(d: Deferred<unknown>, ...types: FailureType[]): Failure {
  const before = String(d);
  const result = take(d);
  if (result === NO_RESULT) {
    fail(`Failure result expected on ${before}, found no result instead`);
  }
  if (!(result instanceof Failure)) {
    fail(
      `Failure result expected on ${before}, found success result (${
        describeValue(result)
      }) instead`,
    );
  }
  if (types.length > 0 && result.check(...types) === null) {
    const expected = types.map(typeName).join(" or ");
    const found = result.type?.name ?? typeof result.value;
    fail(
      `Failure of type (${expected}) expected on ${before}, found type ${found} instead:\n${result.getTraceback()}`,
    );
  }
  return result;
}

/**
 * Checks that a Deferred has no result yet: neither fired, nor paused on a
 * result, nor done waiting on another Deferred. The way to test that
 * something waits (for data, for a timeout) before it answers.
 *
 * When the check passes, the Deferred is left as it was. When it fails, a
 * failure result is handled (so it is not also reported as an unhandled
 * error) and the result is left otherwise unchanged, as trial does.
 *
 * Divergence from trial: it is a function, not a test-case method; it
 * throws `AssertionError` from `node:assert`.
 *
 * @param d The Deferred.
 * @throws {AssertionError} If `d` has a result ("No result expected on ...,
 * found ... instead").
 *
 * @example Waiting for a clock
 * ```ts
 * import { Deferred } from "@torsion/torsion/defer";
 * import { Clock, assertNoResult, successResultOf } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const d = new Deferred<string>();
 * clock.callLater(1, () => d.callback("done"));
 * assertNoResult(d);
 * clock.advance(1);
 * assert.equal(successResultOf(d), "done");
 * ```
 */
export function assertNoResult(d: Deferred<unknown>): void {
  let result: unknown = NO_RESULT;
  d.addBoth((r: unknown) => {
    result = r;
    return r;
  });
  if (result === NO_RESULT) return;
  const message = `No result expected on ${d}, found ${describeValue(result)} instead`;
  // The message reports the failure, so it must not be reported again as
  // unhandled.
  if (result instanceof Failure) d.addErrback(() => undefined);
  fail(message);
}
