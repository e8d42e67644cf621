import assert from "node:assert/strict";
import { assertNoResult, failureResultOf, successResultOf } from "../../testing/mod.ts";
import { CancelledError, Deferred, DeferredLock, Failure } from "@torsion/torsion/defer";

Deno.test("DeferredLock.acquire() fires at once with the lock when it is free", () => {
  const lock = new DeferredLock();
  assert.equal(lock.locked, false);
  const d = lock.acquire();
  assert.equal(successResultOf(d), lock);
  assert.equal(lock.locked, true);
  assert.deepEqual(lock.waiting, []);
});

Deno.test("DeferredLock hands the lock over on release()", () => {
  const lock = new DeferredLock();
  let counter = 0;
  lock.acquire().addCallback(() => counter++);
  assert.equal(lock.locked, true);
  assert.equal(counter, 1);

  lock.acquire().addCallback(() => counter++);
  assert.equal(lock.locked, true);
  assert.equal(counter, 1);
  assert.equal(lock.waiting.length, 1);

  lock.release();
  assert.equal(lock.locked, true);
  assert.equal(counter, 2);
  assert.equal(lock.waiting.length, 0);

  lock.release();
  assert.equal(lock.locked, false);
  assert.equal(counter, 2);
});

Deno.test("DeferredLock serves waiters first come, first served", () => {
  const lock = new DeferredLock();
  const order: string[] = [];
  lock.acquire();
  for (const name of ["a", "b", "c"]) lock.acquire().addCallback(() => order.push(name));
  assert.deepEqual(order, []);
  lock.release();
  assert.deepEqual(order, ["a"]);
  lock.release();
  lock.release();
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.equal(lock.locked, true);
  lock.release();
  assert.equal(lock.locked, false);
});

Deno.test("DeferredLock.release() from a waiter's callback passes the lock on at once", () => {
  const lock = new DeferredLock();
  const order: string[] = [];
  lock.acquire();
  lock.acquire().addCallback((l) => {
    order.push("first");
    l.release();
  });
  lock.acquire().addCallback(() => order.push("second"));
  lock.release();
  assert.deepEqual(order, ["first", "second"]);
  assert.equal(lock.locked, true);
});

Deno.test("DeferredLock.release() throws when the lock is not held", async (t) => {
  await t.step("never acquired", () => {
    const lock = new DeferredLock();
    assert.throws(() => lock.release(), {
      name: "Error",
      message: "Cannot release a DeferredLock that is not locked",
    });
  });
  await t.step("released twice", () => {
    const lock = new DeferredLock();
    lock.acquire();
    lock.release();
    assert.throws(() => lock.release(), /not locked/);
    assert.equal(lock.locked, false);
  });
});

Deno.test("DeferredLock.run() holds the lock until the function's result fires", () => {
  const lock = new DeferredLock();
  const first = { first: true };
  const second = { second: true };
  const control = new Deferred<unknown>();
  const seen: unknown[] = [];
  const result = lock.run(
    (value: unknown, returned: Deferred<unknown>) => {
      seen.push(value);
      return returned;
    },
    first,
    control,
  );
  assert.equal(lock.locked, true);
  assert.deepEqual(seen.slice(), [first]);
  result.addCallback((r) => seen.push(r));

  let counter = 0;
  lock.acquire().addCallback(() => counter++);
  assert.equal(counter, 0);

  control.callback(second);
  assert.deepEqual(seen.slice(), [first, second]);
  assert.equal(lock.locked, true); // handed to the waiting acquire()
  assert.equal(counter, 1);

  const waiting = lock.acquire().addBoth((r) => {
    seen.push(r);
  });
  waiting.cancel();
  assert.ok(seen[2] instanceof Failure);
  assert.ok((seen[2] as Failure).value instanceof CancelledError);

  lock.release();
  assert.equal(lock.locked, false);
});

