import type { DelayedCall } from "../defer/time.ts";
import { type CallQueue, ScheduledCall } from "./delayed_call.ts";

/**
 * The queue of delayed calls behind every `callLater` in torsion: the
 * deterministic `Clock`'s, and the real reactor's.
 *
 * It is a binary min-heap ordered by (due time, sequence number), so that
 * calls due at the same time run in the order they were scheduled. Each call
 * knows its index in the heap, so scheduling, cancelling, `reset()` and
 * `delay()` all cost O(log n); 100,000 pending calls are nothing special.
 *
 * The scheduler never looks at a real clock or arms a timer: its owner says
 * what time it is (`runDue(now)`), and learns through {@linkcode onChange}
 * when the earliest due time may have moved, so that a real reactor can keep
 * exactly one platform timer armed for it.
 *
 * @example Running what is due
 * ```ts
 * import { Scheduler } from "./_scheduler.ts";
 * import assert from "node:assert/strict";
 *
 * let now = 0;
 * const scheduler = new Scheduler(() => now);
 * const seen: string[] = [];
 * scheduler.callLater(2, (s: string) => seen.push(s), "b");
 * scheduler.callLater(1, (s: string) => seen.push(s), "a");
 * assert.equal(scheduler.nextTime(), 1);
 * now = 5;
 * scheduler.runDue(now);
 * assert.deepEqual(seen, ["a", "b"]);
 * ```
 */
export class Scheduler {
  /**
   * Called when the earliest due time may have changed: a call was scheduled
   * ahead of all others, or the first call was cancelled, reset or delayed.
   * Not called for the calls `runDue` takes off the heap: whoever called
   * `runDue` knows to look at {@linkcode Scheduler.nextTime} afterwards.
   */
  onChange: (() => void) | undefined = undefined;

  readonly #seconds: () => number;
  readonly #heap: ScheduledCall[] = [];
  readonly #queue: CallQueue;
  #seq = 0;

  /**
   * Makes an empty scheduler.
   *
   * @param seconds The current time, in seconds; `reset()` on a call measures
   * from it, and so does `callLater`.
   */
  constructor(seconds: () => number) {
    this.#seconds = seconds;
    this.#queue = {
      seconds,
      remove: (call) => this.#remove(call),
      reposition: (call) => this.#reposition(call),
    };
  }

  /** How many calls are pending. */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Schedules `fn(...args)` to run `delay` seconds after the current time.
   *
   * @param delay Seconds from now, zero or more.
   * @param fn The function to call.
   * @param args Its arguments.
   * @returns The call, to cancel, reset or delay.
   * @throws {RangeError} If `delay` is negative, NaN or infinite.
   * @throws {TypeError} If `fn` is not a function.
   */
  // deno-lint-ignore no-explicit-any
  callLater<A extends any[]>(delay: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    if (typeof delay !== "number" || !(delay >= 0) || delay === Infinity) {
      throw new RangeError(
        `Delay must be a finite number of seconds, zero or more: ${String(delay)}`,
      );
    }
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot schedule a call to something that is not a function: ${describe(fn)}`,
      );
    }
    const call = new ScheduledCall(this.#queue, this.#seconds() + delay, this.#seq++, fn, args);
    const heap = this.#heap;
    call.heapIndex = heap.length;
    heap.push(call);
    this.#siftUp(call.heapIndex);
    if (call.heapIndex === 0) this.onChange?.();
    return call;
  }

  /**
   * Every pending call, in the order they would run.
   *
   * @returns A new array; changing it changes nothing.
   */
  getDelayedCalls(): DelayedCall[] {
    return this.#heap.slice().sort(compare);
  }

  /**
   * When the earliest pending call is due.
   *
   * @returns The time, in seconds; `undefined` when nothing is pending.
   */
  nextTime(): number | undefined {
    return this.#heap.length > 0 ? this.#heap[0].time : undefined;
  }

  /**
   * Runs every call due at or before `now`, earliest first (in scheduling
   * order for equal times). A call scheduled by one of them runs in the same
   * pass if it is due by `now`, so `callLater(0, f)` during the pass of a
   * `Clock` runs `f` at once. Each call is taken off the heap and marked
   * called before it runs.
   *
   * @param now The time to run up to, in seconds.
   * @param onError Told of an error a call throws, and the call; the other
   * calls then run. Without it the error escapes this method and the calls not
   * yet run stay pending.
   * @throws Whatever a call throws, when there is no `onError`.
   */
  runDue(now: number, onError?: (error: unknown, call: DelayedCall) => void): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].time <= now) {
      const call = this.#popFirst();
      if (onError === undefined) {
        call.invoke();
      } else {
        try {
          call.invoke();
        } catch (error) {
          onError(error, call);
        }
      }
    }
  }

  #popFirst(): ScheduledCall {
    const heap = this.#heap;
    const first = heap[0];
    const last = heap.pop()!;
    if (last !== first) {
      heap[0] = last;
      last.heapIndex = 0;
      this.#siftDown(0);
    }
    first.heapIndex = -1;
    return first;
  }

  #remove(call: ScheduledCall): void {
    const heap = this.#heap;
    const index = call.heapIndex;
    if (index < 0) return;
    const last = heap.pop()!;
    call.heapIndex = -1;
    if (last !== call) {
      heap[index] = last;
      last.heapIndex = index;
      this.#siftDown(this.#siftUp(index));
    }
    if (index === 0) this.onChange?.();
  }

  #reposition(call: ScheduledCall): void {
    const index = call.heapIndex;
    if (index < 0) return;
    call.seq = this.#seq++;
    this.#siftDown(this.#siftUp(index));
    if (index === 0 || call.heapIndex === 0) this.onChange?.();
  }

  // Moves the entry at `index` towards the root while it sorts before its
  // parent; returns where it ended up.
  #siftUp(index: number): number {
    const heap = this.#heap;
    const item = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (!before(item, parent)) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.heapIndex = index;
    return index;
  }

  // Moves the entry at `index` towards the leaves while a child sorts before
  // it.
  #siftDown(index: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const item = heap[index];
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && before(heap[right], heap[left]) ? right : left;
      const next = heap[child];
      if (!before(next, item)) break;
      heap[index] = next;
      next.heapIndex = index;
      index = child;
    }
    heap[index] = item;
    item.heapIndex = index;
  }
}

function before(a: ScheduledCall, b: ScheduledCall): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

function compare(a: ScheduledCall, b: ScheduledCall): number {
  return a.time - b.time || a.seq - b.seq;
}

function describe(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
