import type { DelayedCall } from "../defer/time.ts";

/**
 * Thrown by `cancel()`, `reset()` or `delay()` on a {@linkcode DelayedCall}
 * that has already run, including from inside the call itself: it is too
 * late to change it. Check `active()` first when either outcome is fine.
 *
 * Twisted's `AlreadyCalled` is a `ValueError`; this one extends `Error`.
 *
 * @example Cancelling a call that has run
 * ```ts
 * import { AlreadyCalled, Clock } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const call = clock.callLater(1, () => {});
 * clock.advance(1);
 * assert.equal(call.active(), false);
 * assert.throws(() => call.cancel(), AlreadyCalled);
 * ```
 */
export class AlreadyCalled extends Error {
  /**
   * Makes the error; delayed calls build it themselves.
   *
   * @param message What was attempted on which call.
   */
  constructor(message = "The delayed call has already run") {
    super(message);
    this.name = "AlreadyCalled";
  }
}

/**
 * Thrown by `cancel()`, `reset()` or `delay()` on a {@linkcode DelayedCall}
 * that was cancelled: a cancelled call cannot be brought back, schedule a new
 * one instead.
 *
 * Twisted's `AlreadyCancelled` is a `ValueError`; this one extends `Error`.
 *
 * @example Cancelling twice
 * ```ts
 * import { AlreadyCancelled, Clock } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const call = clock.callLater(1, () => {});
 * call.cancel();
 * assert.throws(() => call.cancel(), AlreadyCancelled);
 * ```
 */
export class AlreadyCancelled extends Error {
  /**
   * Makes the error; delayed calls build it themselves.
   *
   * @param message What was attempted on which call.
   */
  constructor(message = "The delayed call has already been cancelled") {
    super(message);
    this.name = "AlreadyCancelled";
  }
}

/**
 * What a {@linkcode ScheduledCall} needs from the queue that holds it: the
 * queue's clock, and a way to move or drop the call when it changes.
 */
export interface CallQueue {
  /** The queue's current time, in seconds. */
  seconds(): number;
  /** Takes a call that is being cancelled out of the queue. */
  remove(call: ScheduledCall): void;
  /** Moves a call whose time has just changed to its new place. */
  reposition(call: ScheduledCall): void;
}

/**
 * The one implementation of the {@linkcode DelayedCall} interface, made by a
 * scheduler's `callLater` (the `Clock`'s and the real reactor's): a function,
 * its arguments and the time it is due, plus the bookkeeping of the heap that
 * holds it.
 *
 * `reset()` and `delay()` move the call at once, in O(log n), and give it a
 * new place in the scheduling order: among calls due at the same time, a call
 * that was moved runs after the ones already due then, as if it had just been
 * scheduled. (Twisted's `Clock` keeps a moved call's old place in its sorted
 * list, and its reactor does not order equal times at all.)
 *
 * @example Moving a call
 * ```ts
 * import { Clock } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const call = clock.callLater(5, () => {});
 * call.delay(2); // 2 s after the time it was due
 * assert.equal(call.getTime(), 7);
 * clock.advance(1);
 * call.reset(1); // 1 s from now
 * assert.equal(call.getTime(), 2);
 * ```
 */
export class ScheduledCall implements DelayedCall {
  /** The function to call. */
  // deno-lint-ignore no-explicit-any
  readonly func: (...args: any[]) => unknown;
  /** Its arguments. */
  readonly args: readonly unknown[];
  /** When the call is due, in the queue's seconds. Set by this class only. */
  time: number;
  /** The call's place among calls due at the same time. Set by the queue only. */
  seq: number;
  /** Where the call is in its queue's heap; -1 once out of it. Set by the queue only. */
  heapIndex = -1;
  #queue: CallQueue;
  #called = false;
  #cancelled = false;

