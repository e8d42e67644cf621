import assert from "node:assert/strict";
import { failureResultOf, successResultOf } from "../../testing/mod.ts";
import {
  CancelledError,
  DeferredQueue,
  type Failure,
  QueueOverflow,
  QueueUnderflow,
} from "@torsion/torsion/defer";

Deno.test("DeferredQueue feeds waiters in order and enforces size and backlog", () => {
  const N = 2;
  const M = 2;
  const queue = new DeferredQueue<number>(N, M);
  assert.equal(queue.size, N);
  assert.equal(queue.backlog, M);

  let gotten: number[] = [];
  for (let i = 0; i < M; i++) queue.get().addCallback((x) => gotten.push(x));
  assert.equal(queue.waiting.length, M);
  assert.throws(() => queue.get(), QueueUnderflow);

  for (let i = 0; i < M; i++) {
    queue.put(i);
    assert.deepEqual(gotten, Array.from({ length: i + 1 }, (_, k) => k));
  }
  assert.equal(queue.waiting.length, 0);
  for (let i = 0; i < N; i++) {
    queue.put(N + i);
    assert.deepEqual(gotten, [0, 1]);
  }
  assert.deepEqual(queue.pending, [2, 3]);
  assert.throws(() => queue.put(99), QueueOverflow);
  assert.deepEqual(queue.pending, [2, 3]);

  gotten = [];
  for (let i = 0; i < N; i++) {
    queue.get().addCallback((x) => gotten.push(x));
    assert.deepEqual(gotten, Array.from({ length: i + 1 }, (_, k) => N + k));
  }
  assert.deepEqual(queue.pending, []);
});

Deno.test("DeferredQueue without limits", async (t) => {
  await t.step("waiters get puts first in, first out", () => {
    const queue = new DeferredQueue<string>();
    assert.equal(queue.size, Infinity);
    assert.equal(queue.backlog, Infinity);
    const gotten: string[] = [];
    for (let i = 0; i < 3; i++) queue.get().addCallback((x) => gotten.push(x));
    for (const item of ["a", "b", "c"]) queue.put(item);
    assert.deepEqual(gotten, ["a", "b", "c"]);
    assert.deepEqual(queue.waiting, []);
    assert.deepEqual(queue.pending, []);
  });

  await t.step("stored items come out first in, first out", () => {
    const queue = new DeferredQueue<string>();
    for (const item of ["a", "b", "c"]) queue.put(item);
    assert.deepEqual(queue.pending, ["a", "b", "c"]);
    assert.equal(successResultOf(queue.get()), "a");
    assert.equal(successResultOf(queue.get()), "b");
    assert.deepEqual(queue.pending, ["c"]);
  });
});

Deno.test("DeferredQueue with size 0 always overflows and backlog 0 always underflows", async (t) => {
  await t.step("size 0", () => {
    const queue = new DeferredQueue<null>(0);
    assert.throws(() => queue.put(null), {
      name: "QueueOverflow",
      message: "Cannot put into a full DeferredQueue of size 0",
    });
    assert.throws(() => queue.put(null), QueueOverflow);
  });
  await t.step("backlog 0", () => {
    const queue = new DeferredQueue<null>(Infinity, 0);
    assert.throws(() => queue.get(), {
      name: "QueueUnderflow",
      message: "Cannot wait on a DeferredQueue whose backlog of 0 getters is full",
    });
    queue.put(null); // a stored item can still be taken
    assert.equal(successResultOf(queue.get()), null);
    assert.throws(() => queue.get(), QueueUnderflow);
  });
});

Deno.test("new DeferredQueue() rejects a bad size or backlog", async (t) => {
  for (const value of [-1, NaN, 1.5, -Infinity]) {
    await t.step(`size ${value}`, () => {
      assert.throws(() => new DeferredQueue(value), {
        name: "RangeError",
        message:
          `DeferredQueue size must be a whole number of at least 0 or Infinity, got ${value}`,
      });
    });
    await t.step(`backlog ${value}`, () => {
      assert.throws(() => new DeferredQueue(1, value), {
        name: "RangeError",
        message:
          `DeferredQueue backlog must be a whole number of at least 0 or Infinity, got ${value}`,
      });
    });
  }
  await t.step("explicit undefined means no limit", () => {
    const queue = new DeferredQueue<number>(undefined, undefined);
    assert.equal(queue.size, Infinity);
    assert.equal(queue.backlog, Infinity);
  });
});

Deno.test("DeferredQueue get() cancellation", async (t) => {
  await t.step("after a synchronous get does nothing", () => {
    const queue = new DeferredQueue<string>();
    const d = queue.get();
    const errors: Failure[] = [];
    d.addErrback((f) => {
      errors.push(f);
    });
    queue.put("x");
    d.cancel();
    assert.deepEqual(errors, []);
    assert.equal(successResultOf(d), "x");
  });

  await t.step("of a waiting get fails it and removes it from waiting", () => {
    const queue = new DeferredQueue<null>();
    const d = queue.get();
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.deepEqual(queue.waiting, []);
    // The queue no longer tries to fire it: the item is stored instead.
    queue.put(null);
    assert.deepEqual(queue.pending, [null]);
    assert.equal(successResultOf(queue.get()), null);
  });

  await t.step("a later put and get in the cancelled get's errback work", () => {
    const queue = new DeferredQueue<null>();
    const d = queue.get();
    d.cancel();
    const done: unknown[] = [];
    d.addErrback((f) => {
      f.trap(CancelledError);
      queue.put(null);
      return queue.get().addCallback((x) => {
        assert.equal(x, null);
        return "chained";
      });
    });
    d.addCallback((x) => done.push(x));
    assert.deepEqual(done, ["chained"]);
  });

  await t.step("of a waiting get lets the next waiter have the item", () => {
    const queue = new DeferredQueue<number>(Infinity, 2);
    const first = queue.get();
    const second = queue.get();
    assert.deepEqual(queue.waiting, [first, second]);
    first.cancel();
    assert.deepEqual(queue.waiting, [second]);
    queue.get(); // the backlog has room again
    queue.put(7);
    assert.equal(successResultOf(second), 7);
    failureResultOf(first, CancelledError);
  });
});

Deno.test("DeferredQueue.put() runs the waiter's callbacks before it returns", () => {
  const queue = new DeferredQueue<number>();
  const events: string[] = [];
  queue.get().addCallback((n) => {
    events.push(`got ${n}`);
  });
  queue.put(1);
  events.push("put returned");
  assert.deepEqual(events, ["got 1", "put returned"]);
});
