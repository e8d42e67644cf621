/**
 * Running functions off the main thread, through one process-wide
 * {@linkcode ThreadPool} of Web Workers: Twisted's `twisted.internet.threads`.
 * The default `reactor` uses the same pool for `callInThread`.
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import { ThreadPool } from "./thread_pool.ts";

let pool: ThreadPool | undefined;

/**
 * The process-wide pool behind {@linkcode deferToThread}, created on first
 * use with 10 workers at most (Twisted's default).
 *
 * @returns The pool.
 *
 * @example
 * ```ts
 * import { getThreadPool } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getThreadPool(), getThreadPool());
 * ```
 */
export function getThreadPool(): ThreadPool {
  return pool ??= new ThreadPool();
}

/**
 * Runs a CPU-heavy or blocking function in a worker, so that the event loop
 * stays responsive, and gives its result as a Deferred.
 *
 * `fn` is sent as source text and must be **self-contained**: it may use its
 * parameters, globals such as `Deno` and `fetch`, and `await import()` of an
 * absolute specifier, but no variable or import of the calling module (that
 * fails in the worker with a `ReferenceError` saying so). Arguments and the
 * result are structured-cloned. An `async` function's promise is awaited in
 * the worker.
 *
 * In tests, call {@linkcode shutdownThreadPool} at the end so that no worker
 * outlives the test (Deno's sanitizers would report it).
 *
 * @param fn The function to run.
 * @param args Its arguments.
 * @returns A Deferred of its result, or of the error it threw (rebuilt with
 * the original name, message and stack). Cancelling it takes a queued job off
 * the queue, or terminates the worker running it, and fails it with
 * `CancelledError`.
 * @throws {TypeError} If `fn` is native, bound, a class or a getter: source
 * text that cannot be sent.
 *
 * @example Summing in a worker
 * ```ts
 * import { deferToThread, shutdownThreadPool } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const n = await deferToThread((a: number, b: number) => a + b, 2, 3);
 * assert.equal(n, 5);
 * await shutdownThreadPool();
 * ```
 */
export function deferToThread<A extends unknown[], R>(
  fn: (...args: A) => R,
  ...args: A
): Deferred<Awaited<R>> {
  return getThreadPool().deferToThread(fn, ...args);
}

/**
 * Runs a function in a worker and forgets about it; an error it throws is
 * logged with `console.error`. The same rules as {@linkcode deferToThread}
 * apply to `fn`.
 *
 * @param fn The function to run.
 * @param args Its arguments.
 * @throws {TypeError} If `fn` cannot be sent to a worker.
 *
 * @example
 * ```ts
 * import { callInThread, shutdownThreadPool } from "@torsion/torsion/reactor";
 *
 * callInThread((n: number) => console.assert(n === 21), 21);
 * await shutdownThreadPool(); // waits for the call to finish
 * ```
 */
export function callInThread<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
  getThreadPool().callInThread(fn, ...args);
}

/**
 * Sets the most workers the process-wide pool runs at once (10 by default).
 *
 * @param size A positive integer.
 * @throws {TypeError} If `size` is not a number.
 * @throws {RangeError} If it is not a positive integer.
 *
 * @example
 * ```ts
 * import { getThreadPool, suggestThreadPoolSize } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * suggestThreadPoolSize(4);
 * assert.equal(getThreadPool().maxWorkers, 4);
 * assert.throws(() => suggestThreadPoolSize(0), RangeError);
 * suggestThreadPoolSize(10);
 * ```
 */
export function suggestThreadPoolSize(size: number): void {
  getThreadPool().adjustPoolsize(size);
}

/**
 * Ends the process-wide pool's workers once their jobs are done. The reactor
 * does this during shutdown; tests call it so that no worker outlives them.
 * The pool starts new workers if it is used again.
 *
 * @returns A Deferred that fires when every worker has ended.
 *
 * @example
 * ```ts
 * import { shutdownThreadPool } from "@torsion/torsion/reactor";
 *
 * await shutdownThreadPool();
 * ```
 */
export function shutdownThreadPool(): Deferred<void> {
  return getThreadPool().stop();
}
