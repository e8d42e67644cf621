import assert from "node:assert/strict";
import { failureResultOf, successResultOf } from "../../testing/mod.ts";
import { CancelledError, Deferred, DeferredSemaphore, type Failure } from "@torsion/torsion/defer";

Deno.test("DeferredSemaphore gives out limit tokens, then makes acquire() wait", () => {
  const N = 13;
  const sem = new DeferredSemaphore(N);
  assert.equal(sem.limit, N);
  assert.equal(sem.tokens, N);

  const control = new Deferred<null>();
  let helperArg: unknown;
  const results: unknown[] = [];
  let counter = 0;
  const unique = { unique: true };
  const result = sem.run((arg: unknown) => {
    helperArg = arg;
    return control;
  }, unique);
  result.addCallback((r) => results.push(r));
  result.addCallback(() => counter++);
  assert.deepEqual(results, []);
  assert.equal(helperArg, unique);
  assert.equal(sem.tokens, N - 1);
  control.callback(null);
  assert.deepEqual(results, [null]);
  assert.equal(counter, 1);
  assert.equal(sem.tokens, N);

  counter = 0;
  for (let i = 1; i <= N; i++) {
    sem.acquire().addCallback(() => counter++);
    assert.equal(counter, i);
    assert.equal(sem.tokens, N - i);
  }

  const success: boolean[] = [];
  const d = sem.acquire().addCallbacks(
    () => {
      success.push(false);
    },
    () => {
      success.push(true);
    },
  );
  assert.equal(sem.waiting.length, 1);
  d.cancel();
  assert.deepEqual(success, [true]);
  assert.equal(sem.waiting.length, 0);

  sem.acquire().addCallback(() => counter++);
  assert.equal(counter, N);

  sem.release();
  assert.equal(counter, N + 1);
  assert.equal(sem.tokens, 0);

  for (let i = 1; i <= N; i++) {
    sem.release();
    assert.equal(counter, N + 1);
    assert.equal(sem.tokens, i);
  }
});

Deno.test("DeferredSemaphore serves waiters first come, first served", () => {
  const sem = new DeferredSemaphore(2);
  const order: string[] = [];
  sem.acquire();
  sem.acquire();
  for (const name of ["a", "b", "c"]) sem.acquire().addCallback(() => order.push(name));
  sem.release();
  assert.deepEqual(order, ["a"]);
  sem.release();
  sem.release();
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.equal(sem.tokens, 0);
});

Deno.test("DeferredSemaphore.acquire() fires with the semaphore itself", () => {
  const sem = new DeferredSemaphore(1);
  assert.equal(successResultOf(sem.acquire()), sem);
});

Deno.test("new DeferredSemaphore() rejects a token count that is not a positive integer", async (t) => {
  for (const tokens of [0, -1, 1.5, NaN, Infinity, -Infinity]) {
    await t.step(String(tokens), () => {
      assert.throws(() => new DeferredSemaphore(tokens), {
        name: "RangeError",
        message: `DeferredSemaphore needs a whole number of tokens of at least 1, got ${
          String(tokens)
        }`,
      });
    });
  }
  await t.step("a string", () => {
    assert.throws(() => new DeferredSemaphore("3" as never), RangeError);
  });
});

Deno.test("DeferredSemaphore.release() throws when every token is already free", async (t) => {
  await t.step("never acquired", () => {
    const sem = new DeferredSemaphore(3);
    assert.throws(() => sem.release(), {
      name: "Error",
      message: "Cannot release DeferredSemaphore: all 3 tokens are already free",
    });
    assert.equal(sem.tokens, 3);
  });
  await t.step("released once too often", () => {
    const sem = new DeferredSemaphore(2);
    sem.acquire();
    sem.release();
    assert.throws(() => sem.release(), /all 2 tokens are already free/);
    assert.equal(sem.tokens, 2);
  });
});

Deno.test("DeferredSemaphore.run() bounds how many functions run at once", () => {
  const sem = new DeferredSemaphore(2);
  const gates = [0, 1, 2, 3].map(() => new Deferred<number>());
  const running: number[] = [];
  const results: number[] = [];
  gates.forEach((gate, i) => {
    sem.run(() => {
      running.push(i);
      return gate;
    }).addCallback((r) => {
      results.push(r);
    });
  });
  assert.deepEqual(running, [0, 1]);
  gates[1].callback(10);
  assert.deepEqual(running, [0, 1, 2]);
  gates[0].callback(0);
  assert.deepEqual(running, [0, 1, 2, 3]);
  gates[3].callback(30);
  gates[2].callback(20);
  assert.deepEqual(results, [10, 0, 30, 20]);
  assert.equal(sem.tokens, 2);
});

Deno.test("DeferredSemaphore.run() releases the token however the function ends", async (t) => {
  await t.step("throws", () => {
    const sem = new DeferredSemaphore(1);
    const error = new TypeError("thrown");
    const d = sem.run(() => {
      throw error;
    });
    assert.equal(failureResultOf(d).value, error);
    assert.equal(sem.tokens, 1);
  });
  await t.step("its Deferred fails", () => {
    const sem = new DeferredSemaphore(1);
    const control = new Deferred<number>();
    const d = sem.run(() => control);
    assert.equal(sem.tokens, 0);
    control.errback(new Error("later"));
    assert.equal(failureResultOf(d).getErrorMessage(), "later");
    assert.equal(sem.tokens, 1);
  });
  await t.step("returns a Promise", async () => {
    const sem = new DeferredSemaphore(1);
    const d = sem.run((n: number) => Promise.resolve(n * 2), 21);
    assert.equal(sem.tokens, 0);
    assert.equal(await d, 42);
    assert.equal(sem.tokens, 1);
  });
});

Deno.test("DeferredSemaphore.run() without a function throws TypeError", () => {
  const sem = new DeferredSemaphore(1);
  assert.throws(() => sem.run(undefined as never), {
    name: "TypeError",
    message: "DeferredSemaphore.run() needs a function, got undefined",
  });
  assert.equal(sem.tokens, 1);
});

Deno.test("DeferredSemaphore acquire() cancellation", async (t) => {
  await t.step("of an acquired one does nothing", () => {
    const sem = new DeferredSemaphore(1);
    const d = sem.acquire();
    const errors: Failure[] = [];
    d.addErrback((f) => {
      errors.push(f);
    });
    d.cancel();
    assert.deepEqual(errors, []);
    assert.equal(sem.tokens, 0);
  });

  await t.step("of a waiting one fails it with CancelledError and dequeues it", () => {
    const sem = new DeferredSemaphore(1);
    sem.acquire();
    const d = sem.acquire();
    const next = sem.acquire();
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.deepEqual(sem.waiting, [next]);
    sem.release();
    assert.equal(successResultOf(next), sem);
    sem.release();
    assert.equal(sem.tokens, 1);
  });
});
