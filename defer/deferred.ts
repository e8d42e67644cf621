import { Failure } from "./failure.ts";
import { AlreadyCalledError, CancelledError, TimeoutError } from "./errors.ts";
import {
  captureStack,
  DebugInfo,
  formatDebugStacks,
  getDebugging,
  watchForUnhandled,
} from "./debug.ts";
import type { ReactorTime } from "./time.ts";

/**
 * A callback's return: a value, a Failure (switches to the errback path), or
 * a Deferred or other PromiseLike (the chain waits for it).
 */
export type CallbackResult<R> = R | PromiseLike<R> | Failure;

/**
 * Extra arguments for {@linkcode Deferred.addCallbacks}. `null` means none,
 * as Python's `None` does in Twisted.
 */
export interface AddCallbacksOptions<CA extends unknown[], EA extends unknown[]> {
  /** Passed to the callback after the result. */
  callbackArgs?: CA | null;
  /** Passed to the errback after the failure. */
  errbackArgs?: EA | null;
}

// A Deferred's state, packed into one small integer so that an instance
// costs few fields. The bits below PAUSE are flags; the pause count sits
// above them (`state >> PAUSE_SHIFT`), so `state >= PAUSE` means "paused".
/** `callback()` or `errback()` has been called. */
const CALLED = 1;
/** The run loop is calling this Deferred's callbacks right now. */
const RUNNING = 2;
/** Cancelled without a canceller: one late `callback()`/`errback()` is ignored. */
const SUPPRESS = 4;
/** `#result` is a Deferred that this one waits on (a callback returned it). */
const WAITING = 8;
const PAUSE_SHIFT = 4;
/** One `pause()`: added to the state, so the count needs no field of its own. */
const PAUSE = 1 << PAUSE_SHIFT;

// Kinds of Link, the entry used where a plain [callback, errback] pair in
// the queue does not do. NORMAL carries extra arguments; CONTINUE hands the
// result to a Deferred that waits on this one (a callback returned this one
// to it); CHAIN fires a Deferred given to chainDeferred(). All are handled
// inside the run loop, so none grows the stack however long the chain is.
const NORMAL = 0;
const CONTINUE = 1;
const CHAIN = 2;
/** The second slot of a queue pair whose first slot is a Link. */
const LINK: unique symbol = Symbol("link");

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => unknown;
type Hook = (outer: Deferred<unknown>, inner: Deferred<unknown>) => void;
type Take = (d: Deferred<unknown>) => unknown;

/** Returned by {@linkcode _takeResult} when the result is not there to take. */
export const _NO_RESULT: unique symbol = Symbol("no result");

// Failures that a `then()` has delivered: awaiting counts as handling.
const delivered = new WeakSet<Failure>();
let waitOnHook: Hook;
let takeHook: Take;
let noteCreatorHook: (d: Deferred<unknown>) => void;
// deno-lint-ignore no-explicit-any
let pushHook: (d: Deferred<unknown>, a: unknown, b: unknown) => Deferred<any>;
let addHook: (
  d: Deferred<unknown>,
  cb: unknown,
  cbArgs: unknown,
  eb: unknown,
  ebArgs: unknown,
  // deno-lint-ignore no-explicit-any
) => Deferred<any>;
let fireHook: (d: Deferred<unknown>, result: unknown) => void;
let failHook: (d: Deferred<unknown>, reason?: unknown) => void;
let cancelHook: (d: Deferred<unknown>) => void;
let firedHook: (value: unknown) => Deferred<unknown>;
let cancellerHook: (canceller: _Canceller) => Deferred<unknown>;

function isThenable(x: unknown): x is PromiseLike<unknown> {
  try {
    return typeof (x as { then?: unknown } | null)?.then === "function";
  } catch {
    // A `then` getter that throws: say yes, so that the caller adopts it
    // with fromPromise(), which turns the error into a failure as a
    // Promise turns it into a rejection.
    return true;
  }
}