  /**
   * Makes a call; a scheduler's `callLater` does this, and puts it in its
   * queue.
   *
   * @param queue The queue that holds the call.
   * @param time When the call is due, in the queue's seconds.
   * @param seq Its place among calls due at the same time.
   * @param func The function to call.
   * @param args Its arguments.
   */
  constructor(
    queue: CallQueue,
    time: number,
    seq: number,
    // deno-lint-ignore no-explicit-any
    func: (...args: any[]) => unknown,
    args: readonly unknown[],
  ) {
    this.#queue = queue;
    this.time = time;
    this.seq = seq;
    this.func = func;
    this.args = args;
  }

  /** Whether the call has run, or is running now. */
  get called(): boolean {
    return this.#called;
  }

  /** Whether the call was cancelled. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /**
   * When the call is due.
   *
   * @returns The time, in the clock's seconds.
   */
  getTime(): number {
    return this.time;
  }

  /**
   * Whether the call is still to run: neither run nor cancelled.
   *
   * @returns `true` while the call is pending.
   */
  active(): boolean {
    return !(this.#called || this.#cancelled);
  }

  /**
   * Unschedules the call, so that it never runs.
   *
   * @throws {AlreadyCancelled} If it was cancelled already.
   * @throws {AlreadyCalled} If it has run, or is running now.
   */
  cancel(): void {
    this.#checkActive("cancel");
    this.#cancelled = true;
    this.#queue.remove(this);
  }

  /**
   * Reschedules the call to run `secondsFromNow` after the clock's current
   * time, earlier or later than before.
   *
   * @param secondsFromNow Seconds from now; a negative value makes the call
   * due at once.
   * @throws {RangeError} If `secondsFromNow` is not a finite number.
   * @throws {AlreadyCancelled} If the call was cancelled.
   * @throws {AlreadyCalled} If it has run, or is running now.
   */
  reset(secondsFromNow: number): void {
    checkFinite(secondsFromNow, "Seconds from now");
    this.#checkActive("reset");
    this.time = this.#queue.seconds() + secondsFromNow;
    this.#queue.reposition(this);
  }

  /**
   * Postpones the call by `secondsLater` from the time it is due now (or,
   * with a negative value, brings it forward).
   *
   * @param secondsLater Seconds to add to its time.
   * @throws {RangeError} If `secondsLater` is not a finite number.
   * @throws {AlreadyCancelled} If the call was cancelled.
   * @throws {AlreadyCalled} If it has run, or is running now.
   */
  delay(secondsLater: number): void {
    checkFinite(secondsLater, "Seconds later");
    this.#checkActive("delay");
    this.time += secondsLater;
    this.#queue.reposition(this);
  }

  /**
   * Runs the call: marks it called, then calls the function. The queue takes
   * the call out of its heap first. Whatever the function throws escapes.
   *
   * @returns What the function returned.
   */
  invoke(): unknown {
    this.#called = true;
    return this.func(...this.args);
  }

  /**
   * Describes the call for logs, as Twisted's `repr` does.
   *
   * @returns For example `<DelayedCall [1.5s] called=false cancelled=false tick(1, "a")>`.
   */
  toString(): string {
    const left = this.time - this.#queue.seconds();
    const args = this.args.map(describeValue).join(", ");
    return `<DelayedCall [${left}s] called=${this.#called} cancelled=${this.#cancelled} ` +
      `${functionName(this.func)}(${args})>`;
  }

  #checkActive(action: string): void {
    if (this.#cancelled) {
      throw new AlreadyCancelled(
        `Cannot ${action} a delayed call to ${functionName(this.func)} that was cancelled`,
      );
    }
    if (this.#called) {
      throw new AlreadyCalled(
        `Cannot ${action} a delayed call to ${functionName(this.func)} that has already run`,
      );
    }
  }
}

/**
 * The name to show for a function in messages and logs.
 *
 * @param fn The function.
 * @returns Its name, or `<anonymous>`.
 */
export function functionName(fn: unknown): string {
  const name = (fn as { name?: unknown } | null)?.name;
  return typeof name === "string" && name !== "" ? name : "<anonymous>";
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return functionName(value);
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function checkFinite(value: number, what: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`${what} must be a finite number: ${String(value)}`);
  }
}
