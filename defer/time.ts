/**
 * A call scheduled with {@linkcode ReactorTime.callLater}.
 *
 * These interfaces live in `defer/` because `Deferred.addTimeout` needs them
 * and `defer/` depends on nothing else of torsion; `reactor/` re-exports them.
 */
export interface DelayedCall {
  /** The function to call. */
  // deno-lint-ignore no-explicit-any
  readonly func: (...args: any[]) => unknown;
  /** Its arguments. */
  readonly args: readonly unknown[];
  /** When the call is due, in the clock's seconds. */
  getTime(): number;
  /**
   * Unschedules the call.
   *
   * @throws `AlreadyCalled` or `AlreadyCancelled` when it is too late.
   */
  cancel(): void;
  /**
   * Moves the call to `secondsFromNow` from the clock's current time.
   *
   * @throws `AlreadyCalled` or `AlreadyCancelled` when it is too late.
   */
  reset(secondsFromNow: number): void;
  /**
   * Postpones (or, with a negative value, advances) the call.
   *
   * @throws `AlreadyCalled` or `AlreadyCancelled` when it is too late.
   */
  delay(secondsLater: number): void;
  /** Whether the call has neither run nor been cancelled. */
  active(): boolean;
}

/**
 * A source of time that can schedule calls: the reactor, or a deterministic
 * `Clock` in tests. Time is in seconds, as floats.
 */
export interface ReactorTime {
  /** The current time in seconds. */
  seconds(): number;
  /**
   * Schedules `fn(...args)` to run `delay` seconds from now.
   *
   * @throws {RangeError} For a negative or non-finite delay.
   */
  // deno-lint-ignore no-explicit-any
  callLater<A extends any[]>(delay: number, fn: (...args: A) => unknown, ...args: A): DelayedCall;
  /** Every call that is scheduled and still active. */
  getDelayedCalls(): DelayedCall[];
}