/**
 * A result that is not there yet: the callback chain at the centre of
 * torsion, modelled on Twisted's Deferred.
 *
 * Callbacks and errbacks run **synchronously**, in order, the moment the
 * result arrives (or at once, if it has arrived already). Each gets the
 * previous one's result; throwing or returning a {@linkcode Failure} moves the
 * chain to the errback path, and an errback that returns normally moves it
 * back. A callback that returns another Deferred (or any PromiseLike) pauses
 * the chain until that one has a result. Chains of any length, however they
 * are built, run without growing the call stack.
 *
 * A Deferred is `PromiseLike`, so `await d` works, giving the result or
 * throwing the failure's original value. Awaiting resumes in a microtask, as
 * every `await` does; use {@linkcode inlineCallbacks} where synchronous
 * resumption matters.
 *
 * Divergences from Twisted: there are no keyword arguments; a callback that
 * returns the Deferred it is attached to fails the chain with a `TypeError`
 * instead of hanging it; `chainDeferred` runs iteratively; when a Deferred
 * hands its result to a paused one waiting on it, its own later callbacks
 * still run at once (Twisted leaves them until another callback is added).
 *
 * @typeParam T The type of the result.
 *
 * @example Callback style
 * ```ts
 * import { Deferred } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const d = new Deferred<number>();
 * const seen: unknown[] = [];
 * d.addCallback((n) => n * 2)
 *   .addCallback((n) => {
 *     if (n > 5) throw new RangeError(`${n} is too big`);
 *     return n;
 *   })
 *   .addErrback((f) => f.getErrorMessage())
 *   .addCallback((x) => seen.push(x));
 * d.callback(3); // runs the whole chain now, synchronously
 * assert.deepEqual(seen, ["6 is too big"]);
 * ```
 */
export class Deferred<T = unknown> implements PromiseLike<T> {
  // Six fields, so that a Deferred costs about what a small plain object
  // does; what few Deferreds need (debugging, bound methods, the source of a
  // chainDeferred()) waits in `#extra`, made on first need.
  #state = 0;
  #result: unknown = undefined;
  // The callbacks still to run, flat, with no allocation per callback:
  // `[cursor, callback, errback, callback, errback, ...]`, where `cursor` is
  // the index of the next pair to run. A pair `[link, LINK]` (extra
  // arguments, or a CONTINUE/CHAIN marker) takes its meaning from the Link.
  // `null` when there is nothing to run. A fired Deferred keeps a queue only
  // while a run will come back to it (its callbacks are running, it is
  // paused or waiting, or it has handed its result on and the run returns to
  // it after), so a pair appended to a queue is always reached without
  // starting a run: the adders rely on this to stay small.
  #queue: unknown[] | null = null;
  // Typed loosely so that Deferred<T> stays covariant in T, as Promise<T> is:
  // a Deferred<string> must be usable where a Deferred<unknown> is expected.
  // An object with cancelDeferred() stands in for a function where the
  // library would otherwise make a closure per Deferred (inlineCallbacks).
  // deno-lint-ignore no-explicit-any
  #canceller: ((d: Deferred<any>) => void) | _Canceller | undefined;
  #extra: Extra | undefined = undefined;
  // The bound `callback`, made when first read: a field of its own, as most
  // Deferreds fired by hand are fired through it.
  #callback: AnyFn | undefined = undefined;

