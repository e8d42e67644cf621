import assert from "node:assert/strict";
import { Scheduler } from "../../reactor/_scheduler.ts";
import { AlreadyCalled, AlreadyCancelled } from "../../reactor/delayed_call.ts";

// A scheduler over a time the test sets, with the log of what ran.
function setup(): { scheduler: Scheduler; log: string[]; now: { value: number } } {
  const now = { value: 0 };
  const scheduler = new Scheduler(() => now.value);
  return { scheduler, log: [], now };
}

// A deterministic pseudo-random sequence (mulberry32), so failures reproduce.
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("Scheduler.callLater() measures the delay from the current time", () => {
  const { scheduler, now } = setup();
  now.value = 100;
  const call = scheduler.callLater(5, () => {});
  assert.equal(call.getTime(), 105);
  assert.equal(scheduler.nextTime(), 105);
  assert.equal(scheduler.size, 1);
});

Deno.test("Scheduler.callLater() refuses a bad delay, naming it", async (t) => {
  const { scheduler } = setup();
  for (const delay of [-1, -0.001, NaN, Infinity, -Infinity]) {
    await t.step(`delay ${delay}`, () => {
      assert.throws(
        () => scheduler.callLater(delay, () => {}),
        (e: unknown) => e instanceof RangeError && e.message.endsWith(`: ${delay}`),
      );
    });
  }
  await t.step("a string delay", () => {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => scheduler.callLater("1" as any, () => {}),
      /^RangeError: Delay must be a finite number of seconds, zero or more: 1$/,
    );
  });
  assert.equal(scheduler.size, 0);
});

Deno.test("Scheduler.callLater() refuses something that is not a function", () => {
  const { scheduler } = setup();
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => scheduler.callLater(1, 42 as any),
    /^TypeError: Cannot schedule a call to something that is not a function: 42$/,
  );
  assert.equal(scheduler.size, 0);
});

Deno.test("Scheduler.runDue() runs due calls by time, then scheduling order", () => {
  const { scheduler, log } = setup();
  const push = (s: string) => log.push(s);
  scheduler.callLater(3, push, "c");
  scheduler.callLater(1, push, "a1");
  scheduler.callLater(2, push, "b");
  scheduler.callLater(1, push, "a2");
  scheduler.callLater(1, push, "a3");
  scheduler.callLater(4, push, "d");
  scheduler.runDue(3);
  assert.deepEqual(log, ["a1", "a2", "a3", "b", "c"]);
  assert.equal(scheduler.nextTime(), 4);
  assert.equal(scheduler.size, 1);
});

Deno.test("Scheduler.runDue() passes the arguments", () => {
  const { scheduler } = setup();
  const seen: unknown[] = [];
  scheduler.callLater(0, (a: number, b: string) => seen.push([a, b]), 7, "x");
  scheduler.runDue(0);
  assert.deepEqual(seen, [[7, "x"]]);
});

Deno.test("Scheduler.runDue() runs a call due exactly now but not one due later", () => {
  const { scheduler, log } = setup();
  scheduler.callLater(1, () => log.push("at 1"));
  scheduler.callLater(1.0000001, () => log.push("after 1"));
  scheduler.runDue(1);
  assert.deepEqual(log, ["at 1"]);
  assert.equal(scheduler.nextTime(), 1.0000001);
});

Deno.test("Scheduler.runDue() marks a call called before running it", () => {
  const { scheduler } = setup();
  const states: Array<[boolean, boolean]> = [];
  const call = scheduler.callLater(1, () => {
    states.push([call.active(), (call as unknown as { called: boolean }).called]);
  });
  scheduler.runDue(1);
  assert.deepEqual(states, [[false, true]]);
});

Deno.test("Scheduler.runDue() runs zero-delay calls scheduled during the pass", () => {
  const { scheduler, log, now } = setup();
  scheduler.callLater(1, () => {
    log.push("first");
    scheduler.callLater(0, () => log.push("zero-delay"));
    scheduler.callLater(1, () => log.push("later"));
  });
  scheduler.callLater(1, () => log.push("second"));
  now.value = 1;
  scheduler.runDue(1);
  assert.deepEqual(log, ["first", "second", "zero-delay"]);
  assert.equal(scheduler.nextTime(), 2);
});

