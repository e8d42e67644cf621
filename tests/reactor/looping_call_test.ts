import assert from "node:assert/strict";
import { Deferred, type Failure } from "../../defer/mod.ts";
import { Clock } from "../../reactor/clock.ts";
import { reactor } from "../../reactor/deno_reactor.ts";
import { LoopingCall } from "../../reactor/looping_call.ts";

// A LoopingCall of `fn` on `clock`.
function looping<A extends unknown[]>(
  clock: Clock,
  fn: (...args: A) => unknown,
  ...args: A
): LoopingCall<A> {
  const loop = new LoopingCall(fn, ...args);
  loop.clock = clock;
  return loop;
}

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

Deno.test("LoopingCall.clock defaults to the reactor, as in Twisted", async () => {
  const loop = new LoopingCall(() => {});
  assert.equal(loop.clock, reactor);
  assert.equal(loop.running, false);
  assert.equal(loop.interval, undefined);
  // Sharing the reactor's time: the pending run is one of its delayed calls.
  const done = loop.start(60, false);
  const pending = reactor.getDelayedCalls();
  assert.equal(pending.length, 1);
  assert.ok(Math.abs(pending[0].getTime() - (reactor.seconds() + 60)) < 1);
  loop.stop();
  assert.deepEqual(reactor.getDelayedCalls(), []);
  assert.equal(await done, loop);
});

Deno.test("LoopingCall() refuses something that is not a function", () => {
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => new LoopingCall("tick" as any),
    /^TypeError: LoopingCall needs a function to call, got: tick$/,
  );
});

