import type { Failure } from "./failure.ts";

/**
 * Thrown by `callback()` or `errback()` on a Deferred that already has a
 * result. With {@linkcode setDebugging} on, the message names where the
 * Deferred was created (` C:` lines) and first fired (` I:` lines).
 *
 * @example
 * ```ts
 * import { AlreadyCalledError, Deferred } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const d = new Deferred<number>();
 * d.callback(1);
 * assert.throws(() => d.callback(2), AlreadyCalledError);
 * ```
 */
export class AlreadyCalledError extends Error {
  /**
   * Makes the error; `callback()` and `errback()` build it themselves.
   *
   * @param message What was called twice, with debugging detail if any.
   */
  constructor(message = "Deferred has already been called") {
    super(message);
    this.name = "AlreadyCalledError";
  }
}

/**
 * The result of a Deferred that was cancelled before it had a result of its
 * own.
 *
 * @example
 * ```ts
 * import { CancelledError, Deferred } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const d = new Deferred();
 * let seen: unknown;
 * d.addErrback((f) => (seen = f.value));
 * d.cancel();
 * assert.ok(seen instanceof CancelledError);
 * ```
 */
export class CancelledError extends Error {
  /**
   * Makes the error; `cancel()` builds it itself.
   *
   * @param message Why, if known.
   */
  constructor(message = "Deferred was cancelled") {
    super(message);
    this.name = "CancelledError";
  }
}

/**
 * The one error class for every timeout in torsion: a Deferred's
 * `addTimeout`, a connection attempt's `timeout`.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const e = new TimeoutError(2.5, "Deferred");
 * assert.equal(e.seconds, 2.5);
 * assert.match(e.message, /2.5 seconds/);
 * ```
 */
export class TimeoutError extends Error {
  /** How long was waited, in seconds, when known. */
  readonly seconds: number | undefined;

  /**
   * Makes the error, naming what timed out and after how long.
   *
   * @param seconds How long was waited.
   * @param what What timed out, for the message.
   * @param options The `cause`, if any.
   */
  constructor(seconds?: number, what = "Operation", options?: ErrorOptions) {
    super(
      seconds === undefined ? `${what} timed out` : `${what} timed out after ${seconds} seconds`,
      options,
    );
    this.name = "TimeoutError";
    this.seconds = seconds;
  }
}

/**
 * The failure of a {@linkcode DeferredList} made with `fireOnOneErrback`, or
 * of {@linkcode gatherResults}: which input failed first, and how.
 *
 * @example
 * ```ts
 * import { fail, FirstError, gatherResults, succeed } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const d = gatherResults([succeed(1), fail(new Error("boom"))]);
 * d.addErrback((f) => {
 *   const e = f.value as FirstError;
 *   assert.equal(e.index, 1);
 *   assert.equal(e.subFailure.getErrorMessage(), "boom");
 * });
 * ```
 */
export class FirstError extends Error {
  /** The failure of the input that failed first. */
  readonly subFailure: Failure;
  /** The position of that input in the list. */
  readonly index: number;

  /**
   * Makes the error from the first failure and where it came from.
   *
   * @param subFailure The input's failure.
   * @param index The input's position.
   */
  constructor(subFailure: Failure, index: number) {
    super(`Deferred at index ${index} failed: ${subFailure.getErrorMessage()}`, {
      cause: subFailure.value,
    });
    this.name = "FirstError";
    this.subFailure = subFailure;
    this.index = index;
  }
}

/**
 * Every input of {@linkcode race} failed: their failures, in input order.
 *
 * @example
 * ```ts
 * import { fail, FailureGroup, race } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * race([fail(new Error("a")), fail(new Error("b"))]).addErrback((f) => {
 *   assert.equal((f.value as FailureGroup).failures.length, 2);
 * });
 * ```
 */
export class FailureGroup extends Error {
  /** The failures, in input order. */
  readonly failures: Failure[];

  /**
   * Makes the error from every input's failure.
   *
   * @param failures The failures, in input order.
   */
  constructor(failures: Failure[]) {
    super(`All ${failures.length} Deferreds failed`);
    this.name = "FailureGroup";
    this.failures = failures;
  }
}

/**
 * A {@linkcode DeferredQueue} was given more items than its size allows.
 *
 * @example
 * ```ts
 * import { DeferredQueue, QueueOverflow } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const q = new DeferredQueue<number>(1);
 * q.put(1);
 * assert.throws(() => q.put(2), QueueOverflow);
 * ```
 */
export class QueueOverflow extends Error {
  /**
   * Makes the error; `DeferredQueue.put()` builds it itself.
   *
   * @param message What overflowed.
   */
  constructor(message = "DeferredQueue is full") {
    super(message);
    this.name = "QueueOverflow";
  }
}

/**
 * A {@linkcode DeferredQueue} was asked for more pending `get()`s than its
 * backlog allows.
 *
 * @example
 * ```ts
 * import { DeferredQueue, QueueUnderflow } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const q = new DeferredQueue<number>(Infinity, 0);
 * assert.throws(() => q.get(), QueueUnderflow);
 * ```
 */
export class QueueUnderflow extends Error {
  /**
   * Makes the error; `DeferredQueue.get()` builds it itself.
   *
   * @param message What underflowed.
   */
  constructor(message = "DeferredQueue has too many waiting getters") {
    super(message);
    this.name = "QueueUnderflow";
  }
}

/**
 * {@linkcode ensureDeferred} was given something that is neither a Deferred,
 * a PromiseLike nor a generator.
 *
 * @example
 * ```ts
 * import { ensureDeferred, NotACoroutineError } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => ensureDeferred("nope" as never), NotACoroutineError);
 * ```
 */
export class NotACoroutineError extends TypeError {
  /**
   * Makes the error; `ensureDeferred()` builds it itself.
   *
   * @param message What was given.
   */
  constructor(message = "Expected a Deferred, a PromiseLike or a generator") {
    super(message);
    this.name = "NotACoroutineError";
  }
}
