import { runHolding } from "./_run_holding.ts";
import { Deferred } from "./deferred.ts";
import type { Failure } from "./failure.ts";

/**
 * A semaphore for event-driven code: at most `limit` holders at a time, the
 * others waiting for a Deferred. Use it to bound concurrency, such as
 * "no more than 4 downloads at once".
 *
 * It works like {@linkcode DeferredLock} with `limit` tokens:
 * {@linkcode DeferredSemaphore.acquire} takes one (waiting, first come
 * first served, when none is left), {@linkcode DeferredSemaphore.release}
 * gives one back, and {@linkcode DeferredSemaphore.run} does both around a
 * piece of work. Cancelling a waiting `acquire()` removes it from the queue;
 * cancelling one that already holds a token does nothing.
 *
 * Divergences from Twisted: a bad token count is a `RangeError` (Twisted: a
 * `ValueError`), and releasing more than was acquired throws an `Error`
 * (Twisted uses an assertion).
 *
 * @example Two at a time
 * ```ts
 * import { Deferred, DeferredSemaphore } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const sem = new DeferredSemaphore(2);
 * const jobs = [new Deferred<void>(), new Deferred<void>(), new Deferred<void>()];
 * const started: number[] = [];
 * jobs.forEach((job, i) =>
 *   sem.run(() => {
 *     started.push(i);
 *     return job;
 *   })
 * );
 * assert.deepEqual(started, [0, 1]); // the third waits for a token
 * jobs[1].callback();
 * assert.deepEqual(started, [0, 1, 2]);
 * assert.equal(sem.tokens, 0);
 * ```
 */
export class DeferredSemaphore {
  /** How many holders there may be at once: the token count given to the constructor. */
  readonly limit: number;
  #tokens: number;
  #waiting: Deferred<this>[] = [];

  /**
   * Makes a semaphore with every token free.
   *
   * @param tokens How many holders there may be at once: an integer of at
   * least 1.
   * @throws {RangeError} If `tokens` is not an integer of at least 1.
   */
  constructor(tokens: number) {
    if (!Number.isInteger(tokens) || tokens < 1) {
      throw new RangeError(
        `DeferredSemaphore needs a whole number of tokens of at least 1, got ${String(tokens)}`,
      );
    }
    this.limit = tokens;
    this.#tokens = tokens;
  }

  /** How many tokens are free now: `limit` minus the current holders. */
  get tokens(): number {
    return this.#tokens;
  }

  /** The pending `acquire()`s, first in line first; a live, read-only view. */
  get waiting(): readonly Deferred<this>[] {
    return this.#waiting;
  }

  /**
   * Asks for a token.
   *
   * @returns A Deferred that fires with this semaphore once the caller holds
   * a token: at once if one is free, else after the earlier waiters. Cancel
   * it to stop waiting.
   */
  acquire(): Deferred<this> {
    const d = new Deferred<this>((cancelled) => {
      // Only called while `cancelled` has not fired, so it is still waiting.
      this.#waiting.splice(this.#waiting.indexOf(cancelled), 1);
    });
    if (this.#tokens === 0) {
      this.#waiting.push(d);
    } else {
      this.#tokens--;
      d.callback(this);
    }
    return d;
  }

  /**
   * Gives a token back; the longest waiter, if any, gets it at once (its
   * callbacks run before this returns).
   *
   * @throws {Error} If every token is already free (more releases than
   * acquires).
   */
  release(): void {
    if (this.#tokens >= this.limit) {
      throw new Error(
        `Cannot release DeferredSemaphore: all ${this.limit} tokens are already free`,
      );
    }
    const next = this.#waiting.shift();
    if (next === undefined) {
      this.#tokens++;
    } else {
      next.callback(this);
    }
  }

  /**
   * Acquires a token, calls `fn(...args)` (through {@linkcode maybeDeferred},
   * so it may return a value, a Deferred or a PromiseLike, or throw), and
   * releases the token when its result arrives, success or failure.
   *
   * Cancelling the returned Deferred while it waits for a token stops
   * waiting (`fn` never runs); once `fn` runs, it cancels `fn`'s Deferred.
   *
   * @param fn The work to do while holding a token.
   * @param args Its arguments.
   * @returns A Deferred of `fn`'s result.
   * @throws {TypeError} If `fn` is not a function.
   */
  run<R, A extends unknown[]>(
    fn: (...args: A) => R | Deferred<R> | PromiseLike<R> | Failure,
    ...args: A
  ): Deferred<R> {
    return runHolding(this, "DeferredSemaphore", fn, args);
  }
}
