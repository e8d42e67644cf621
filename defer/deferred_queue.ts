import { Deferred } from "./deferred.ts";
import { QueueOverflow, QueueUnderflow } from "./errors.ts";
import { succeed } from "./helpers.ts";

function checkLimit(name: string, value: number): void {
  if (!(value >= 0) || (!Number.isInteger(value) && value !== Infinity)) {
    throw new RangeError(
      `DeferredQueue ${name} must be a whole number of at least 0 or Infinity, got ${
        String(value)
      }`,
    );
  }
}

/**
 * A queue whose consumers wait for a Deferred instead of blocking: the
 * hand-off point between code that produces items (a protocol receiving
 * messages) and code that consumes them at its own pace.
 *
 * {@linkcode DeferredQueue.put} hands an item to the consumer that has
 * waited longest, or stores it; {@linkcode DeferredQueue.get} gives a
 * Deferred of the oldest stored item, or one that fires when an item is
 * put. Both limits are checked synchronously: `put` throws
 * {@linkcode QueueOverflow} when `size` items are already stored, and `get`
 * throws {@linkcode QueueUnderflow} when `backlog` consumers are already
 * waiting. A size or backlog of 0 makes the matching call always throw.
 *
 * Cancelling a waiting `get()` removes it from the queue, so a later `put`
 * goes to the next consumer (or is stored) instead of being lost.
 *
 * Divergence from Twisted: "no limit" is `Infinity` (the default), not
 * `None`.
 *
 * @typeParam T The type of the items.
 *
 * @example Producer and consumer
 * ```ts
 * import { DeferredQueue } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const queue = new DeferredQueue<string>();
 * const got: string[] = [];
 * queue.get().addCallback((item) => got.push(item)); // waits
 * queue.put("a"); // goes straight to the waiting consumer
 * queue.put("b"); // stored
 * assert.deepEqual(got, ["a"]);
 * assert.deepEqual(queue.pending, ["b"]);
 * queue.get().addCallback((item) => got.push(item)); // fires at once
 * assert.deepEqual(got, ["a", "b"]);
 * ```
 */
export class DeferredQueue<T> {
  /** How many items may be stored at once; `Infinity` for no limit. */
  readonly size: number;
  /** How many `get()`s may wait at once; `Infinity` for no limit. */
  readonly backlog: number;
  #pending: T[] = [];
  #waiting: Deferred<T>[] = [];

  /**
   * Makes an empty queue.
   *
   * @param size How many items may be stored at once (default: no limit).
   * @param backlog How many `get()`s may wait at once (default: no limit).
   * @throws {RangeError} If `size` or `backlog` is negative, fractional or
   * NaN.
   */
  constructor(size: number = Infinity, backlog: number = Infinity) {
    checkLimit("size", size);
    checkLimit("backlog", backlog);
    this.size = size;
    this.backlog = backlog;
  }

  /** The stored items, oldest first; a live, read-only view. */
  get pending(): readonly T[] {
    return this.#pending;
  }

  /** The Deferreds of waiting `get()`s, oldest first; a live, read-only view. */
  get waiting(): readonly Deferred<T>[] {
    return this.#waiting;
  }

  /**
   * Adds an item: fires the longest-waiting `get()` with it (its callbacks
   * run before this returns), or stores it.
   *
   * @param item The item.
   * @throws {QueueOverflow} If nobody is waiting and `size` items are
   * already stored.
   */
  put(item: T): void {
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) {
      waiter.callback(item);
    } else if (this.#pending.length < this.size) {
      this.#pending.push(item);
    } else {
      throw new QueueOverflow(`Cannot put into a full DeferredQueue of size ${this.size}`);
    }
  }

  /**
   * Takes the oldest item.
   *
   * @returns A Deferred of the item: already fired if one is stored, else
   * one that fires when an item is put. Cancel it to stop waiting.
   * @throws {QueueUnderflow} If no item is stored and `backlog` `get()`s are
   * already waiting.
   */
  get(): Deferred<T> {
    if (this.#pending.length > 0) return succeed(this.#pending.shift() as T);
    if (this.#waiting.length >= this.backlog) {
      throw new QueueUnderflow(
        `Cannot wait on a DeferredQueue whose backlog of ${this.backlog} getters is full`,
      );
    }
    const d = new Deferred<T>((cancelled) => {
      // Only called while `cancelled` has not fired, so it is still waiting.
      this.#waiting.splice(this.#waiting.indexOf(cancelled), 1);
    });
    this.#waiting.push(d);
    return d;
  }
}
