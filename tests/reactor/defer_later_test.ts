import assert from "node:assert/strict";
import { CancelledError, Deferred, type Failure, inlineCallbacks } from "../../defer/mod.ts";
import { Clock } from "../../reactor/clock.ts";
import { deferLater } from "../../reactor/defer_later.ts";

// The outcome of a Deferred so far.
function outcome<T>(d: Deferred<T>): { result?: T; failure?: Failure } {
  const seen: { result?: T; failure?: Failure } = {};
  d.addCallbacks((r) => {
    seen.result = r;
  }, (f) => {
    seen.failure = f;
  });
  return seen;
}

Deno.test("deferLater() fires after the delay with the function's result", () => {
  const clock = new Clock();
  const calls: Array<[string, string]> = [];
  const flag = { flag: true };
  const d = deferLater(
    clock,
    3,
    (foo: string, bar: string) => {
      calls.push([foo, bar]);
      return flag;
    },
    "foo",
    "bar",
  );
  const seen = outcome(d);
  clock.advance(2);
  assert.deepEqual(calls, []);
  assert.deepEqual(seen, {});
  clock.advance(1);
  assert.deepEqual(calls, [["foo", "bar"]]);
  assert.equal(seen.result, flag);
});

Deno.test("deferLater() fails when the function throws", () => {
  const clock = new Clock();
  const seen = outcome(deferLater(clock, 1, () => {
    throw new RangeError("out of range");
  }));
  clock.advance(1);
  assert.ok(seen.failure?.value instanceof RangeError);
  assert.equal(seen.failure?.getErrorMessage(), "out of range");
});

Deno.test("deferLater() waits on a Deferred the function returns", () => {
  const clock = new Clock();
  const inner = new Deferred<number>();
  const seen = outcome(deferLater(clock, 1, () => inner));
  clock.advance(1);
  assert.deepEqual(seen, {});
  inner.callback(42);
  assert.equal(seen.result, 42);
});

Deno.test("deferLater() cancelled fails with CancelledError and cancels the call", () => {
  const clock = new Clock();
  const called: unknown[] = [];
  const d = deferLater(clock, 1, (x: null) => called.push(x), null);
  assert.equal(clock.getDelayedCalls().length, 1);
  d.cancel();
  const seen = outcome(d);
  assert.ok(seen.failure?.value instanceof CancelledError);
  assert.deepEqual(clock.getDelayedCalls(), []);
  clock.advance(5);
  assert.deepEqual(called, []);
});

Deno.test("deferLater() without a function fires with undefined", () => {
  const clock = new Clock();
  const d = deferLater(clock, 2);
  const seen = outcome(d);
  assert.equal("result" in seen, false);
  clock.advance(2);
  assert.equal("result" in seen, true);
  assert.equal(seen.result, undefined);
});

Deno.test("deferLater() waits inside inlineCallbacks", () => {
  const clock = new Clock();
  const log: Array<[string, number]> = [];
  const run = inlineCallbacks(function* () {
    log.push(["start", clock.seconds()]);
    const n = yield* deferLater(clock, 1.5, () => 7);
    log.push([`got ${n}`, clock.seconds()]);
    return n * 2;
  });
  const seen = outcome(run());
  clock.advance(1);
  assert.deepEqual(log, [["start", 0]]);
  clock.advance(0.5);
  assert.deepEqual(log, [["start", 0], ["got 7", 1.5]]);
  assert.equal(seen.result, 14);
});

Deno.test("deferLater() refuses a negative delay and a non-function", () => {
  const clock = new Clock();
  assert.throws(
    () => deferLater(clock, -1),
    /^RangeError: Delay must be a finite number of seconds, zero or more: -1$/,
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => deferLater(clock, 1, 5 as any),
    /^TypeError: deferLater needs a function to call, got: 5$/,
  );
  assert.deepEqual(clock.getDelayedCalls(), []);
});
