import { runHolding } from "./_run_holding.ts";
import { Deferred } from "./deferred.ts";
import type { Failure } from "./failure.ts";

/**
 * A lock for event-driven code: only one holder at a time, and the others
 * wait for a Deferred instead of blocking the thread. Use it to keep
 * asynchronous operations on a shared resource (a connection, a file) from
 * interleaving.
 *
 * {@linkcode DeferredLock.acquire} gives a Deferred that fires with the lock
 * itself once it is yours; waiters are served first come, first served.
 * Whoever acquired must call {@linkcode DeferredLock.release}; prefer
 * {@linkcode DeferredLock.run}, which releases for you when the work is done,
 * however it ends.
 *
 * Cancelling a waiting `acquire()` removes it from the queue (it fails with
 * {@linkcode CancelledError}); cancelling one that has already acquired
 * does nothing, and the lock stays held.
 *
 * Divergence from Twisted: releasing an unlocked lock throws an `Error`
 * (Twisted uses an assertion).
 *
 * @example Serialising work
 * ```ts
 * import { Deferred, DeferredLock } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const lock = new DeferredLock();
 * const order: string[] = [];
 * const first = new Deferred<void>();
 * lock.run(() => {
 *   order.push("first starts");
 *   return first;
 * });
 * lock.run(() => order.push("second starts"));
 * assert.deepEqual(order, ["first starts"]); // second waits for the lock
 * first.callback();
 * assert.deepEqual(order, ["first starts", "second starts"]);
 * assert.equal(lock.locked, false);
 * ```
 */
export class DeferredLock {
  #locked = false;
  #waiting: Deferred<this>[] = [];

  /**
   * Whether the lock is held. Useful for a "try lock": acquire only if it is
   * `false`. Do not change the lock's state any other way than through its
   * methods.
   */
  get locked(): boolean {
    return this.#locked;
  }

  /** The pending `acquire()`s, first in line first; a live, read-only view. */
  get waiting(): readonly Deferred<this>[] {
    return this.#waiting;
  }

  /**
   * Asks for the lock.
   *
   * @returns A Deferred that fires with this lock once it is held by the
   * caller: at once if the lock is free, else after the earlier waiters.
   * Cancel it to stop waiting.
   */
  acquire(): Deferred<this> {
    const d = new Deferred<this>((cancelled) => {
      // Only called while `cancelled` has not fired, so it is still waiting.
      this.#waiting.splice(this.#waiting.indexOf(cancelled), 1);
    });
    if (this.#locked) {
      this.#waiting.push(d);
    } else {
      this.#locked = true;
      d.callback(this);
    }
    return d;
  }

  /**
   * Gives the lock up; the longest waiter, if any, gets it at once (its
   * callbacks run before this returns).
   *
   * @throws {Error} If the lock is not held.
   */
  release(): void {
    if (!this.#locked) throw new Error("Cannot release a DeferredLock that is not locked");
    const next = this.#waiting.shift();
    if (next === undefined) {
      this.#locked = false;
    } else {
      next.callback(this);
    }
  }

  /**
   * Acquires the lock, calls `fn(...args)` (through {@linkcode maybeDeferred},
   * so it may return a value, a Deferred or a PromiseLike, or throw), and
   * releases the lock when its result arrives, success or failure.
   *
   * Cancelling the returned Deferred while it waits for the lock stops
   * waiting (`fn` never runs); once `fn` runs, it cancels `fn`'s Deferred.
   *
   * @param fn The work to do while holding the lock.
   * @param args Its arguments.
   * @returns A Deferred of `fn`'s result.
   * @throws {TypeError} If `fn` is not a function.
   */
  run<R, A extends unknown[]>(
    fn: (...args: A) => R | Deferred<R> | PromiseLike<R> | Failure,
    ...args: A
  ): Deferred<R> {
    return runHolding(this, "DeferredLock", fn, args);
  }
}