Deno.test("LoopingCall.start() runs now, then at each interval, with the arguments", () => {
  const calls: Array<[string, string, number]> = [];
  const clock = new Clock();
  const loop = looping(
    clock,
    (a: string, b: string) => calls.push([a, b, clock.seconds()]),
    "a",
    "b",
  );
  const done = outcome(loop.start(0.1));
  assert.equal(loop.running, true);
  assert.equal(loop.interval, 0.1);
  clock.pump([0.05, 0.1, 0.1]);
  assert.equal(calls.length, 3);
  assert.deepEqual(calls.map(([a, b]) => [a, b]), [["a", "b"], ["a", "b"], ["a", "b"]]);
  loop.stop();
  assert.equal(loop.running, false);
  assert.equal(done.result, loop);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("LoopingCall.start() with now=false waits one interval first", () => {
  const times: number[] = [];
  const clock = new Clock();
  const loop = looping(clock, () => times.push(clock.seconds()));
  const done = outcome(loop.start(0.1, false));
  assert.deepEqual(times, []);
  clock.pump([0.05, 0.1, 0.1]);
  assert.equal(times.length, 2);
  loop.stop();
  assert.equal(done.result, loop);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("LoopingCall skips the runs missed while the clock jumped", () => {
  const times: number[] = [];
  const clock = new Clock();
  const loop = looping(clock, () => times.push(clock.seconds()));
  loop.start(0.5);
  assert.deepEqual(times, [0]);
  clock.advance(2);
  assert.deepEqual(times, [0, 2]);
  clock.advance(1);
  assert.deepEqual(times, [0, 2, 3]);
  clock.advance(0);
  assert.deepEqual(times, [0, 2, 3]);
  loop.stop();
});

Deno.test("LoopingCall skips the runs missed while the function ran long", () => {
  const times: number[] = [];
  let duration = 2;
  const clock = new Clock();
  const loop = looping(clock, () => {
    times.push(clock.seconds());
    clock.advance(duration);
  });
  loop.start(0.5);
  assert.deepEqual(times, [0]);
  assert.equal(clock.seconds(), 2);
  clock.advance(0); // 2 is now, not the future: skipped
  assert.deepEqual(times, [0]);
  duration = 1;
  clock.advance(0.5);
  assert.deepEqual(times, [0, 2.5]);
  assert.equal(clock.seconds(), 3.5);
  clock.advance(0);
  assert.deepEqual(times, [0, 2.5]);
  duration = 0;
  clock.advance(0.5);
  assert.deepEqual(times, [0, 2.5, 4]);
  assert.equal(clock.seconds(), 4);
  loop.stop();
});

Deno.test("LoopingCall.withCount() counts the intervals that went by", () => {
  const clock = new Clock();
  const seen: Array<[number, number]> = [];
  const loop = LoopingCall.withCount((n) => seen.push([clock.seconds(), n]));
  loop.clock = clock;
  const INTERVAL = 0.5;
  const DELAY = 0.01;
  loop.start(INTERVAL);
  assert.deepEqual(seen, [[0, 1]]);
  clock.advance(INTERVAL + DELAY);
  assert.deepEqual(seen, [[0, 1], [0.51, 1]]);
  clock.advance(3 * INTERVAL + DELAY);
  assert.deepEqual(seen, [[0, 1], [0.51, 1], [2.02, 3]]);
  clock.advance(0);
  assert.deepEqual(seen, [[0, 1], [0.51, 1], [2.02, 3]]);
  loop.stop();
});

Deno.test("LoopingCall.withCount() counts 1 for a gap under two intervals", () => {
  const clock = new Clock();
  const seen: Array<[number, number]> = [];
  const loop = LoopingCall.withCount((n) => seen.push([clock.seconds(), n]));
  loop.clock = clock;
  loop.start(0.5);
  assert.deepEqual(seen.pop(), [0, 1]);
  clock.advance(0.51);
  assert.deepEqual(seen.pop(), [0.51, 1]);
  clock.advance(0.5 * 1.75); // delayed: 1.385, 1.75 intervals after the last
  assert.deepEqual(seen.pop(), [1.385, 1]);
  clock.advance(0.5 * 0.25);
  assert.deepEqual(seen.pop(), [1.51, 1]);
  loop.stop();
});

Deno.test("LoopingCall.withCount() never counts 0 and sums to the intervals elapsed", () => {
  const clock = new Clock();
  const counts: number[] = [];
  const loop = LoopingCall.withCount((n) => counts.push(n));
  loop.clock = clock;
  const count = 10;
  const interval = 1 / count;
  loop.start(interval, false);
  for (let i = 0; i < count; i++) clock.advance(interval);
  const epsilon = 1 - Array(count).fill(interval).reduce((a: number, b: number) => a + b, 0);
  clock.advance(epsilon);
  assert.ok(Math.abs(epsilon) > 0, `${epsilon} should not be 0`);
  assert.ok(clock.seconds() >= 1);
  assert.equal(counts.reduce((a, b) => a + b, 0), count);
  assert.equal(counts.includes(0), false);
  loop.stop();
});

Deno.test("LoopingCall.withCount() with interval 0 always counts 1", () => {
  const clock = new Clock();
  const counts: number[] = [];
  const loop = LoopingCall.withCount((n) => {
    counts.push(n);
    if (counts.length > 4) loop.stop();
  });
  loop.clock = clock;
  const done = outcome(loop.start(0, false));
  clock.advance(0);
  assert.equal(done.result, loop);
  assert.deepEqual(counts, [1, 1, 1, 1, 1]);
});

Deno.test("LoopingCall.withCount() with interval 0 counts 1 after a wait on a Deferred", () => {
  const clock = new Clock();
  const waitOn = new Deferred<void>();
  const counts: number[] = [];
  const loop = LoopingCall.withCount((n) => {
    counts.push(n);
    if (counts.length === 2) return waitOn;
    if (counts.length > 4) loop.stop();
  });
  loop.clock = clock;
  loop.start(0, false);
  clock.advance(0);
  assert.deepEqual(counts, [1, 1]);
  clock.advance(2);
  assert.deepEqual(counts, [1, 1]);
  waitOn.callback();
  clock.advance(0);
  assert.deepEqual(counts, [1, 1, 1, 1, 1]);
});

Deno.test("LoopingCall.withCount() counts from the last run when the interval changes", () => {
  const clock = new Clock();
  const waitOn = new Deferred<void>();
  const counts: number[] = [];
  const loop = LoopingCall.withCount((n) => {
    counts.push(n);
    if (counts.length === 2) return waitOn;
  });
  loop.clock = clock;
  loop.start(0, false);
  clock.advance(10);
  assert.deepEqual(counts, [1, 1]);
  loop.interval = 2;
  waitOn.callback();
  clock.advance(7);
  assert.deepEqual(counts, [1, 1, 3]);
  clock.advance(2);
  assert.deepEqual(counts, [1, 1, 3, 1]);
  clock.advance(4);
  assert.deepEqual(counts, [1, 1, 3, 1, 2]);
  loop.stop();
});

Deno.test("LoopingCall.withCount() counts the runs a slow Deferred made it miss", () => {
  const clock = new Clock();
  const waitOn = new Deferred<void>();
  const counts: number[] = [];
  const loop = LoopingCall.withCount((n) => {
    counts.push(n);
    return counts.length === 1 ? waitOn : undefined;
  });
  loop.clock = clock;
  loop.start(0.2, false);
  assert.deepEqual(counts, []);
  clock.pump([0.2, 0.4]);
  assert.deepEqual(counts, [1]);
  waitOn.callback();
  clock.pump([0.2]);
  assert.deepEqual(counts, [1, 3]);
  loop.stop();
});

Deno.test("LoopingCall does not run again while the function's Deferred is pending", () => {
  const clock = new Clock();
  const times: number[] = [];
  const loop = new LoopingCall(() => {
    times.push(clock.seconds());
    const d = new Deferred<void>();
    d.addCallback(() => loop.stop());
    clock.callLater(1, () => d.callback());
    return d;
  });
  loop.clock = clock;
  const done = outcome(loop.start(0.2));
  clock.pump([0.2, 0.8]);
  assert.deepEqual(times, [0]);
  assert.equal(done.result, loop);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("LoopingCall waits on a Promise returned by the function", async () => {
  const clock = new Clock();
  let resolve!: () => void;
  const times: number[] = [];
  const loop = new LoopingCall(() => {
    times.push(clock.seconds());
    return new Promise<void>((r) => (resolve = r));
  });
  loop.clock = clock;
  loop.start(1);
  clock.advance(3);
  assert.deepEqual(times, [0]);
  resolve();
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(clock.getDelayedCalls().map((c) => c.getTime()), [4]);
  loop.stop();
});

Deno.test("LoopingCall.stop() while the function's Deferred is pending fires start's Deferred later", () => {
  const clock = new Clock();
  const loop = looping(clock, () => waitOn);
  const waitOn = new Deferred<string>();
  const done = outcome(loop.start(1));
  loop.stop();
  assert.equal(loop.running, false);
  assert.deepEqual(done, {});
  waitOn.callback("finished");
  assert.equal(done.result, loop);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("LoopingCall.stop() right after start() prevents every run", async (t) => {
  for (const interval of [0, 10]) {
    await t.step(`interval ${interval}`, () => {
      let ran = 0;
      const clock = new Clock();
      const loop = looping(clock, () => ran++);
      const done = outcome(loop.start(interval, false));
      loop.stop();
      clock.advance(20);
      assert.equal(ran, 0);
      assert.equal(done.result, loop);
      assert.deepEqual(clock.getDelayedCalls(), []);
    });
  }
});

Deno.test("LoopingCall fails start's Deferred when the function throws", () => {
  const loop = looping(new Clock(), (x: string) => {
    throw new RangeError(x);
  }, "bar");
  const done = outcome(loop.start(0.1));
  assert.ok(done.failure?.value instanceof RangeError);
  assert.equal(done.failure?.getErrorMessage(), "bar");
  assert.equal(loop.running, false);
});

Deno.test("LoopingCall fails start's Deferred when the function stops it and throws", () => {
  const loop: LoopingCall = new LoopingCall(() => {
    loop.stop();
    throw new Error("stopped and failed");
  });
  loop.clock = new Clock();
  const done = outcome(loop.start(0.1));
  assert.equal(done.failure?.getErrorMessage(), "stopped and failed");
  assert.equal(loop.running, false);
});

Deno.test("LoopingCall fails start's Deferred when the function's Deferred fails", () => {
  const clock = new Clock();
  const loop = new LoopingCall(() => {
    const d = new Deferred<void>();
    clock.callLater(0.3, () => d.errback(new TypeError("later")));
    return d;
  });
  loop.clock = clock;
  const done = outcome(loop.start(1));
  assert.deepEqual(done, {});
  clock.pump([0.3]);
  assert.ok(done.failure?.value instanceof TypeError);
  assert.equal(loop.running, false);
  assert.deepEqual(clock.getDelayedCalls(), []);
});

Deno.test("LoopingCall with interval 0 runs once per clock step until stopped", () => {
  let ran = 0;
  const loop: LoopingCall = new LoopingCall(() => {
    if (++ran > 5) loop.stop();
  });
  const clock = new Clock();
  loop.clock = clock;
  const done = outcome(loop.start(0));
  clock.advance(0);
  assert.equal(ran, 6);
  assert.equal(done.result, loop);
});

Deno.test("LoopingCall.start() refuses a negative interval, naming it", () => {
  const loop = new LoopingCall(() => {});
  assert.throws(
    () => loop.start(-1),
    /^RangeError: Interval must be a finite number of seconds, zero or more: -1$/,
  );
  assert.throws(() => loop.start(NaN), RangeError);
  assert.equal(loop.running, false);
});

Deno.test("LoopingCall.start() while running throws", () => {
  function poll(): void {}
  const loop = looping(new Clock(), poll);
  loop.start(1);
  assert.throws(
    () => loop.start(1),
    /^Error: Tried to start an already running LoopingCall<1>\(poll\)$/,
  );
  loop.stop();
});

Deno.test("LoopingCall.stop() and reset() when not running throw", () => {
  function poll(): void {}
  const loop = new LoopingCall(poll);
  assert.throws(
    () => loop.stop(),
    /^Error: Tried to stop LoopingCall<undefined>\(poll\), which is not running$/,
  );
  assert.throws(
    () => loop.reset(),
    /^Error: Tried to reset LoopingCall<undefined>\(poll\), which is not running$/,
  );
});

Deno.test("LoopingCall.reset() restarts the interval from now", () => {
  let ran = 0;
  const clock = new Clock();
  const loop = looping(clock, () => ran++);
  loop.start(2, false);
  clock.advance(1);
  loop.reset();
  clock.advance(1);
  assert.equal(ran, 0);
  clock.advance(1);
  assert.equal(ran, 1);
  loop.stop();
});

Deno.test("LoopingCall can be started again after stop()", () => {
  const times: number[] = [];
  const clock = new Clock();
  const loop = looping(clock, () => times.push(clock.seconds()));
  loop.start(1);
  clock.advance(1);
  loop.stop();
  clock.advance(0.5);
  loop.start(2);
  clock.advance(2);
  loop.stop();
  assert.deepEqual(times, [0, 1, 1.5, 3.5]);
});

Deno.test("LoopingCall.interval refuses a bad value", () => {
  const loop = new LoopingCall(() => {});
  assert.throws(() => (loop.interval = -2), /: -2$/);
  loop.interval = 3;
  assert.equal(loop.interval, 3);
});

Deno.test("LoopingCall.toString() names the interval and the function", () => {
  function poll(_n: number): void {}
  const loop = new LoopingCall(poll, 1);
  assert.equal(String(loop), "LoopingCall<undefined>(poll)");
  loop.clock = new Clock();
  loop.start(0.5);
  assert.equal(String(loop), "LoopingCall<0.5>(poll)");
  loop.stop();
  function counter(_count: number): void {}
  assert.equal(String(LoopingCall.withCount(counter)), "LoopingCall<undefined>(counter)");
});
