import { Deferred } from "./deferred.ts";
import { Failure } from "./failure.ts";
import { FirstError } from "./errors.ts";
import { setUnhandledErrorHandler } from "./debug.ts";

/** How a {@linkcode DeferredList} decides when to fire. */
export interface DeferredListOptions {
  /**
   * Fire with `[result, index]` as soon as any input succeeds, without
   * waiting for the others. The class is typed for the list result; use
   * {@linkcode DeferredList.fireOnOneCallback} for a typed result.
   */
  fireOnOneCallback?: boolean;
  /**
   * Fail with {@linkcode FirstError} as soon as any input fails, without
   * waiting for the others.
   */
  fireOnOneErrback?: boolean;
  /**
   * Turn each input's failure into `undefined` on that input once the list
   * has recorded it, so later callbacks on the input see success and the
   * failure is not reported as unhandled.
   */
  consumeErrors?: boolean;
}

/** Options of {@linkcode DeferredList.fireOnOneCallback}. */
export interface FireOnOneCallbackOptions {
  /** As {@linkcode DeferredListOptions.fireOnOneErrback}. */
  fireOnOneErrback?: boolean;
  /** As {@linkcode DeferredListOptions.consumeErrors}. */
  consumeErrors?: boolean;
}

/** Options of {@linkcode gatherResults}. */
export interface GatherResultsOptions {
  /** As {@linkcode DeferredListOptions.consumeErrors}. */
  consumeErrors?: boolean;
}

/**
 * Waits for several Deferreds at once and collects their outcomes, so a
 * caller can act when all of them (or the first of them) are done without
 * counting results by hand.
 *
 * By default the list fires once every input has fired, with one
 * `[success, resultOrFailure]` pair per input **in input order**, whatever
 * order they fired in. A failed input does not fail the list: its pair is
 * `[false, failure]`. Inputs that have already fired are taken into account
 * during construction, so a list of fired Deferreds has its result as soon
 * as `new` returns; an empty list fires at once with `[]`.
 *
 * The list works by adding a callback/errback pair to each input, so
 * callbacks added to an input *before* the list see the input's result
 * first, and callbacks added *after* it see whatever the list's pair
 * returns: the input's own result, or `undefined` for a failure when
 * `consumeErrors` is set.
 *
 * Options:
 * - `fireOnOneCallback`: fire with `[result, index]` as soon as one input
 *   succeeds. If every input fails, the list still fires, with the full
 *   list of pairs. An empty list with this flag never fires. The class is
 *   typed for the list result only; {@linkcode DeferredList.fireOnOneCallback}
 *   builds the same list typed `Deferred<[T, number] | ...>`.
 * - `fireOnOneErrback`: fail with {@linkcode FirstError} (holding the
 *   input's failure and its index) as soon as one input fails.
 * - `consumeErrors`: stop input failures from travelling further down each
 *   input's chain (and from being reported as unhandled when the input is
 *   garbage-collected); the list still records them. Later callbacks on a
 *   failed input then get `undefined`, whatever its type says.
 *
 * Divergence from Twisted: cancelling a list that has already fired
 * forwards the cancellation to a Deferred the list is waiting on (one
 * returned by a callback added to the list), as `Deferred.cancel()` does;
 * Twisted's does nothing then. Errors thrown by the inputs' cancellers are
 * reported through the unhandled-error handler (see
 * {@linkcode setUnhandledErrorHandler}) instead of Twisted's log.
 *
 * @typeParam T The type of each input's result; for inputs of different
 * types, name their union: `new DeferredList<number | string>([a, b])`.
 *
 * @example Results in input order
 * ```ts
 * import { Deferred, DeferredList } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const a = new Deferred<string>();
 * const b = new Deferred<string>();
 * let results: unknown;
 * new DeferredList([a, b]).addCallback((list) => (results = list));
 * b.callback("b");
 * a.callback("a");
 * assert.deepEqual(results, [[true, "a"], [true, "b"]]);
 * ```
 */
export class DeferredList<T> extends Deferred<Array<[boolean, T | Failure]>> {
  #deferreds: Deferred<T>[];
  #results: Array<[boolean, T | Failure]>;
  #finished = 0;
  #fireOnOneCallback: boolean;
  #fireOnOneErrback: boolean;
  #consumeErrors: boolean;
  #boundCancel: (() => void) | undefined = undefined;

