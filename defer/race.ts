import { Deferred } from "./deferred.ts";
import type { Failure } from "./failure.ts";
import { FailureGroup } from "./errors.ts";
import { _cancelEach } from "./deferred_list.ts";

/**
 * Takes the first success among several Deferreds and cancels the rest:
 * for asking several sources the same question, or for racing work against
 * a timeout, without leaving the losers running.
 *
 * The returned Deferred fires with `[index, value]` of the first input to
 * succeed. At that moment every other input is cancelled, once each; their
 * later results (a failure from the cancellation, or a late answer) go
 * nowhere and are not reported as unhandled. Failures before the first
 * success are collected; if every input fails, the race fails with
 * {@linkcode FailureGroup} holding the failures in input order, and nothing
 * is cancelled. `race([])` never fires.
 *
 * Cancelling the returned Deferred cancels every input, so it usually fails
 * with a {@linkcode FailureGroup} of their {@linkcode CancelledError}s (or
 * wins, if an input's canceller gives it a result).
 *
 * The race attaches a callback/errback pair to each input that consumes its
 * outcome: callbacks added to an input afterwards get `undefined`.
 *
 * Divergence from Twisted: an error thrown by an input's canceller does not
 * escape into the winner's chain or out of `cancel()`; it is reported
 * through the unhandled-error handler (see
 * {@linkcode setUnhandledErrorHandler}) and the others are still cancelled.
 *
 * @typeParam T The type of each input's result; for inputs of different
 * types, name their union: `race<number | string>([a, b])`.
 * @param deferreds The competing Deferreds; the iterable is copied.
 * @returns A Deferred of the winner's index and value.
 *
 * @example The first answer wins
 * ```ts
 * import { Deferred, race } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const slow = new Deferred<string>();
 * const fast = new Deferred<string>();
 * let winner: [number, string] | undefined;
 * race([slow, fast]).addCallback((pair) => (winner = pair));
 * fast.callback("fast");
 * assert.deepEqual(winner, [1, "fast"]);
 *
 * // The loser was cancelled, and the race consumed its CancelledError.
 * assert.equal(slow.called, true);
 * slow.addBoth((result) => assert.equal(result, undefined));
 * slow.callback("late"); // swallowed: the loser had no canceller
 * ```
 */
export function race<T>(deferreds: Iterable<Deferred<T>>): Deferred<[number, T]> {
  const inputs = Array.from(deferreds);
  const cancelled = new Array<boolean>(inputs.length).fill(false);
  const failures = new Array<Failure>(inputs.length);
  let failedCount = 0;
  let won = false;

  // Cancels every input but `except`, each at most once over the race's life.
  const cancelOthers = (except: number, caller: string): void => {
    const targets: Array<Deferred<T> | undefined> = [];
    for (let i = 0; i < inputs.length; i++) {
      const skip = i === except || cancelled[i];
      cancelled[i] = true;
      targets.push(skip ? undefined : inputs[i]);
    }
    _cancelEach(targets, caller);
  };

  const result = new Deferred<[number, T]>(() => cancelOthers(-1, "race() cancellation"));

  for (let index = 0; index < inputs.length; index++) {
    inputs[index].addCallbacks(
      (value: T): undefined => {
        if (won) return undefined;
        won = true;
        cancelOthers(index, "race()");
        result.callback([index, value]);
        return undefined;
      },
      (failure: Failure): undefined => {
        failures[index] = failure;
        failedCount++;
        if (failedCount === inputs.length) result.errback(new FailureGroup(failures));
        return undefined;
      },
    );
  }
  return result;
}
