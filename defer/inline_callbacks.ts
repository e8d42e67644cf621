import {
  _deferredWithCanceller,
  _fire,
  _isThenable,
  _NO_RESULT,
  _takeResult,
  _waitOn,
  Deferred,
} from "./deferred.ts";
import { Failure } from "./failure.ts";
import { NotACoroutineError } from "./errors.ts";

// One run of a generator: where its result goes, what it waits on, and the
// one function that resumes it, shared by every wait (made on the first wait
// on a Deferred that has no result yet; runs over fired ones never need it).
class Run {
  /** The Deferred the generator's result goes to. */
  deferred: Deferred<unknown>;
  /** The Deferred the generator is suspended on, if any. */
  waitingOn: Deferred<unknown> | null = null;
  /** Set while drive() adds `resume`, which may then run at once. */
  synchronous = false;
  /** Whether `resume` ran while `synchronous`, and with what. */
  gotResult = false;
  result: unknown = undefined;
  #resume: ((result: unknown) => undefined) | undefined = undefined;

  constructor(readonly gen: Generator<unknown, unknown, unknown>) {
    this.deferred = _deferredWithCanceller(this);
  }

  get resume(): (result: unknown) => undefined {
    return (this.#resume ??= (result: unknown): undefined => {
      if (this.synchronous) {
        this.gotResult = true;
        this.result = result;
      } else if (result instanceof Failure) {
        drive(this, result.value, true);
      } else {
        drive(this, result, false);
      }
      return undefined; // the generator has taken the result
    });
  }

  // Cancelling the generator's Deferred cancels what the generator waits on.
  // The generator may catch the CancelledError and carry on, so the
  // cancelled Deferred must not fail at once: it is made to wait on a fresh
  // Deferred that gets the generator's eventual result, and cancelling again
  // repeats this.
  cancelDeferred(outer: Deferred<unknown>): void {
    const awaited = this.waitingOn;
    if (awaited === null) return; // running right now: cancel() fails it plainly
    const next = _deferredWithCanceller(this);
    this.deferred = next;
    _waitOn(outer, next);
    awaited.cancel();
  }
}

function isGenerator(x: unknown): x is Generator<unknown, unknown, unknown> {
  const g = x as Generator | null;
  return typeof g?.next === "function" && typeof g.throw === "function" &&
    typeof g.return === "function";
}

function settle(run: Run, result: unknown, failed: boolean): void {
  const d = run.deferred;
  if (d.called) return; // cancelled while the generator was running
  if (failed) {
    _fire(d, result); // always a Failure here
  } else if (result instanceof Deferred) {
    _waitOn(d, result);
  } else if (_isThenable(result)) {
    _waitOn(d, Deferred.fromPromise(result));
  } else {
    _fire(d, result);
  }
}

// Runs the generator until it waits on a Deferred with no result yet, then
// returns; that Deferred's callback calls drive() again. Synchronous results
// loop here, so a million already-fired yields use one stack frame.
function drive(run: Run, value: unknown, failed: boolean): void {
  const gen = run.gen;
  for (;;) {
    run.waitingOn = null;
    let step: IteratorResult<unknown, unknown>;
    try {
      step = failed ? gen.throw(value) : gen.next(value);
    } catch (error) {
      settle(run, error instanceof Failure ? error : new Failure(error), true);
      return;
    }
    if (step.done) {
      settle(run, step.value, false);
      return;
    }
    let yielded = step.value;
    if (!(yielded instanceof Deferred)) {
      if (!_isThenable(yielded)) {
        // A yielded Failure is thrown back in, as Twisted does; anything
        // else comes straight back.
        failed = yielded instanceof Failure;
        value = failed ? (yielded as Failure).value : yielded;
        continue;
      }
      yielded = Deferred.fromPromise(yielded);
    }
    const d = yielded as Deferred<unknown>;
    let result = _takeResult(d);
    if (result === _NO_RESULT) {
      run.synchronous = true;
      run.gotResult = false;
      d.addBoth(run.resume);
      run.synchronous = false;
      if (!run.gotResult) {
        run.waitingOn = d;
        return;
      }
      result = run.result;
      run.result = undefined;
    }
    if (result instanceof Failure) {
      value = result.value;
      failed = true;
    } else {
      value = result;
      failed = false;
    }
  }
}

function start<R>(gen: Generator<unknown, R, unknown>): Deferred<Awaited<R>> {
  const run = new Run(gen);
  const outer = run.deferred;
  drive(run, undefined, false);
  return outer as Deferred<Awaited<R>>;
}

