import assert from "node:assert/strict";
import {
  CancelledError,
  Deferred,
  execute,
  fail,
  Failure,
  maybeDeferred,
  succeed,
  withSignal,
} from "../../defer/mod.ts";

function resultOf(d: Deferred<unknown>): { value: unknown } | { failure: Failure } | null {
  let seen: { value: unknown } | { failure: Failure } | null = null;
  d.addBoth((r) => {
    seen = r instanceof Failure ? { failure: r } : { value: r };
    return r;
  });
  return seen;
}

function failureOf(d: Deferred<unknown>): Failure {
  let seen: Failure | undefined;
  d.addErrback((f) => {
    seen = f;
  });
  assert.ok(seen !== undefined, `expected ${d} to have failed`);
  return seen;
}

Deno.test("succeed() gives a fired Deferred", () => {
  const value = { v: 1 };
  const d = succeed(value);
  assert.equal(d.called, true);
  assert.equal(d.result, value);
  assert.deepEqual(resultOf(d), { value });
});

Deno.test("fail() gives a failed Deferred", async (t) => {
  await t.step("wrapping the reason", () => {
    const error = new RangeError("r");
    const f = failureOf(fail(error));
    assert.equal(f.value, error);
  });

  await t.step("keeping a Failure as it is", () => {
    const failure = new Failure("s");
    assert.equal(failureOf(fail(failure)), failure);
  });
});

Deno.test("maybeDeferred() always gives a Deferred", async (t) => {
  await t.step("a returned value becomes a fired Deferred", () => {
    // test_maybeDeferredSync
    const d = maybeDeferred(() => 5);
    assert.deepEqual(resultOf(d), { value: 5 });
  });

  await t.step("arguments are passed", () => {
    // test_maybeDeferredSyncWithArgs
    const d = maybeDeferred((a: number, b: string) => `${a}${b}`, 1, "x");
    assert.deepEqual(resultOf(d), { value: "1x" });
  });

  await t.step("a thrown error becomes a failed Deferred", () => {
    // test_maybeDeferredSyncException
    const error = new TypeError("thrown");
    const d = maybeDeferred(() => {
      throw error;
    });
    assert.equal(failureOf(d).value, error);
  });

  await t.step("a returned Failure becomes a failed Deferred with the same Failure", () => {
    // test_maybeDeferredSyncFailure
    const failure = new Failure(new Error("returned"));
    const d = maybeDeferred(() => failure);
    assert.equal(failureOf(d), failure);
  });

  await t.step("a returned Deferred is passed through", () => {
    // test_maybeDeferredAsync
    const inner = new Deferred<string>();
    const d = maybeDeferred(() => inner);
    assert.equal(d, inner);
  });

  await t.step("a returned Promise is followed", async () => {
    // test_maybeDeferredCoroutineSuccess
    const promise = Promise.resolve("promised");
    const d = maybeDeferred(() => promise);
    assert.equal(resultOf(d), null);
    await promise;
    assert.deepEqual(resultOf(d), { value: "promised" });
  });

  await t.step("an async function's rejection is followed", async () => {
    // test_maybeDeferredCoroutineFailure
    const error = new Error("async failure");
    // deno-lint-ignore require-await
    const d = maybeDeferred(async () => {
      throw error;
    });
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(failureOf(d).value, error);
  });

  await t.step("a returned generator is a plain value", () => {
    const gen = (function* () {
      yield 1;
    })();
    const d = maybeDeferred(() => gen);
    assert.deepEqual(resultOf(d), { value: gen });
  });
});

Deno.test("execute() calls the function and wraps the outcome", async (t) => {
  await t.step("a value, with arguments", () => {
    assert.deepEqual(resultOf(execute(Math.max, 3, 9)), { value: 9 });
  });

  await t.step("a thrown error", () => {
    const error = new Error("execute failed");
    const d = execute(() => {
      throw error;
    });
    assert.equal(failureOf(d).value, error);
  });

  await t.step("a returned Deferred is itself the result", () => {
    const inner = new Deferred<number>();
    const d = execute(() => inner);
    assert.notEqual(d, inner);
    assert.deepEqual(resultOf(d), { value: inner });
    assert.equal(inner.called, false);
  });
});

Deno.test("withSignal() cancels the Deferred when the signal aborts", async (t) => {
  await t.step("an abort after the call", () => {
    const controller = new AbortController();
    let cancelled = 0;
    const d = new Deferred<string>(() => cancelled++);
    assert.equal(withSignal(d, controller.signal), d);
    assert.equal(cancelled, 0);
    assert.equal(resultOf(d), null);
    controller.abort();
    assert.equal(cancelled, 1);
    assert.ok(failureOf(d).value instanceof CancelledError);
  });

  await t.step("a signal aborted before the call cancels at once", () => {
    const controller = new AbortController();
    controller.abort();
    let cancelled = 0;
    const d = withSignal(new Deferred<string>(() => cancelled++), controller.signal);
    assert.equal(cancelled, 1);
    assert.ok(failureOf(d).value instanceof CancelledError);
  });

  await t.step("an abort after the result does nothing", () => {
    const controller = new AbortController();
    let cancelled = 0;
    const d = withSignal(new Deferred<string>(() => cancelled++), controller.signal);
    d.callback("done");
    controller.abort();
    assert.equal(cancelled, 0);
    assert.deepEqual(resultOf(d), { value: "done" });
  });

  await t.step("the listener is removed once the result arrives", () => {
    const listeners = new Set<unknown>();
    const signal = {
      aborted: false,
      addEventListener: (_type: string, fn: unknown) => listeners.add(fn),
      removeEventListener: (_type: string, fn: unknown) => listeners.delete(fn),
    } as unknown as AbortSignal;
    const d = withSignal(new Deferred<string>(), signal);
    assert.equal(listeners.size, 1);
    d.callback("done");
    assert.equal(listeners.size, 0);
  });

  await t.step("the result passes through unchanged", () => {
    const controller = new AbortController();
    const error = new Error("kept");
    const d = withSignal(new Deferred<string>(), controller.signal);
    d.errback(error);
    assert.equal(failureOf(d).value, error);
  });
});
