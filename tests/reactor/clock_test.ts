import assert from "node:assert/strict";
import { Deferred, TimeoutError } from "../../defer/mod.ts";
import { Clock } from "../../reactor/clock.ts";

Deno.test("Clock.seconds() starts at 0 and moves only with advance()", () => {
  const clock = new Clock();
  assert.equal(clock.seconds(), 0);
  clock.advance(1.5);
  assert.equal(clock.seconds(), 1.5);
  clock.advance(0);
  assert.equal(clock.seconds(), 1.5);
});

Deno.test("Clock.callLater() is due at seconds() plus the delay", () => {
  const clock = new Clock();
  clock.advance(100);
  const call = clock.callLater(5, () => {});
  assert.equal(call.getTime(), 105);
  assert.equal(call.active(), true);
});

Deno.test("Clock.callLater() refuses a negative delay, naming it", () => {
  const clock = new Clock();
  assert.throws(
    () => clock.callLater(-1, () => {}),
    /^RangeError: Delay must be a finite number of seconds, zero or more: -1$/,
  );
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("Clock.advance() runs a call once its time has come", () => {
  const clock = new Clock();
  const seen: number[] = [];
  const call = clock.callLater(2, () => seen.push(clock.seconds()));
  clock.advance(1);
  assert.deepEqual(seen, []);
  assert.equal(call.active(), true);
  clock.advance(1);
  assert.deepEqual(seen, [2]);
  assert.equal(call.active(), false);
});

Deno.test("Clock.advance() runs calls in scheduling order", () => {
  const clock = new Clock();
  const seen: string[] = [];
  for (const name of ["a", "b", "c", "d"]) clock.callLater(1, (n: string) => seen.push(n), name);
  clock.callLater(0.5, () => seen.push("early"));
  clock.advance(1);
  assert.deepEqual(seen, ["early", "a", "b", "c", "d"]);
});

Deno.test("Clock.advance() runs every call due, reporting the clock's new time", () => {
  const clock = new Clock();
  const seen: Array<[number, number]> = [];
  for (const t of [3, 1, 2]) clock.callLater(t, () => seen.push([t, clock.seconds()]));
  clock.advance(5);
  assert.deepEqual(seen, [[1, 5], [2, 5], [3, 5]]);
});

Deno.test("Clock.advance() runs zero-delay calls scheduled while advancing", () => {
  const clock = new Clock();
  const seen: string[] = [];
  clock.callLater(1, () => {
    seen.push("outer");
    clock.callLater(0, () => {
      seen.push("inner");
      clock.callLater(0, () => seen.push("innermost"));
    });
  });
  clock.advance(1);
  assert.deepEqual(seen, ["outer", "inner", "innermost"]);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("Clock.advance() lets an error escape; the rest stay queued", () => {
  const clock = new Clock();
  const seen: string[] = [];
  clock.callLater(1, () => seen.push("a"));
  clock.callLater(1, () => {
    throw new Error("boom");
  });
  clock.callLater(1, () => seen.push("c"));
  assert.throws(() => clock.advance(1), /^Error: boom$/);
  assert.deepEqual(seen, ["a"]);
  assert.equal(clock.getDelayedCalls().length, 1);
  clock.advance(0);
  assert.deepEqual(seen, ["a", "c"]);
});

Deno.test("Clock.advance() refuses a negative or non-finite amount, naming it", async (t) => {
  const clock = new Clock();
  for (const amount of [-1, NaN, Infinity]) {
    await t.step(`${amount}`, () => {
      assert.throws(
        () => clock.advance(amount),
        new RegExp(
          `^RangeError: Cannot advance a Clock by other than a finite number of seconds, zero or more: ${amount}$`,
        ),
      );
    });
  }
  assert.equal(clock.seconds(), 0);
});

Deno.test("Clock.advance() with a cancel from inside the call throws AlreadyCalled", () => {
  const clock = new Clock();
  let error: unknown;
  const call = clock.callLater(1, () => {
    try {
      call.cancel();
    } catch (e) {
      error = e;
    }
  });
  clock.advance(1);
  assert.equal((error as Error).name, "AlreadyCalled");
});

Deno.test("Clock.pump() advances by each step in turn", () => {
  const clock = new Clock();
  const seen: Array<[string, number]> = [];
  const log = (n: string) => seen.push([n, clock.seconds()]);
  clock.callLater(1, log, "a");
  clock.callLater(2.5, log, "b");
  clock.pump([1, 1, 1]);
  assert.equal(clock.seconds(), 3);
  assert.deepEqual(seen, [["a", 1], ["b", 3]]);
});

Deno.test("Clock keeps calls ordered when a call is reset later, then another scheduled", () => {
  const clock = new Clock();
  const seen: Array<[string, number]> = [];
  const log = (n: string) => seen.push([n, clock.seconds()]);
  const a = clock.callLater(1, log, "a");
  a.reset(3);
  clock.callLater(2, log, "b");
  clock.pump([1, 1, 1]);
  assert.deepEqual(seen, [["b", 2], ["a", 3]]);
});

Deno.test("Clock keeps calls ordered when a call is reset after another is scheduled", () => {
  const clock = new Clock();
  const seen: Array<[string, number]> = [];
  const log = (n: string) => seen.push([n, clock.seconds()]);
  const a = clock.callLater(1, log, "a");
  clock.callLater(2, log, "b");
  a.reset(3);
  clock.pump([1, 1, 1]);
  assert.deepEqual(seen, [["b", 2], ["a", 3]]);
});

Deno.test("Clock keeps calls ordered when a call is reset from inside another call", () => {
  const clock = new Clock();
  const seen: Array<[string, number]> = [];
  const log = (n: string) => seen.push([n, clock.seconds()]);
  const b = clock.callLater(2, log, "b");
  clock.callLater(1, () => b.reset(3));
  clock.callLater(3, log, "c");
  clock.pump(Array(10).fill(0.5));
  assert.deepEqual(seen, [["c", 3], ["b", 4]]);
});

Deno.test("Clock.getDelayedCalls() lists pending calls in running order", () => {
  const clock = new Clock();
  const c = clock.callLater(3, () => {});
  const a = clock.callLater(1, () => {});
  const cancelled = clock.callLater(2, () => {});
  cancelled.cancel();
  assert.deepEqual(clock.getDelayedCalls(), [a, c]);
  clock.advance(1);
  assert.deepEqual(clock.getDelayedCalls(), [c]);
});

Deno.test("Clock drives Deferred.addTimeout()", () => {
  const clock = new Clock();
  const d = new Deferred<string>().addTimeout(10, clock);
  const errors: unknown[] = [];
  d.addErrback((f) => errors.push(f.value));
  clock.advance(9);
  assert.equal(errors.length, 0);
  clock.advance(6);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TimeoutError);
  assert.deepEqual(clock.getDelayedCalls(), []);
});
