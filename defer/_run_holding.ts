import type { Deferred } from "./deferred.ts";
import type { Failure } from "./failure.ts";
import { maybeDeferred } from "./helpers.ts";

/** What {@linkcode runHolding} needs of a lock or a semaphore. */
interface Primitive {
  acquire(): Deferred<unknown>;
  release(): void;
}

/**
 * Acquires `primitive`, runs `fn(...args)` through `maybeDeferred`, and
 * releases it when the result arrives, success or failure: the `run()` of
 * DeferredLock and DeferredSemaphore.
 */
export function runHolding<R, A extends unknown[]>(
  primitive: Primitive,
  owner: string,
  fn: (...args: A) => R | Deferred<R> | PromiseLike<R> | Failure,
  args: A,
): Deferred<R> {
  if (typeof fn !== "function") {
    throw new TypeError(`${owner}.run() needs a function, got ${String(fn)}`);
  }
  return primitive.acquire().addCallback(() =>
    maybeDeferred(fn, ...args).addBoth((result: R | Failure) => {
      primitive.release();
      return result;
    })
  );
}