Deno.test("Scheduler.runDue() lets an error escape and keeps the rest queued", () => {
  const { scheduler, log } = setup();
  scheduler.callLater(1, () => log.push("a"));
  const bad = scheduler.callLater(1, () => {
    throw new Error("boom");
  });
  scheduler.callLater(1, () => log.push("c"));
  scheduler.callLater(2, () => log.push("d"));
  assert.throws(() => scheduler.runDue(2), /^Error: boom$/);
  assert.deepEqual(log, ["a"]);
  assert.equal(bad.active(), false);
  assert.equal(scheduler.size, 2);
  scheduler.runDue(2);
  assert.deepEqual(log, ["a", "c", "d"]);
});

Deno.test("Scheduler.runDue() with onError reports each error and goes on", () => {
  const { scheduler, log } = setup();
  const reported: Array<[string, string]> = [];
  function failing(): void {
    throw new Error("first");
  }
  scheduler.callLater(1, failing);
  scheduler.callLater(1, () => log.push("b"));
  scheduler.callLater(1, () => {
    throw new TypeError("second");
  });
  scheduler.callLater(1, () => log.push("d"));
  scheduler.runDue(1, (error, call) => {
    reported.push([(error as Error).message, call.func.name]);
  });
  assert.deepEqual(log, ["b", "d"]);
  assert.deepEqual(reported, [["first", "failing"], ["second", ""]]);
  assert.equal(scheduler.size, 0);
});

Deno.test("Scheduler cancel() removes a call from anywhere in the heap", () => {
  const { scheduler, log } = setup();
  const calls = [5, 3, 8, 1, 9, 2, 7].map((t) => scheduler.callLater(t, () => log.push(`${t}`)));
  calls[0].cancel(); // 5
  calls[3].cancel(); // 1, the first
  calls[4].cancel(); // 9, the last
  assert.equal(scheduler.size, 4);
  assert.equal(scheduler.nextTime(), 2);
  scheduler.runDue(10);
  assert.deepEqual(log, ["2", "3", "7", "8"]);
  assert.equal(scheduler.nextTime(), undefined);
});

Deno.test("Scheduler cancel() after the call ran throws AlreadyCalled, twice AlreadyCancelled", () => {
  const { scheduler } = setup();
  const ran = scheduler.callLater(0, () => {});
  scheduler.runDue(0);
  assert.throws(() => ran.cancel(), AlreadyCalled);
  const cancelled = scheduler.callLater(1, () => {});
  cancelled.cancel();
  assert.throws(() => cancelled.cancel(), AlreadyCancelled);
  assert.throws(() => cancelled.reset(1), AlreadyCancelled);
  assert.throws(() => cancelled.delay(1), AlreadyCancelled);
  assert.equal(scheduler.size, 0);
});

Deno.test("Scheduler reset() and delay() reorder the heap", () => {
  const { scheduler, log, now } = setup();
  const a = scheduler.callLater(1, () => log.push("a"));
  const b = scheduler.callLater(2, () => log.push("b"));
  const c = scheduler.callLater(3, () => log.push("c"));
  a.reset(5); // a at 5
  c.delay(-2.5); // c at 0.5
  b.delay(10); // b at 12
  assert.deepEqual(
    scheduler.getDelayedCalls().map((call) => call.getTime()),
    [0.5, 5, 12],
  );
  now.value = 1;
  a.reset(0.5); // a at 1.5
  scheduler.runDue(20);
  assert.deepEqual(log, ["c", "a", "b"]);
});

Deno.test("Scheduler reset() puts a call after those already due at its new time", () => {
  const { scheduler, log } = setup();
  const a = scheduler.callLater(1, () => log.push("a"));
  scheduler.callLater(3, () => log.push("b"));
  a.reset(3);
  scheduler.runDue(3);
  assert.deepEqual(log, ["b", "a"]);
});