Deno.test("DeferredLock.run() releases the lock however the function ends", async (t) => {
  await t.step("returns a value", () => {
    const lock = new DeferredLock();
    const d = lock.run((a: number, b: number) => a + b, 2, 3);
    assert.equal(successResultOf(d), 5);
    assert.equal(lock.locked, false);
  });

  await t.step("throws", () => {
    const lock = new DeferredLock();
    const error = new RangeError("thrown");
    const d = lock.run(() => {
      throw error;
    });
    assert.equal(failureResultOf(d).value, error);
    assert.equal(lock.locked, false);
  });

  await t.step("returns a Failure", () => {
    const lock = new DeferredLock();
    const failure = new Failure(new Error("returned"));
    const d = lock.run(() => failure);
    assert.equal(failureResultOf(d), failure);
    assert.equal(lock.locked, false);
  });

  await t.step("its Deferred fails", () => {
    const lock = new DeferredLock();
    const control = new Deferred<string>();
    const d = lock.run(() => control);
    assert.equal(lock.locked, true);
    control.errback(new Error("later"));
    assert.equal(failureResultOf(d).getErrorMessage(), "later");
    assert.equal(lock.locked, false);
  });

  await t.step("returns a Promise", async () => {
    const lock = new DeferredLock();
    const d = lock.run(() => Promise.resolve("async"));
    assert.equal(lock.locked, true);
    assert.equal(await d, "async");
    assert.equal(lock.locked, false);
  });
});

Deno.test("DeferredLock.run() calls queued functions one at a time, in order", () => {
  const lock = new DeferredLock();
  const gates = [new Deferred<void>(), new Deferred<void>(), new Deferred<void>()];
  const events: string[] = [];
  gates.forEach((gate, i) =>
    lock.run(() => {
      events.push(`start ${i}`);
      return gate.addCallback(() => {
        events.push(`end ${i}`);
      });
    })
  );
  assert.deepEqual(events, ["start 0"]);
  gates[0].callback();
  assert.deepEqual(events, ["start 0", "end 0", "start 1"]);
  gates[2].callback(); // its function has not run yet: it waits for the lock
  assert.deepEqual(events, ["start 0", "end 0", "start 1"]);
  gates[1].callback();
  assert.deepEqual(events, ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]);
  assert.equal(lock.locked, false);
});

Deno.test("DeferredLock.run() without a function throws TypeError", async (t) => {
  for (const value of [undefined, null, 42, "f"]) {
    await t.step(String(value), () => {
      const lock = new DeferredLock();
      assert.throws(() => lock.run(value as never), {
        name: "TypeError",
        message: `DeferredLock.run() needs a function, got ${String(value)}`,
      });
      assert.equal(lock.locked, false);
    });
  }
});

Deno.test("DeferredLock acquire() cancellation", async (t) => {
  await t.step("of a waiting acquire() fails it and removes it from the queue", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const d = lock.acquire();
    const after = lock.acquire();
    assert.deepEqual(lock.waiting, [d, after]);
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.deepEqual(lock.waiting, [after]);
    lock.release();
    assert.equal(successResultOf(after), lock);
    lock.release();
    assert.equal(lock.locked, false);
  });

  await t.step("of the only waiter leaves the lock free after release()", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const d = lock.acquire();
    d.cancel();
    failureResultOf(d, CancelledError);
    lock.release();
    assert.equal(lock.locked, false);
  });

  await t.step("of an acquired one does nothing", () => {
    const lock = new DeferredLock();
    const d = lock.acquire();
    const errors: Failure[] = [];
    d.addErrback((f) => {
      errors.push(f);
    });
    d.cancel();
    assert.deepEqual(errors, []);
    assert.equal(lock.locked, true);
    assert.equal(successResultOf(d), lock);
  });

  await t.step("of a run() waiting for the lock stops fn from running", () => {
    const lock = new DeferredLock();
    lock.acquire();
    let ran = false;
    const d = lock.run(() => {
      ran = true;
    });
    d.cancel();
    failureResultOf(d, CancelledError);
    lock.release();
    assert.equal(ran, false);
    assert.equal(lock.locked, false);
  });

  await t.step("of a running run() cancels fn's Deferred and releases", () => {
    const lock = new DeferredLock();
    const cancelled: string[] = [];
    const work = new Deferred<string>(() => cancelled.push("work"));
    const d = lock.run(() => work);
    assertNoResult(d);
    d.cancel();
    assert.deepEqual(cancelled, ["work"]);
    failureResultOf(d, CancelledError);
    assert.equal(lock.locked, false);
  });
});
