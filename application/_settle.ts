// Waiting for several starts or stops: every one settles, the first failure
// is the result, and the others are logged rather than lost.
import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import { maybeDeferred } from "../defer/helpers.ts";
import { Logger } from "../reactor/log.ts";

const logger = new Logger("service");

/**
 * Calls each function, then waits for all of them: fires once every one has
 * finished, or fails with the first failure (in call order) once every one
 * has settled; later failures are logged.
 */
export function _settleAll(calls: Array<() => unknown>, what: string): Deferred<void> {
  const results = calls.map((call) => maybeDeferred(call));
  const done = new Deferred<void>();
  let left = results.length;
  let first: Failure | undefined;
  const settled = (): void => {
    if (--left > 0) return;
    if (first === undefined) done.callback(undefined);
    else done.errback(first);
  };
  if (left === 0) done.callback(undefined);
  for (const result of results) {
    result.addCallbacks(settled, (failure: Failure) => {
      if (first === undefined) first = failure;
      else logger.error(`another service failed to ${what}: ${failure.getErrorMessage()}`, failure);
      settled();
    });
  }
  return done;
}