/**
 * Writes callback chains as straight-line code: decorates a generator
 * function so that each `yield`ed Deferred (or PromiseLike) suspends it until
 * that has a result, which comes back as the value of the `yield`, or is
 * thrown there as the failure's original value. The decorated function returns
 * a Deferred of the generator's `return` value.
 *
 * Unlike `async`/`await`, it resumes **synchronously** when a Deferred fires
 * (and at once for one that has fired already), and it can be cancelled:
 * cancelling the returned Deferred cancels the Deferred the generator is
 * waiting on, which throws {@linkcode CancelledError} at the `yield`; the
 * generator may catch it, turn it into another result, or clean up in
 * `finally`.
 *
 * Use `const x = yield* d` for a result typed as `d`'s; a plain `yield d`
 * gives `unknown`. Yielding a {@linkcode Failure} throws its original value
 * at the `yield`, as Twisted does; yielding anything else gives it straight
 * back.
 *
 * Divergences from Twisted: `return value` replaces `returnValue(value)`;
 * returning a Deferred or PromiseLike adopts its result, as `async` functions
 * do.
 *
 * @param fn A generator function.
 * @returns A function of the same arguments that runs the generator and
 * returns a Deferred of its result.
 * @throws {TypeError} If `fn` is not a function, is an async function, or
 * (when called) does not return a generator.
 *
 * @example
 * ```ts
 * import { Deferred, inlineCallbacks, succeed } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const gate = new Deferred<string>();
 * const greet = inlineCallbacks(function* (name: string) {
 *   const greeting = yield* gate; // typed: string
 *   const mark = yield* succeed("!");
 *   return `${greeting}, ${name}${mark}`;
 * });
 *
 * const d = greet("world");
 * let seen = "";
 * d.addCallback((s) => (seen = s));
 * gate.callback("hello"); // the generator resumes now, synchronously
 * assert.equal(seen, "hello, world!");
 * ```
 */
export function inlineCallbacks<This, A extends unknown[], R>(
  fn: (this: This, ...args: A) => Generator<unknown, R, unknown>,
): (this: This, ...args: A) => Deferred<Awaited<R>> {
  if (typeof fn !== "function") {
    throw new TypeError(`inlineCallbacks requires a generator function, got ${typeof fn}`);
  }
  const kind = Object.getPrototypeOf(fn)?.constructor?.name;
  if (kind === "AsyncFunction" || kind === "AsyncGeneratorFunction") {
    throw new TypeError(
      `inlineCallbacks requires a generator function (function*), got an ${
        kind === "AsyncFunction" ? "async function" : "async generator function"
      } '${fn.name || "anonymous"}'`,
    );
  }
  return function (this: This): Deferred<Awaited<R>> {
    // `arguments`, not a rest parameter: V8 passes it on to apply() without
    // making an array.
    const gen = fn.apply(this, arguments as unknown as A);
    if (!isGenerator(gen)) {
      throw new TypeError(
        `inlineCallbacks requires '${
          fn.name || "anonymous"
        }' to be a generator function (function*), but it returned ${describe(gen)}`,
      );
    }
    return start(gen);
  };
}

/**
 * Turns a Deferred, a PromiseLike or a running generator (as written for
 * {@linkcode inlineCallbacks}) into a Deferred. A Deferred is returned as it
 * is.
 *
 * @param x What to wrap.
 * @returns A Deferred of its result.
 * @throws {NotACoroutineError} For anything else.
 *
 * @example
 * ```ts
 * import { ensureDeferred, succeed } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const d = ensureDeferred((function* () {
 *   return (yield* succeed(20)) + 1;
 * })());
 * d.addCallback((n) => assert.equal(n, 21));
 * ```
 */
export function ensureDeferred<T>(
  x: Deferred<T> | PromiseLike<T> | Generator<unknown, T, unknown>,
): Deferred<Awaited<T>> {
  if (x instanceof Deferred) return x as Deferred<Awaited<T>>;
  if (_isThenable(x)) return Deferred.fromPromise(x) as Deferred<Awaited<T>>;
  if (isGenerator(x)) return start(x);
  throw new NotACoroutineError(
    `ensureDeferred expects a Deferred, a PromiseLike or a generator, got ${describe(x)}`,
  );
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "string") return `the string ${JSON.stringify(x.slice(0, 40))}`;
  if (typeof x === "object") return `an object (${x.constructor?.name ?? "no prototype"})`;
  return `a ${typeof x} (${String(x)})`;
}
