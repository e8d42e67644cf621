import assert from "node:assert/strict";
import { Clock } from "../../reactor/clock.ts";
import { AlreadyCalled, AlreadyCancelled, type ScheduledCall } from "../../reactor/delayed_call.ts";

Deno.test("DelayedCall exposes its function and arguments", () => {
  const clock = new Clock();
  const fn = (a: number, b: string) => `${a}${b}`;
  const call = clock.callLater(1, fn, 1, "x");
  assert.equal(call.func, fn);
  assert.deepEqual(call.args, [1, "x"]);
});

Deno.test("DelayedCall.active() is false once called or cancelled", () => {
  const clock = new Clock();
  const ran = clock.callLater(1, () => {});
  const cancelled = clock.callLater(1, () => {});
  assert.equal(ran.active(), true);
  cancelled.cancel();
  assert.equal(cancelled.active(), false);
  clock.advance(1);
  assert.equal(ran.active(), false);
  const impl = ran as ScheduledCall;
  assert.deepEqual([impl.called, impl.cancelled], [true, false]);
  const cImpl = cancelled as ScheduledCall;
  assert.deepEqual([cImpl.called, cImpl.cancelled], [false, true]);
});

Deno.test("DelayedCall.cancel() stops the call from running", () => {
  const clock = new Clock();
  let ran = false;
  const call = clock.callLater(1, () => (ran = true));
  call.cancel();
  clock.advance(2);
  assert.equal(ran, false);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("DelayedCall.cancel() from inside the call throws AlreadyCalled", () => {
  const clock = new Clock();
  let error: unknown;
  function selfCancelling(): void {
    try {
      call.cancel();
    } catch (e) {
      error = e;
    }
  }
  const call = clock.callLater(1, selfCancelling);
  clock.advance(1);
  assert.ok(error instanceof AlreadyCalled);
  assert.equal(
    (error as Error).message,
    "Cannot cancel a delayed call to selfCancelling that has already run",
  );
  assert.equal((error as Error).name, "AlreadyCalled");
});

Deno.test("DelayedCall methods after it ran throw AlreadyCalled", async (t) => {
  const clock = new Clock();
  const call = clock.callLater(0, () => {});
  clock.advance(0);
  await t.step("cancel", () => assert.throws(() => call.cancel(), AlreadyCalled));
  await t.step("reset", () => assert.throws(() => call.reset(1), AlreadyCalled));
  await t.step("delay", () => assert.throws(() => call.delay(1), AlreadyCalled));
});

Deno.test("DelayedCall methods after a cancel throw AlreadyCancelled", async (t) => {
  const clock = new Clock();
  function tick(): void {}
  const call = clock.callLater(1, tick);
  call.cancel();
  await t.step("cancel", () => {
    assert.throws(
      () => call.cancel(),
      (e: unknown) =>
        e instanceof AlreadyCancelled && e.name === "AlreadyCancelled" &&
        e.message === "Cannot cancel a delayed call to tick that was cancelled",
    );
  });
  await t.step("reset", () => assert.throws(() => call.reset(1), AlreadyCancelled));
  await t.step("delay", () => assert.throws(() => call.delay(1), AlreadyCancelled));
});

Deno.test("DelayedCall.delay() moves the call by that much from its time", () => {
  const clock = new Clock();
  const seen: number[] = [];
  const call = clock.callLater(1, () => seen.push(clock.seconds()));
  clock.advance(0.5);
  call.delay(1); // due at 2
  assert.equal(call.getTime(), 2);
  clock.advance(1);
  assert.deepEqual(seen, []);
  clock.advance(0.5);
  assert.deepEqual(seen, [2]);
});

Deno.test("DelayedCall.delay() with a negative value brings the call forward", () => {
  const clock = new Clock();
  const call = clock.callLater(5, () => {});
  call.delay(-3);
  assert.equal(call.getTime(), 2);
});

Deno.test("DelayedCall.reset() to a later time moves the call from now", () => {
  const clock = new Clock();
  const seen: number[] = [];
  const call = clock.callLater(2, () => seen.push(clock.seconds()));
  clock.advance(1);
  call.reset(3); // due at 4
  assert.equal(call.getTime(), 4);
  clock.advance(2);
  assert.deepEqual(seen, []);
  clock.advance(1);
  assert.deepEqual(seen, [4]);
});

Deno.test("DelayedCall.reset() to a sooner time moves the call from now", () => {
  const clock = new Clock();
  const seen: number[] = [];
  const call = clock.callLater(4, () => seen.push(clock.seconds()));
  clock.advance(1);
  call.reset(1); // due at 2
  clock.advance(1);
  assert.deepEqual(seen, [2]);
});

Deno.test("DelayedCall.toString() describes the call", () => {
  const clock = new Clock();
  function tick(_n: number, _s: string): void {}
  const call = clock.callLater(1.5, tick, 1, "a");
  assert.equal(
    String(call),
    '<DelayedCall [1.5s] called=false cancelled=false tick(1, "a")>',
  );
  call.cancel();
  assert.equal(String(call), '<DelayedCall [1.5s] called=false cancelled=true tick(1, "a")>');
});

Deno.test("AlreadyCalled and AlreadyCancelled are Errors with their names", () => {
  const called = new AlreadyCalled();
  const cancelled = new AlreadyCancelled();
  assert.ok(called instanceof Error);
  assert.ok(cancelled instanceof Error);
  assert.equal(called.name, "AlreadyCalled");
  assert.equal(cancelled.name, "AlreadyCancelled");
  assert.equal(called.message, "The delayed call has already run");
  assert.equal(cancelled.message, "The delayed call has already been cancelled");
});