Deno.test("Scheduler reset() and delay() refuse a non-finite value", () => {
  const { scheduler } = setup();
  const call = scheduler.callLater(1, () => {});
  assert.throws(
    () => call.reset(NaN),
    /^RangeError: Seconds from now must be a finite number: NaN$/,
  );
  assert.throws(
    () => call.delay(Infinity),
    /^RangeError: Seconds later must be a finite number: Infinity$/,
  );
  assert.equal(call.getTime(), 1);
});

Deno.test("Scheduler.getDelayedCalls() lists pending calls in running order, as a copy", () => {
  const { scheduler } = setup();
  const fns = ["c", "a", "b"].map((name) =>
    Object.defineProperty(() => {}, "name", { value: name })
  );
  scheduler.callLater(3, fns[0]);
  scheduler.callLater(1, fns[1]);
  const cancelled = scheduler.callLater(1.5, () => {});
  scheduler.callLater(2, fns[2]);
  cancelled.cancel();
  const calls = scheduler.getDelayedCalls();
  assert.deepEqual(calls.map((c) => c.func.name), ["a", "b", "c"]);
  calls.length = 0;
  assert.equal(scheduler.getDelayedCalls().length, 3);
});

Deno.test("Scheduler.onChange is told when the earliest due time may have changed", async (t) => {
  const { scheduler } = setup();
  let changes = 0;
  scheduler.onChange = () => changes++;
  let a!: ReturnType<Scheduler["callLater"]>;
  await t.step("a first call", () => {
    a = scheduler.callLater(5, () => {});
    assert.equal(changes, 1);
  });
  await t.step("a later call changes nothing", () => {
    scheduler.callLater(7, () => {});
    assert.equal(changes, 1);
  });
  await t.step("an earlier call", () => {
    scheduler.callLater(1, () => {});
    assert.equal(changes, 2);
  });
  await t.step("moving a call that is not first, and stays so", () => {
    a.reset(6);
    assert.equal(changes, 2);
  });
  await t.step("moving a call to the front", () => {
    a.reset(0.5);
    assert.equal(changes, 3);
    assert.equal(scheduler.nextTime(), 0.5);
  });
  await t.step("cancelling the first call", () => {
    a.cancel();
    assert.equal(changes, 4);
    assert.equal(scheduler.nextTime(), 1);
  });
  await t.step("runDue itself does not report, calls it runs do", () => {
    scheduler.callLater(2, () => scheduler.callLater(2.5, () => {}));
    const before = changes;
    scheduler.runDue(2); // takes off the calls due at 1 and 2; 7 is left
    assert.equal(changes, before + 1);
    assert.equal(scheduler.nextTime(), 2.5);
  });
});

Deno.test("Scheduler holds 100,000 calls, half cancelled at random, and runs the rest in order", () => {
  const { scheduler } = setup();
  const rand = random(1234);
  const N = 100_000;
  const times: number[] = [];
  const ran: number[] = [];
  const record = (i: number) => ran.push(i);
  const calls = [];
  for (let i = 0; i < N; i++) {
    // Whole hundredths, so that many calls share a time.
    const t = Math.floor(rand() * 1000) / 100;
    times.push(t);
    calls.push(scheduler.callLater(t, record, i));
  }
  assert.equal(scheduler.size, N);
  const order = Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const cancelled = new Set(order.slice(0, N / 2));
  const started = performance.now();
  for (const i of cancelled) calls[i].cancel();
  assert.equal(scheduler.size, N / 2);
  scheduler.runDue(10);
  const elapsed = performance.now() - started;
  const expected = order.slice(N / 2).sort((x, y) => times[x] - times[y] || x - y);
  assert.equal(ran.length, N / 2);
  assert.deepEqual(ran, expected);
  assert.equal(scheduler.size, 0);
  assert.ok(elapsed < 2000, `cancelling and running took ${elapsed} ms`);
});