  /**
   * Starts tracking `deferreds`.
   *
   * @param deferreds The Deferreds to wait for; the iterable is copied, so
   * adding to an array afterwards changes nothing.
   * @param options When to fire and whether to consume input failures.
   */
  constructor(deferreds: Iterable<Deferred<T>>, options: DeferredListOptions = {}) {
    super();
    const inputs = Array.from(deferreds);
    this.#deferreds = inputs;
    this.#results = new Array(inputs.length);
    this.#fireOnOneCallback = options.fireOnOneCallback === true;
    this.#fireOnOneErrback = options.fireOnOneErrback === true;
    this.#consumeErrors = options.consumeErrors === true;
    if (inputs.length === 0 && !this.#fireOnOneCallback) this.callback([]);
    for (let index = 0; index < inputs.length; index++) {
      inputs[index].addCallbacks(
        (result: T) => this.#onResult(true, result, index),
        (failure: Failure) => this.#onResult(false, failure, index),
      );
    }
  }

  /**
   * Builds `new DeferredList(deferreds, { fireOnOneCallback: true, ...options })`
   * with the result type that option gives, which the class itself cannot
   * express: `[result, index]` of the first input to succeed or, if every
   * input fails first, the full list of pairs. With `fireOnOneErrback: true`
   * the full list cannot happen (the first failure fails the list), so the
   * result is typed `[T, number]`.
   *
   * @param deferreds The Deferreds to wait for.
   * @param options `fireOnOneErrback: true` and, optionally, `consumeErrors`.
   * @returns The new DeferredList, typed for its result.
   *
   * @example First success
   * ```ts
   * import { Deferred, DeferredList } from "@torsion/torsion/defer";
   * import assert from "node:assert/strict";
   *
   * const a = new Deferred<string>();
   * const b = new Deferred<string>();
   * let first: [string, number] | undefined;
   * DeferredList.fireOnOneCallback([a, b], { fireOnOneErrback: true })
   *   .addCallback((pair) => (first = pair));
   * b.callback("b wins");
   * assert.deepEqual(first, ["b wins", 1]);
   * a.callback("too late"); // the list has fired; this changes nothing
   * ```
   */
  static fireOnOneCallback<T>(
    deferreds: Iterable<Deferred<T>>,
    options: FireOnOneCallbackOptions & { fireOnOneErrback: true },
  ): Deferred<[T, number]>;
  /**
   * Builds `new DeferredList(deferreds, { fireOnOneCallback: true, ...options })`
   * typed for its result: `[result, index]` of the first input to succeed or,
   * if every input fails, the full list of `[false, failure]` pairs.
   *
   * @param deferreds The Deferreds to wait for.
   * @param options Whether to fire on the first failure and to consume input
   * failures.
   * @returns The new DeferredList, typed for its result.
   */
  static fireOnOneCallback<T>(
    deferreds: Iterable<Deferred<T>>,
    options?: FireOnOneCallbackOptions,
  ): Deferred<[T, number] | Array<[boolean, T | Failure]>>;
  static fireOnOneCallback<T>(
    deferreds: Iterable<Deferred<T>>,
    options: FireOnOneCallbackOptions = {},
  ): unknown {
    return new DeferredList(deferreds, { ...options, fireOnOneCallback: true });
  }

  /**
   * Cancels every input given to the constructor, if the list has not fired
   * yet; the list then fires as the inputs' outcomes direct (usually with
   * their {@linkcode CancelledError} failures). An error thrown by an
   * input's canceller does not stop the others from being cancelled: it is
   * reported through the unhandled-error handler. Once the list has fired,
   * this only cancels a Deferred that the list is waiting on. Bound, as
   * {@linkcode Deferred.cancel} is.
   */
  override get cancel(): () => void {
    return (this.#boundCancel ??= (): void => {
      if (this.called) super.cancel();
      else _cancelEach(this.#deferreds, "DeferredList.cancel()");
    });
  }

  #onResult(succeeded: boolean, result: T | Failure, index: number): unknown {
    this.#results[index] = [succeeded, result];
    this.#finished++;
    if (!this.called) {
      if (succeeded && this.#fireOnOneCallback) {
        this.callback([result, index] as unknown as Array<[boolean, T | Failure]>);
      } else if (!succeeded && this.#fireOnOneErrback) {
        this.errback(new FirstError(result as Failure, index));
      } else if (this.#finished === this.#results.length) {
        this.callback(this.#results);
      }
    }
    if (!succeeded && this.#consumeErrors) return undefined;
    return result;
  }
}

/**
 * Waits for several Deferreds and gives their results as a plain array, in
 * input order: the "join" of parallel work, for when any failure means the
 * whole job failed.
 *
 * It is a {@linkcode DeferredList} with `fireOnOneErrback`, so it fails with
 * {@linkcode FirstError} as soon as one input fails (the error's `subFailure`
 * and `index` say which and how). Cancelling the returned Deferred cancels
 * every input. An empty input fires at once with `[]`. For inputs of
 * different types, name their union: `gatherResults<number | string>(...)`.
 *
 * @typeParam T The type of each input's result.
 * @param deferreds The Deferreds to wait for.
 * @param options `consumeErrors`: turn each input's failure into `undefined`
 * on that input, so it is not reported as unhandled.
 * @returns A Deferred of the results, in input order.
 *
 * @example Joining two results
 * ```ts
 * import { gatherResults, succeed } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * let results: number[] = [];
 * gatherResults([succeed(1), succeed(2)]).addCallback((r) => (results = r));
 * assert.deepEqual(results, [1, 2]);
 * ```
 */
export function gatherResults<T>(
  deferreds: Iterable<Deferred<T>>,
  options: GatherResultsOptions = {},
): Deferred<T[]> {
  return new DeferredList(deferreds, {
    fireOnOneErrback: true,
    consumeErrors: options.consumeErrors === true,
  }).addCallback((pairs) => pairs.map((pair) => pair[1] as T));
}

/**
 * Cancels each of `deferreds` (skipping holes), reporting (not throwing)
 * what their cancellers throw, so that one bad canceller does not stop the
 * rest. Shared with `race()`; not part of the public API.
 */
export function _cancelEach<T>(
  deferreds: ReadonlyArray<Deferred<T> | undefined>,
  caller: string,
): void {
  for (let index = 0; index < deferreds.length; index++) {
    try {
      deferreds[index]?.cancel();
    } catch (error) {
      reportCancellerError(error, index, caller);
    }
  }
}

function reportCancellerError(error: unknown, index: number, caller: string): void {
  const failure = Failure.from(error);
  const message = [
    "Unhandled error in Deferred:",
    `The canceller of input ${index} threw during ${caller}`,
    failure.getTraceback(),
  ].join("\n");
  // debug.ts has no getter for the handler: swap to read it, then restore.
  const handler = setUnhandledErrorHandler(null);
  setUnhandledErrorHandler(handler);
  try {
    handler(message, failure);
  } catch (handlerError) {
    console.error("Unhandled error handler failed:", handlerError);
  }
}