  static {
    fireHook = (d, result) => d.#fire(result);
    failHook = (d, reason) => d.#fail(reason);
    cancelHook = (d) => d.#cancel();
    firedHook = (value) => {
      const d = new Deferred<unknown>();
      if (value instanceof Failure || getDebugging()) {
        d.#fire(value);
      } else {
        d.#state = CALLED;
        d.#result = value;
      }
      return d;
    };
    cancellerHook = (canceller) => {
      const d = new Deferred<unknown>();
      d.#canceller = canceller;
      return d;
    };
    pushHook = (d, a, b) => d.#push(a, b);
    noteCreatorHook = (d) => {
      (d.#extra = new Extra()).creator = captureStack();
    };
    addHook = (d, cb, cbArgs, eb, ebArgs) => d.#add(cb, cbArgs, eb, ebArgs);
    takeHook = (d) => {
      const state = d.#state;
      if ((state & (CALLED | WAITING)) !== CALLED || state >= PAUSE || d.#queue !== null) {
        return _NO_RESULT;
      }
      const result = d.#result;
      d.#result = undefined;
      d.#handled();
      return result;
    };
    waitOnHook = (outer, inner) => {
      // As though `() => inner` were the first callback.
      const queue = outer.#queue;
      const adopt = (): unknown => inner;
      if (queue === null) outer.#queue = [1, adopt, null];
      else queue.splice(queue[0] as number, 0, adopt, null);
      outer.#fire(undefined);
    };
  }

  /**
   * Makes a Deferred with no result yet; fire it with `callback()` or
   * `errback()`.
   *
   * @param canceller Called by {@linkcode Deferred.cancel} while there is no
   * result, to stop the work that would produce it. It may fire the Deferred
   * itself; if it does not, the Deferred fails with {@linkcode CancelledError}.
   */
  constructor(canceller?: (d: Deferred<T>) => void) {
    this.#canceller = canceller;
    if (getDebugging()) noteCreatorHook(this); // out of line: see addCallback
  }

  /** Whether `callback()` or `errback()` has been called (true even while waiting on another Deferred). */
  get called(): boolean {
    return (this.#state & CALLED) !== 0;
  }

  /** How many `pause()` calls are not yet matched by `unpause()`. */
  get paused(): number {
    return this.#state >> PAUSE_SHIFT;
  }

  /**
   * The current result, for inspection: `undefined` before firing, a
   * {@linkcode Failure} on the errback path, or the Deferred being waited on.
   */
  get result(): unknown {
    return this.#result;
  }

  /**
   * Gives the Deferred its result and runs the callbacks, synchronously.
   * Passing a Failure is the same as calling `errback`.
   *
   * Like a Python bound method, `d.callback` works on its own:
   * `reactor.callLater(0, d.callback, value)` fires `d`, and
   * `d.callback === d.callback`. The same holds for `errback` and `cancel`.
   *
   * @param result The result.
   * @throws {AlreadyCalledError} If the Deferred already has a result (one
   * call is swallowed after a `cancel()` without canceller).
   */
  // callback, errback and cancel are accessors, not methods, so that the
  // function each gives is bound; it is made on first use and kept. Bound
  // arrows made in the constructor cost every Deferred three closures (about
  // twice the cost of `new Deferred()`, measured with bench/defer_bench.ts);
  // made on first use, they cost only the Deferreds fired through them.
  // `{ callback(...): void }["callback"]` is a method's type: TypeScript
  // checks a method's parameters bivariantly, which keeps Deferred<T>
  // covariant in T, as it was with a plain method.
  get callback(): { callback(result: T): void }["callback"] {
    // A bound function is one allocation; an arrow capturing `this` is two.
    return (this.#callback ??= fireHook.bind(null, this as Deferred<unknown>));
  }

  /**
   * Fails the Deferred and runs the errbacks, synchronously.
   *
   * @param reason What went wrong; wrapped in a {@linkcode Failure} unless it
   * is one. With no reason, an `Error` saying so is used (JavaScript has no
   * "current exception" to take, unlike Python).
   * @throws {AlreadyCalledError} As for `callback`.
   */
  get errback(): (reason?: unknown) => void {
    const extra = (this.#extra ??= new Extra());
    return (extra.errback ??= failHook.bind(null, this as Deferred<unknown>));
  }

  #fail(reason: unknown): void {
    this.#fire(
      reason instanceof Failure ? reason : new Failure(
        reason === undefined ? new Error("errback() was called without a reason") : reason,
      ),
    );
  }

  /**
   * Adds a callback and an errback at the same place in the chain; only one of
   * them runs, depending on the result at that point.
   *
   * @param callback Runs on success; `null` passes the result through.
   * @param errback Runs on failure; `null` or omitted passes it through.
   * @param options Extra arguments for each (`null` or omitted: none).
   * @returns This Deferred, re-typed to the new result.
   */
  addCallbacks<R = T, E = never, CA extends unknown[] = [], EA extends unknown[] = []>(
    callback: ((result: T, ...args: CA) => CallbackResult<R>) | null,
    errback?: ((failure: Failure, ...args: EA) => CallbackResult<E>) | null,
    options?: AddCallbacksOptions<CA, EA>,
  ): Deferred<R | E> {
    const ca = options?.callbackArgs;
    const ea = options?.errbackArgs;
    return this.#add(
      callback,
      ca != null && ca.length > 0 ? ca : undefined,
      errback ?? null,
      ea != null && ea.length > 0 ? ea : undefined,
    );
  }

  /**
   * Adds a callback; failures pass it by.
   *
   * @param callback Gets the result and `args`.
   * @param args Extra arguments.
   * @returns This Deferred, re-typed to the callback's result.
   */
  addCallback<R, A extends unknown[] = []>(
    callback: (result: T, ...args: A) => CallbackResult<R>,
    ...args: A
  ): Deferred<R>;
  // deno-lint-ignore no-explicit-any
  addCallback(callback: AnyFn): Deferred<any> {
    // Kept to a few bytes of bytecode: V8 inlines only so much into one
    // function, and a chain of eleven adds should all fit. `arguments`
    // instead of a rest parameter: no empty array per call.
    if (arguments.length !== 1) return addCallbackWithArgs(this, arguments);
    const queue = this.#queue;
    if (queue === null) return pushHook(this, callback, null);
    queue.push(callback, null); // a run is pending, or the Deferred is not fired
    return this;
  }

  /**
   * Adds an errback; successes pass it by. Return normally to recover, throw
   * (or `failure.trap(...)`) to pass the failure on.
   *
   * @param errback Gets the {@linkcode Failure} and `args`.
   * @param args Extra arguments.
   * @returns This Deferred, re-typed to either result.
   */
  addErrback<R = never, A extends unknown[] = []>(
    errback: (failure: Failure, ...args: A) => CallbackResult<R>,
    ...args: A
  ): Deferred<T | R>;
  // deno-lint-ignore no-explicit-any
  addErrback(errback: AnyFn): Deferred<any> {
    // Small, as addCallback is.
    if (arguments.length !== 1) return addErrbackWithArgs(this, arguments);
    const queue = this.#queue;
    if (queue === null) return pushHook(this, null, errback);
    queue.push(null, errback);
    return this;
  }

  /**
   * Adds a function that runs on either path, like `finally` that can change
   * the result.
   *
   * @param fn Gets the result or the {@linkcode Failure}, and `args`.
   * @param args Extra arguments.
   * @returns This Deferred, re-typed to the function's result.
   */
  addBoth<R, A extends unknown[] = []>(
    fn: (result: T | Failure, ...args: A) => CallbackResult<R>,
    ...args: A
  ): Deferred<R>;
  // deno-lint-ignore no-explicit-any
  addBoth(fn: AnyFn): Deferred<any> {
    // Small, as addCallback is.
    if (arguments.length !== 1) return addBothWithArgs(this, arguments);
    const queue = this.#queue;
    if (queue === null) return pushHook(this, fn, fn);
    queue.push(fn, fn);
    return this;
  }

  /**
   * Fires `other` with this Deferred's result when it arrives; this
   * Deferred's own result then becomes `undefined`. Cancelling `other` does
   * not cancel this one.
   *
   * Unlike Twisted's, this runs iteratively: 100,000 links fire without
   * stack overflow.
   *
   * @param other The Deferred to fire.
   * @returns This Deferred (its later callbacks get `undefined`).
   */
  chainDeferred(other: Deferred<T>): Deferred<undefined> {
    (other.#extra ??= new Extra()).chainedTo = this as Deferred<unknown>;
    this.#push(new Link(CHAIN, null, other, null, other), LINK);
    return this as Deferred<unknown> as Deferred<undefined>;
  }

  /**
   * Cancels the work: while there is no result, calls the canceller, and fails
   * the Deferred with {@linkcode CancelledError} if the canceller did not give
   * it a result. Without a canceller, one later `callback`/`errback` (the
   * work's late answer) is silently ignored. If the Deferred is waiting on
   * another one, that one is cancelled instead. Otherwise does nothing.
   *
   * @throws Whatever the canceller throws.
   */
  get cancel(): () => void {
    const extra = (this.#extra ??= new Extra());
    return (extra.cancel ??= cancelHook.bind(null, this as Deferred<unknown>));
  }

  #cancel(): void {
    if ((this.#state & CALLED) === 0) {
      const canceller = this.#canceller;
      if (typeof canceller === "function") canceller(this);
      else if (canceller !== undefined) canceller.cancelDeferred(this);
      else this.#state |= SUPPRESS;
      if ((this.#state & CALLED) === 0) this.#fire(new Failure(new CancelledError()));
    } else if ((this.#state & WAITING) !== 0) {
      (this.#result as Deferred<unknown>).cancel();
    }
  }

  /** Stops callbacks from running until a matching `unpause()`. Counted. */
  pause(): void {
    this.#state += PAUSE;
  }

  /** Undoes one `pause()`; at zero, runs any callbacks that were held. */
  unpause(): void {
    if (this.#state < PAUSE) return;
    this.#state -= PAUSE;
    if (this.#state < PAUSE && (this.#state & CALLED) !== 0) this.#runCallbacks();
  }

  /**
   * Fails this Deferred with {@linkcode TimeoutError} if it has no result
   * `seconds` from now, by cancelling it; the timer is cancelled when the
   * result comes first. The timeout covers the callbacks added before this
   * call.
   *
   * @param seconds How long to wait.
   * @param clock Where time comes from: the reactor, or a `Clock` in tests.
   * @param onTimeoutCancel Decides the result after a timeout, given the
   * result the cancellation produced and `seconds`; the default turns
   * {@linkcode CancelledError} into {@linkcode TimeoutError}.
   * @returns This Deferred.
   *
   * @example
   * ```ts
   * import { Deferred, TimeoutError } from "@torsion/torsion/defer";
   * import { Clock } from "@torsion/torsion/reactor";
   * import assert from "node:assert/strict";
   *
   * const clock = new Clock();
   * const d = new Deferred().addTimeout(10, clock);
   * let error: unknown;
   * d.addErrback((f) => (error = f.value));
   * clock.advance(15);
   * assert.ok(error instanceof TimeoutError);
   * ```
   */
  addTimeout(
    seconds: number,
    clock: ReactorTime,
    onTimeoutCancel?: (result: unknown, seconds: number) => unknown,
  ): Deferred<T> {
    let timedOut = false;
    const timer = clock.callLater(seconds, () => {
      timedOut = true;
      this.cancel();
    });
    const convert = onTimeoutCancel ?? cancelledToTimeout;
    this.addBoth((result) => (timedOut ? convert(result, seconds) : result));
    return this.addBoth((result) => {
      if (timer.active()) timer.cancel();
      return result;
    }) as Deferred<T>;
  }

  /**
   * Promise interop: `await d` gives the result or throws the failure's
   * original value. The result stays in the chain for later callbacks, and a
   * failure delivered this way counts as handled (it is not reported when the
   * Deferred is garbage-collected).
   *
   * @param onFulfilled As for `Promise.then`.
   * @param onRejected As for `Promise.then`; receives the original value.
   * @returns A Promise, as `Promise.then` does.
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const state = this.#state;
    if ((state & (CALLED | WAITING)) === CALLED && state < PAUSE && this.#queue === null) {
      // The result is here and nothing is queued before it: hand it over
      // without going through the chain (what `await` of a fired Deferred
      // does).
      const result = this.#result;
      if (!(result instanceof Failure)) {
        return Promise.resolve(result as T).then(onFulfilled, onRejected);
      }
      delivered.add(result);
      this.#handled();
      return Promise.reject(result.value).then(onFulfilled, onRejected);
    }
    return new Promise<T>((resolve, reject) => {
      this.#add(
        (result: unknown) => {
          resolve(result as T);
          return result;
        },
        undefined,
        (failure: Failure) => {
          delivered.add(failure);
          reject(failure.value);
          return failure;
        },
        undefined,
      );
    }).then(onFulfilled, onRejected);
  }

  /**
   * Hands the result over to a new Promise, which takes it: this Deferred's
   * later callbacks get `undefined`, as after Twisted's `asFuture`.
   *
   * @returns A Promise of the result.
   */
  asPromise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#add(
        (result: unknown) => {
          resolve(result as T);
        },
        undefined,
        (failure: Failure) => {
          reject(failure.value);
        },
        undefined,
      );
    });
  }

  /**
   * Makes `const x = yield* d` work inside {@linkcode inlineCallbacks}, with
   * `x` typed as `T`.
   *
   * @returns A generator that yields this Deferred once.
   */
  [Symbol.iterator](): Iterator<Deferred<T>, T, unknown> {
    return new YieldOnce(this);
  }

  /**
   * A Deferred that fires when `promise` settles. Promises cannot be stopped,
   * so cancelling it fails it with {@linkcode CancelledError} at once and
   * ignores the promise's late answer.
   *
   * A `then` that throws (or a `then` getter that does) fails the Deferred
   * with what it threw, as a Promise resolved with such an object rejects.
   *
   * @param promise Any PromiseLike.
   * @returns A Deferred of its value.
   */
  static fromPromise<T>(promise: PromiseLike<T>): Deferred<T> {
    const d = new Deferred<T>();
    try {
      promise.then(
        (value) => d.#settleLate(value),
        (reason) => d.#settleLate(reason instanceof Failure ? reason : new Failure(reason)),
      );
    } catch (error) {
      d.#settleLate(error instanceof Failure ? error : new Failure(error));
    }
    return d;
  }

  /**
   * A short description of the state, for logs: `Deferred { waiting for a
   * result }`, `Deferred { result: 5 }`, `Deferred { failed: [Failure
   * RangeError: no] }`. A Deferred waiting on another says what that one is
   * doing, nested: `Deferred { waiting on Deferred { waiting for a result }
   * }`, also when it was given to another's `chainDeferred()` and waits to
   * be fired by it, as in Twisted; past three levels, `Deferred { waiting on a chain of 7 Deferreds,
   * the last: Deferred { waiting for a result } }`. Twisted's repr names the
   * Deferred waited on by its memory address, which JavaScript does not
   * have; its state is what one looks for there.
   *
   * `console.log(d)` and `Deno.inspect(d)` (and Node's `util.inspect`) show
   * the same.
   *
   * @returns The description.
   */
  toString(): string {
    let d = this as Deferred<unknown>;
    const chain = new Set<Deferred<unknown>>(); // a cycle of waits must end
    // A Deferred waits on another when a callback returned that one, or
    // when it was given to that one's chainDeferred() and is not fired yet.
    for (;;) {
      const on = d.#waitingOn();
      if (on === null || chain.has(d)) break;
      chain.add(d);
      d = on;
    }
    const last = chain.has(d)
      ? "Deferred { waiting on one of the above: a cycle }"
      : d.#describeState();
    if (chain.size > 3) {
      return `Deferred { waiting on a chain of ${chain.size} Deferreds, the last: ${last} }`;
    }
    return "Deferred { waiting on ".repeat(chain.size) + last + " }".repeat(chain.size);
  }

  /**
   * What `Deno.inspect` and `console.log` show: {@linkcode Deferred.toString}.
   *
   * @returns The description.
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /**
   * What Node's `util.inspect` and `console.log` show:
   * {@linkcode Deferred.toString}.
   *
   * @returns The description.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  #describeState(): string {
    if ((this.#state & CALLED) === 0) return "Deferred { waiting for a result }";
    if (this.#result instanceof Failure) return `Deferred { failed: ${this.#result} }`;
    return `Deferred { result: ${String(this.#result)} }`;
  }

  // The Deferred this one waits on: the one a callback returned (its result
  // meanwhile), or, until it is fired, the one it was given to with
  // chainDeferred(). A Deferred given as a plain value (`callback(other)`,
  // `execute(() => other)`) is a result like any other.
  #waitingOn(): Deferred<unknown> | null {
    if ((this.#state & WAITING) !== 0) return this.#result as Deferred<unknown>;
    if ((this.#state & CALLED) !== 0) return null;
    return this.#extra?.chainedTo ?? null;
  }

  #settleLate(result: unknown): void {
    if ((this.#state & CALLED) === 0) this.#fire(result);
    else this.#state &= ~SUPPRESS;
  }

  // Returns `this` untyped: each public adder re-types it to its new result.
  // deno-lint-ignore no-explicit-any
  #add(cb: unknown, cbArgs: unknown, eb: unknown, ebArgs: unknown): Deferred<any> {
    if (cbArgs === undefined && ebArgs === undefined) return this.#push(cb, eb);
    return this.#push(new Link(NORMAL, cb, cbArgs, eb, ebArgs), LINK);
  }

  // Appends one pair to the queue and, if there is a result, runs it. A
  // queue that is already there needs no run: see `#queue`.
  // deno-lint-ignore no-explicit-any
  #push(a: unknown, b: unknown): Deferred<any> {
    const queue = this.#queue;
    if (queue !== null) {
      queue.push(a, b);
    } else {
      this.#queue = [1, a, b];
      if ((this.#state & CALLED) !== 0) this.#runCallbacks();
    }
    return this;
  }

  #fire(result: unknown): void {
    const state = this.#state;
    if ((state & CALLED) !== 0) {
      if ((state & SUPPRESS) !== 0) {
        this.#state = state & ~SUPPRESS;
        return;
      }
      throw this.#alreadyCalled();
    }
    if (this.#extra !== undefined || getDebugging()) this.#noteInvoker();
    this.#state = state | CALLED;
    this.#canceller = undefined;
    this.#result = result;
    // With nothing to run, the loop would only note an unhandled failure.
    if (this.#queue !== null || result instanceof Failure) this.#runCallbacks();
  }

  // Records where the Deferred was fired, when debugging or when its
  // creation was recorded; forgets the chainDeferred() source.
  #noteInvoker(): void {
    const extra = this.#extra;
    if (extra !== undefined) {
      extra.chainedTo = null;
      if (extra.creator === undefined && !getDebugging()) return;
    }
    (this.#extra ??= new Extra()).invoker = captureStack();
  }

  #alreadyCalled(): AlreadyCalledError {
    const extra = this.#extra;
    if (extra === undefined || (extra.creator === undefined && extra.invoker === undefined)) {
      return new AlreadyCalledError();
    }
    return new AlreadyCalledError(
      `Deferred has already been called\n${formatDebugStacks(extra.creator, extra.invoker)}`,
    );
  }

  // The failure this Deferred held has been handed on: it no longer counts
  // as unhandled.
  #handled(): void {
    const info = this.#extra?.debugInfo;
    if (info !== undefined) info.failResult = undefined;
  }

  // The whole chain machinery. `chain` holds Deferreds whose results are
  // being propagated: a Deferred joins it when a Deferred it waits on (or a
  // chainDeferred() source) hands it a result, and leaves it when it has run
  // every callback it can. Nothing here recurses.
  #runCallbacks(): void {
    if ((this.#state & RUNNING) !== 0) return; // a callback added to its own Deferred
    // `chain` is only allocated when a result moves between Deferreds.
    let chain: Deferred<unknown>[] | null = null;
    let current = this as Deferred<unknown>;
    let next: Deferred<unknown> | null = null;
    for (;;) {
      if (current.#state >= PAUSE) {
        // Paused: its run comes with unpause(). Those that handed a result
        // on still have callbacks to run.
        if (chain === null || chain.length === 0) return;
        current = chain.pop()!;
        continue;
      }
      current.#state &= ~WAITING;
      const queue = current.#queue;
      if (queue !== null) {
        // The cursor and the result live in locals while callbacks run, and
        // are written back whenever control leaves this Deferred. The loop
        // reads the queue's length each turn, so pairs appended by the
        // callbacks themselves are run too.
        let result = current.#result;
        const start = queue[0] as number;
        let i = start;
        current.#state |= RUNNING;
        while (i < queue.length) {
          const a = queue[i];
          const b = queue[i + 1];
          i += 2;
          let fn: unknown;
          let args: unknown[] | undefined;
          if (b !== LINK) {
            fn = result instanceof Failure ? b : a;
          } else {
            const link = a as Link;
            if (link.kind === CONTINUE) {
              const waiter = link.cbArgs as Deferred<unknown>;
              waiter.#result = result;
              result = undefined;
              current.#handled();
              waiter.#state = (waiter.#state - PAUSE) & ~WAITING;
              next = waiter;
              break;
            }

            if (link.kind === CHAIN) {
              const target = link.cbArgs as Deferred<unknown>;
              const state = target.#state;
              if ((state & CALLED) !== 0) {
                if ((state & SUPPRESS) !== 0) {
                  target.#state = state & ~SUPPRESS;
                  result = undefined;
                } else {
                  result = new Failure(target.#alreadyCalled());
                }
                continue;
              }
              const extra = target.#extra;
              if (extra !== undefined) extra.chainedTo = null;
              if (getDebugging()) (target.#extra ??= new Extra()).invoker = captureStack();
              target.#state = state | CALLED;
              target.#canceller = undefined;
              target.#result = result;
              result = undefined;
              current.#handled();
              if (state < PAUSE) {
                next = target;
                break;
              }
              continue;
            }

            if (result instanceof Failure) {
              fn = link.eb;
              args = link.ebArgs as unknown[] | undefined;
            } else {
              fn = link.cb;
              args = link.cbArgs as unknown[] | undefined;
            }
          }
          if (fn === null) continue;
          current.#result = result; // what `d.result` shows inside the callback
          try {
            result = args === undefined ? (fn as AnyFn)(result) : (fn as AnyFn)(result, ...args);
          } catch (error) {
            result = error instanceof Failure ? error : new Failure(error);
          }

          if (typeof result === "object" && result !== null) {
            let inner: Deferred<unknown> | undefined;
            if (result instanceof Deferred) {
              inner = result;
            } else if (!(result instanceof Failure) && isThenable(result)) {
              inner = Deferred.fromPromise(result);
            }
            if (inner === current) {
              result = new Failure(
                new TypeError("A callback returned the Deferred it is attached to"),
              );
              continue;
            }
            if (inner !== undefined) {
              const state = inner.#state;
              if ((state & (CALLED | WAITING)) !== CALLED || state >= PAUSE) {
                // Not ready: wait for it, resuming from a CONTINUE marker.
                result = inner;
                current.#state = (current.#state + PAUSE) | WAITING;
                const marker = new Link(CONTINUE, null, current, null, current);
                const innerQueue = inner.#queue;
                if (innerQueue === null) inner.#queue = [1, marker, LINK];
                else innerQueue.push(marker, LINK);
                break;
              }
              // Ready: take its result now.
              result = inner.#result;
              inner.#result = undefined;
              inner.#handled();
            }
          }
        }
        current.#state &= ~RUNNING;
        if (i >= queue.length) {
          current.#queue = null;
        } else {
          // Leaving callbacks to run later: let go of those that ran.
          queue[0] = i;
          queue.fill(null, start, i);
        }
        current.#result = result;
      }

      if (next !== null) {
        // Hand over to the Deferred that got our result; come back after.
        (chain ??= []).push(current);
        current = next;
        next = null;
        continue;
      }
      const result = current.#result;
      if (result instanceof Failure && !delivered.has(result)) {
        current.#noteFailure(result);
      } else {
        // A success, or a failure that `then()` has handed to an awaiter.
        current.#handled();
      }
      if (chain === null || chain.length === 0) return;
      current = chain.pop()!;
    }
  }

  #noteFailure(failure: Failure): void {
    const extra = (this.#extra ??= new Extra());
    let info = extra.debugInfo;
    if (info === undefined) {
      info = extra.debugInfo = new DebugInfo();
      info.creator = extra.creator;
      info.invoker = extra.invoker;
      watchForUnhandled(this, info);
    }
    info.failResult = failure;
  }
}

// What few Deferreds need, kept out of the Deferred itself so that the rest
// do not pay for it. Nothing here may be referred to by `debugInfo`, which
// must not keep the Deferred alive.
class Extra {
  /** Where the Deferred was made, when debugging. */
  creator: string | undefined = undefined;
  /** Where it was first fired, when debugging. */
  invoker: string | undefined = undefined;
  /** What the garbage-collection report of an unhandled failure needs. */
  debugInfo: DebugInfo | undefined = undefined;
  /** The Deferred whose chainDeferred() will fire this one, until it does. */
  chainedTo: Deferred<unknown> | null = null;
  /** The bound `errback` and `cancel`, made when first read. */
  errback: AnyFn | undefined = undefined;
  cancel: AnyFn | undefined = undefined;
}

// What `yield* d` iterates: yields `d` once, then returns what is sent back.
// A plain object is cheaper than a generator for this one step.
class YieldOnce<T> implements Iterator<Deferred<T>, T, unknown> {
  #d: Deferred<T> | null;
  constructor(d: Deferred<T>) {
    this.#d = d;
  }
  next(value?: unknown): IteratorResult<Deferred<T>, T> {
    const d = this.#d;
    if (d !== null) {
      this.#d = null;
      return { done: false, value: d };
    }
    return { done: true, value: value as T };
  }
  throw(error?: unknown): IteratorResult<Deferred<T>, T> {
    this.#d = null;
    throw error;
  }
  return(value?: unknown): IteratorResult<Deferred<T>, T> {
    this.#d = null;
    return { done: true, value: value as T };
  }
}

/**
 * A queue entry that a plain [callback, errback] pair cannot express: one
 * with extra arguments, or a marker.
 */
class Link {
  constructor(
    /** NORMAL, or CONTINUE/CHAIN with the Deferred to feed in `cbArgs`. */
    readonly kind: number,
    readonly cb: unknown,
    readonly cbArgs: unknown,
    readonly eb: unknown,
    readonly ebArgs: unknown,
  ) {}
}

// The adders' rare form, with extra arguments, kept out of their way: `args`
// is the adder's `arguments`, the function first.
// deno-lint-ignore no-explicit-any
function addCallbackWithArgs(d: Deferred<any>, args: IArguments): Deferred<any> {
  return addHook(d, args[0], Array.prototype.slice.call(args, 1), null, undefined);
}

// deno-lint-ignore no-explicit-any
function addErrbackWithArgs(d: Deferred<any>, args: IArguments): Deferred<any> {
  return addHook(d, null, undefined, args[0], Array.prototype.slice.call(args, 1));
}

// deno-lint-ignore no-explicit-any
function addBothWithArgs(d: Deferred<any>, args: IArguments): Deferred<any> {
  const extra = Array.prototype.slice.call(args, 1);
  return addHook(d, args[0], extra, args[0], extra);
}

function cancelledToTimeout(result: unknown, seconds: number): unknown {
  if (result instanceof Failure && result.check(CancelledError)) {
    throw new TimeoutError(seconds, "Deferred", { cause: result.value });
  }
  return result;
}

/**
 * Makes the unfired `outer` wait on `inner` as though its first callback had
 * returned `inner`. For inlineCallbacks' cancellation and for adopting a
 * returned Deferred; not part of the public API.
 */
export function _waitOn(outer: Deferred<unknown>, inner: Deferred<unknown>): void {
  waitOnHook(outer, inner);
}

/**
 * Takes the result of a fired Deferred with nothing left to run, leaving
 * `undefined` behind, as a callback that consumed it would; or returns
 * {@linkcode _NO_RESULT}. Not part of the public API.
 */
export function _takeResult(d: Deferred<unknown>): unknown {
  return takeHook(d);
}

/**
 * Gives `d` its result (a Failure fails it), as `d.callback(result)` does but
 * without making the bound `callback`: for the library's own hot paths
 * (`succeed`, inlineCallbacks). Not part of the public API.
 *
 * @throws {AlreadyCalledError} As `callback` does.
 */
export function _fire(d: Deferred<unknown>, result: unknown): void {
  fireHook(d, result);
}

/** Whether `x` has a callable `then`. Not part of the public API. */
export const _isThenable: (x: unknown) => x is PromiseLike<unknown> = isThenable;

/**
 * What a Deferred made by {@linkcode _deferredWithCanceller} calls when
 * cancelled. Not part of the public API.
 */
export interface _Canceller {
  /** Cancels the work behind `d`, as a canceller function would. */
  cancelDeferred(d: Deferred<unknown>): void;
}

/**
 * A Deferred whose canceller is an object's method rather than a function,
 * so that the library need not make a closure per Deferred. Not part of the
 * public API.
 */
export function _deferredWithCanceller(canceller: _Canceller): Deferred<unknown> {
  return cancellerHook(canceller);
}

/**
 * A Deferred that already has `value`, made without going through
 * `callback()`: what `succeed()` returns. Not part of the public API.
 */
export function _fired(value: unknown): Deferred<unknown> {
  return firedHook(value);
}
