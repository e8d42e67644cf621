import assert from "node:assert/strict";
import {
  CancelledError,
  Deferred,
  ensureDeferred,
  fail,
  Failure,
  inlineCallbacks,
  NotACoroutineError,
  succeed,
} from "../../defer/mod.ts";

// ---------------------------------------------------------------------------
// Helpers

type Outcome = { ok: true; value: unknown } | { ok: false; failure: Failure } | null;

/** What `d` holds right now (`null`: no result yet), without consuming it. */
function outcome(d: Deferred<unknown>): Outcome {
  let seen: Outcome = null;
  d.addBoth((r) => {
    seen = r instanceof Failure ? { ok: false, failure: r } : { ok: true, value: r };
    return r;
  });
  return seen;
}

function successOf(d: Deferred<unknown>): unknown {
  const o = outcome(d);
  if (o === null) assert.fail(`expected a result from ${d}`);
  if (!o.ok) assert.fail(`expected a success, got ${o.failure}`);
  return o.value;
}

/** The failure of `d`, now handled. */
function failureOf(d: Deferred<unknown>): Failure {
  let seen: Failure | undefined;
  d.addErrback((f) => {
    seen = f;
  });
  assert.ok(seen !== undefined, `expected ${d} to have failed`);
  return seen;
}

function assertNoResult(d: Deferred<unknown>): void {
  assert.equal(outcome(d), null, `expected ${d} to have no result`);
}

class UntranslatedError extends Error {}
class TranslatedError extends Error {}
class DontFail extends Error {
  constructor(readonly actualValue: number) {
    super(`DontFail(${actualValue})`);
  }
}

// ---------------------------------------------------------------------------
// Basics

Deno.test("inlineCallbacks() sends results back into the generator", async (t) => {
  await t.step("from fired and later-fired Deferreds", () => {
    const later = new Deferred<string>();
    const seen: unknown[] = [];
    const f = inlineCallbacks(function* () {
      const a = yield succeed(1);
      seen.push(a);
      const b = yield later;
      seen.push(b);
      return [a, b];
    });
    const d = f();
    assert.deepEqual(seen, [1]);
    assertNoResult(d);
    later.callback("two");
    assert.deepEqual(seen, [1, "two"]);
    assert.deepEqual(successOf(d), [1, "two"]);
  });

  await t.step("yield* gives a typed result", () => {
    const f = inlineCallbacks(function* () {
      const n: number = yield* succeed(20);
      const s: string = yield* succeed("!");
      return `${n + 1}${s}`;
    });
    assert.equal(successOf(f()), "21!");
  });

  await t.step("resumes synchronously inside callback()", () => {
    const gate = new Deferred<number>();
    const order: string[] = [];
    inlineCallbacks(function* () {
      order.push("before");
      yield gate;
      order.push("resumed");
    })();
    order.push("callback() called");
    gate.callback(1);
    order.push("callback() returned");
    assert.deepEqual(order, ["before", "callback() called", "resumed", "callback() returned"]);
  });

  await t.step("plain values come straight back", () => {
    // testYieldNonDeferred
    const seen: unknown[] = [];
    const obj = { a: 1 };
    const f = inlineCallbacks(function* () {
      seen.push(yield 5);
      seen.push(yield obj);
      seen.push(yield undefined);
      seen.push(yield null);
      return "done";
    });
    assert.equal(successOf(f()), "done");
    assert.deepEqual(seen, [5, obj, undefined, null]);
    assert.equal(seen[1], obj);
  });

  await t.step("a yielded Failure is thrown in, as Twisted does", () => {
    // Twisted 22.4 throws a yielded Failure's exception into the generator.
    const boom = new RangeError("boom");
    let caught: unknown;
    const f = inlineCallbacks(function* () {
      try {
        yield new Failure(boom);
        return "not thrown";
      } catch (error) {
        caught = error;
        return "caught";
      }
    });
    assert.equal(successOf(f()), "caught");
    assert.equal(caught, boom);
  });

  await t.step("an uncaught yielded Failure fails the result", () => {
    const boom = new TypeError("uncaught");
    const d = inlineCallbacks(function* () {
      yield new Failure(boom);
    })();
    assert.equal(failureOf(d).value, boom);
  });

  await t.step("a generator with no yields gives undefined at once", () => {
    // testNothing
    const f = inlineCallbacks(function* () {});
    const d = f();
    assert.equal(d.called, true);
    assert.equal(successOf(d), undefined);
  });

  await t.step("the return value is the result", () => {
    // test_returnWithValue
    const d1 = new Deferred<null>();
    const f = inlineCallbacks(function* (d: Deferred<null>) {
      yield d;
      return 14;
    });
    const d2 = f(d1);
    d1.callback(null);
    assert.equal(successOf(d2), 14);
  });

  await t.step("a yielded Deferred's result is taken from it", () => {
    const fired = succeed("taken");
    const later = new Deferred<string>();
    inlineCallbacks(function* () {
      yield fired;
      yield later;
    })();
    later.callback("also taken");
    assert.equal(fired.result, undefined);
    assert.equal(later.result, undefined);
  });
});

Deno.test("inlineCallbacks() passes arguments and this through", () => {
  class Counter {
    count = 10;
    add = inlineCallbacks(function* (this: Counter, n: number, m: number) {
      const x: number = yield* succeed(n);
      this.count += x + m;
      return this.count;
    });
  }
  const c = new Counter();
  assert.equal(successOf(c.add(1, 2)), 13);
  assert.equal(c.count, 13);
  const bound = inlineCallbacks(function* (this: { name: string }) {
    yield 0;
    return this.name;
  });
  assert.equal(successOf(bound.call({ name: "obj" })), "obj");
});

Deno.test("inlineCallbacks() throws failures into the generator at the yield", async (t) => {
  await t.step("a fired failure, caught", () => {
    // testHandledTerminalFailure
    const error = new RangeError("handled");
    const f = inlineCallbacks(function* () {
      try {
        yield fail(error);
      } catch (e) {
        return e;
      }
      return "not thrown";
    });
    assert.equal(successOf(f()), error);
  });

  await t.step("a later failure, caught", () => {
    // testHandledTerminalAsyncFailure
    const d = new Deferred<string>();
    const error = { not: "an Error" };
    const f = inlineCallbacks(function* () {
      try {
        yield d;
      } catch (e) {
        return e;
      }
    });
    const result = f();
    assertNoResult(result);
    d.errback(error);
    assert.equal(successOf(result), error);
  });

  await t.step("yield* throws too", () => {
    const error = new Error("yield* failure");
    const f = inlineCallbacks(function* () {
      try {
        yield* fail<number>(error);
      } catch (e) {
        return e;
      }
    });
    assert.equal(successOf(f()), error);
  });

  await t.step("uncaught, it fails the result with the same value", () => {
    // testProducesException
    const error = new TypeError("uncaught");
    const f = inlineCallbacks(function* () {
      yield fail(error);
    });
    assert.equal(failureOf(f()).value, error);
  });

  await t.step("an exception thrown by the generator fails the result", () => {
    const error = new Error("thrown");
    const f = inlineCallbacks(function* () {
      yield 1;
      throw error;
    });
    assert.equal(failureOf(f()).value, error);
  });

  await t.step("a thrown Failure is used as it is", () => {
    const failure = new Failure("as a failure");
    const f = inlineCallbacks(function* () {
      yield 1;
      throw failure;
    });
    assert.equal(failureOf(f()), failure);
  });
});

Deno.test("inlineCallbacks() waits on yielded PromiseLikes", async (t) => {
  await t.step("a resolution", async () => {
    let resolve!: (s: string) => void;
    const promise = new Promise<string>((r) => (resolve = r));
    const f = inlineCallbacks(function* () {
      const s = yield promise;
      return `got ${s}`;
    });
    const d = f();
    assertNoResult(d);
    resolve("it");
    await promise;
    assert.equal(successOf(d), "got it");
  });

  await t.step("a rejection, thrown at the yield", async () => {
    const reason = new Error("rejected");
    const promise = Promise.reject(reason);
    const f = inlineCallbacks(function* () {
      try {
        yield promise;
      } catch (e) {
        return e;
      }
    });
    const d = f();
    await promise.catch(() => {});
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(successOf(d), reason);
  });
});

Deno.test("inlineCallbacks() throws a thenable's own error back at the yield", () => {
  const hostile = {
    then(): never {
      throw new RangeError("then() threw");
    },
  };
  const f = inlineCallbacks(function* () {
    try {
      yield hostile;
    } catch (e) {
      return e;
    }
  });
  assert.ok(successOf(f()) instanceof RangeError);
  const g = inlineCallbacks(function* () {
    yield 1;
    return hostile;
  });
  assert.ok(failureOf(g()).value instanceof RangeError);
});

Deno.test("inlineCallbacks() adopts a returned Deferred or PromiseLike", async (t) => {
  await t.step("an unfired Deferred", () => {
    const inner = new Deferred<string>();
    const f = inlineCallbacks(function* () {
      yield 1;
      return inner;
    });
    const d = f();
    assertNoResult(d);
    inner.callback("adopted");
    assert.equal(successOf(d), "adopted");
  });

  await t.step("a fired one", () => {
    // deno-lint-ignore require-yield
    const f = inlineCallbacks(function* () {
      return succeed("already");
    });
    assert.equal(successOf(f()), "already");
  });

  await t.step("a failed one", () => {
    const error = new Error("adopted failure");
    // deno-lint-ignore require-yield
    const f = inlineCallbacks(function* () {
      return fail(error);
    });
    assert.equal(failureOf(f()).value, error);
  });

  await t.step("cancelling the result cancels the adopted Deferred", () => {
    let cancelled = 0;
    const inner = new Deferred<string>(() => cancelled++);
    // deno-lint-ignore require-yield
    const f = inlineCallbacks(function* () {
      return inner;
    });
    const d = f();
    d.cancel();
    assert.equal(cancelled, 1);
    assert.ok(failureOf(d).value instanceof CancelledError);
  });

  await t.step("a Promise", async () => {
    const promise = Promise.resolve("from promise");
    // deno-lint-ignore require-yield
    const f = inlineCallbacks(function* () {
      return promise;
    });
    const d = f();
    assertNoResult(d);
    await promise;
    assert.equal(successOf(d), "from promise");
  });
});

Deno.test("inlineCallbacks() rejects what is not a generator function", async (t) => {
  await t.step("an async function", () => {
    assert.throws(
      () =>
        inlineCallbacks(
          // deno-lint-ignore require-await
          (async function fetchIt() {
            return 1;
          }) as never,
        ),
      (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /inlineCallbacks/);
        assert.match(e.message, /async function/);
        assert.match(e.message, /fetchIt/);
        return true;
      },
    );
  });

  await t.step("an async generator function", () => {
    assert.throws(
      () =>
        inlineCallbacks(
          (async function* gen() {
            yield 1;
          }) as never,
        ),
      (e: unknown) => e instanceof TypeError && /inlineCallbacks/.test(e.message),
    );
  });

  await t.step("not a function", () => {
    assert.throws(
      () => inlineCallbacks(42 as never),
      (e: unknown) => e instanceof TypeError && /inlineCallbacks/.test(e.message),
    );
  });

  await t.step("a function that returns a non-generator, when called", () => {
    // test_nonGeneratorReturn
    const wrapped = inlineCallbacks(function plain() {
      return 3;
    } as never);
    assert.throws(
      () => wrapped(),
      (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /inlineCallbacks/);
        assert.match(e.message, /plain/);
        return true;
      },
    );
  });

  await t.step("a plain function returning a generator is accepted", () => {
    function* gen() {
      return yield* succeed("ok");
    }
    const wrapped = inlineCallbacks(function () {
      return gen();
    });
    assert.equal(successOf(wrapped()), "ok");
  });
});

// ---------------------------------------------------------------------------
// Nesting

Deno.test("inlineCallbacks() nests: enter 3, 2, 1; exit 1, 2, 3", async (t) => {
  // test_nonCalledDeferredSingleYield, test_intermediateAddCallbacks
  await t.step("generators all the way", () => {
    const gate = new Deferred<number>();
    const events: string[] = [];
    const f1 = inlineCallbacks(function* () {
      events.push("enter 1");
      const v: number = yield* gate;
      events.push("exit 1");
      return v + 1;
    });
    const f2 = inlineCallbacks(function* () {
      events.push("enter 2");
      const v: number = yield* f1();
      events.push("exit 2");
      return v + 1;
    });
    const f3 = inlineCallbacks(function* () {
      events.push("enter 3");
      const v: number = yield* f2();
      events.push("exit 3");
      return v + 1;
    });
    const d = f3();
    assert.deepEqual(events, ["enter 3", "enter 2", "enter 1"]);
    assertNoResult(d);
    gate.callback(5);
    assert.deepEqual(events, ["enter 3", "enter 2", "enter 1", "exit 1", "exit 2", "exit 3"]);
    assert.equal(successOf(d), 8);
  });

  await t.step("with an async function in the middle", async () => {
    const gate = new Deferred<number>();
    const events: string[] = [];
    const f1 = inlineCallbacks(function* () {
      events.push("enter 1");
      const v: number = yield* gate;
      events.push("exit 1");
      return v + 1;
    });
    const f2 = async () => {
      events.push("enter 2");
      const v = await f1();
      events.push("exit 2");
      return v + 1;
    };
    const f3 = inlineCallbacks(function* () {
      events.push("enter 3");
      const v = (yield f2()) as number;
      events.push("exit 3");
      return v + 1;
    });
    const d = f3();
    assert.deepEqual(events, ["enter 3", "enter 2", "enter 1"]);
    gate.callback(5);
    const value = await d;
    assert.deepEqual(events, ["enter 3", "enter 2", "enter 1", "exit 1", "exit 2", "exit 3"]);
    assert.equal(value, 8);
  });

  await t.step("an inner failure can be caught by the outer", () => {
    // test_raisesExceptionFromDeferredWith*
    const gate = new Deferred<number>();
    const error = new RangeError("inner");
    const inner = inlineCallbacks(function* () {
      yield gate;
      throw error;
    });
    const outer = inlineCallbacks(function* () {
      try {
        yield inner();
      } catch (e) {
        return ["caught", e];
      }
    });
    const d = outer();
    gate.callback(0);
    assert.deepEqual(successOf(d), ["caught", error]);
  });

  await t.step("a few hundred levels deep", () => {
    const gate = new Deferred<number>();
    const depthOf: (n: number) => Deferred<number> = inlineCallbacks(
      function* (n: number): Generator<unknown, number, unknown> {
        if (n === 0) return yield* gate;
        return (yield* depthOf(n - 1)) + 1;
      },
    );
    const d = depthOf(300);
    gate.callback(0);
    assert.equal(successOf(d), 300);
  });
});

// ---------------------------------------------------------------------------
// Scale

const N = 100_000;

Deno.test("inlineCallbacks() runs 100,000 synchronous yields without stack growth", async (t) => {
  // testStackUsage, testStackUsage2
  await t.step("yield of fired Deferreds", () => {
    const f = inlineCallbacks(function* () {
      let sum = 0;
      for (let i = 0; i < N; i++) sum += (yield succeed(1)) as number;
      return sum;
    });
    assert.equal(successOf(f()), N);
  });

  await t.step("yield* of fired Deferreds", () => {
    const f = inlineCallbacks(function* () {
      let sum = 0;
      for (let i = 0; i < N; i++) sum += yield* succeed(1);
      return sum;
    });
    assert.equal(successOf(f()), N);
  });

  await t.step("yield of plain values", () => {
    const f = inlineCallbacks(function* () {
      let sum = 0;
      for (let i = 0; i < N; i++) sum += (yield 1) as number;
      return sum;
    });
    assert.equal(successOf(f()), N);
  });

  await t.step("yield of failed Deferreds, each caught", () => {
    const f = inlineCallbacks(function* () {
      let caught = 0;
      for (let i = 0; i < N; i++) {
        try {
          yield fail(new Error("x"));
        } catch {
          caught++;
        }
      }
      return caught;
    });
    assert.equal(successOf(f()), N);
  });

  await t.step("then an asynchronous resume", () => {
    const gate = new Deferred<number>();
    const f = inlineCallbacks(function* () {
      let sum = 0;
      for (let i = 0; i < N; i++) sum += yield* succeed(1);
      sum += yield* gate;
      for (let i = 0; i < N; i++) sum += yield* succeed(1);
      return sum;
    });
    const d = f();
    assertNoResult(d);
    gate.callback(1);
    assert.equal(successOf(d), 2 * N + 1);
  });
});

// ---------------------------------------------------------------------------
// Cancellation (test_inlinecb.py CancellationTests)

class Harness {
  outstanding: Deferred<unknown>[] = [];

  getDeferred = (): Deferred<unknown> => {
    const d = new Deferred<unknown>();
    this.outstanding.push(d);
    return d;
  };

  sampleInlineCB = inlineCallbacks(
    function* (
      this: Harness,
      getChildDeferred?: () => Deferred<unknown>,
    ): Generator<unknown, number, unknown> {
      const get = getChildDeferred ?? this.getDeferred;
      let x: number;
      try {
        x = (yield get()) as number;
      } catch (e) {
        if (e instanceof UntranslatedError) throw new TranslatedError();
        if (e instanceof DontFail) x = e.actualValue - 2;
        else throw e;
      }
      return x + 1;
    },
  );
}

Deno.test("inlineCallbacks() result cancels the Deferred the generator waits on", async (t) => {
  await t.step("the awaited Deferred is cancelled at once", () => {
    // test_cascadeCancellingOnCancel
    const h = new Harness();
    let childResult: unknown = "FAILURE";
    const d = h.sampleInlineCB(() => {
      const child = new Deferred<unknown>();
      child.addErrback((f) => {
        childResult = f.check(CancelledError);
        return f;
      });
      return child;
    });
    d.addErrback(() => null);
    d.cancel();
    assert.equal(childResult, CancelledError);
  });

  await t.step("the CancelledError reaches the result when not caught", () => {
    // test_errbackCancelledErrorOnCancel
    const h = new Harness();
    const d = h.sampleInlineCB();
    d.cancel();
    assert.ok(failureOf(d).value instanceof CancelledError);
  });

  await t.step("through a stacked inlineCallbacks", () => {
    const cancelled: string[] = [];
    const leaf = new Deferred<number>(() => cancelled.push("leaf"));
    const inner = inlineCallbacks(function* () {
      return (yield leaf) as number;
    });
    const outer = inlineCallbacks(function* () {
      return (yield inner()) as number;
    });
    const d = outer();
    d.cancel();
    assert.deepEqual(cancelled, ["leaf"]);
    assert.ok(failureOf(d).value instanceof CancelledError);
  });

  await t.step("through a yielded Promise (the late answer is ignored)", async () => {
    let resolve!: (n: number) => void;
    const promise = new Promise<number>((r) => (resolve = r));
    const f = inlineCallbacks(function* () {
      return (yield promise) as number;
    });
    const d = f();
    d.cancel();
    assert.ok(failureOf(d).value instanceof CancelledError);
    resolve(1);
    await promise;
  });

  await t.step("finally blocks run on cancel", () => {
    const events: string[] = [];
    const f = inlineCallbacks(function* () {
      try {
        events.push("start");
        yield new Deferred();
        events.push("not reached");
      } finally {
        events.push("cleanup");
      }
    });
    const d = f();
    d.cancel();
    assert.deepEqual(events, ["start", "cleanup"]);
    assert.ok(failureOf(d).value instanceof CancelledError);
  });

  await t.step("the generator can translate the error into another error", () => {
    // test_errorToErrorTranslation
    const h = new Harness();
    const a = new Deferred<unknown>((it) => it.errback(new UntranslatedError()));
    const d = h.sampleInlineCB(() => a);
    d.cancel();
    assert.ok(failureOf(d).value instanceof TranslatedError);
  });

  await t.step("the generator can translate the error into a value", () => {
    // test_errorToSuccessTranslation
    const h = new Harness();
    const a = new Deferred<unknown>((it) => it.errback(new DontFail(4321)));
    const d = h.sampleInlineCB(() => a);
    const results: unknown[] = [];
    d.addCallback((r) => {
      results.push(r);
    });
    d.cancel();
    assert.deepEqual(results, [4320]);
  });

  await t.step("a canceller that calls back resumes the generator with its value", () => {
    const h = new Harness();
    const a = new Deferred<unknown>((it) => it.callback(99));
    const d = h.sampleInlineCB(() => a);
    d.cancel();
    assert.equal(successOf(d), 100);
  });

  await t.step("the result waits until the awaited chain delivers", () => {
    // test_asynchronousCancellation
    const h = new Harness();
    const moreDeferred = new Deferred<number>();
    const d = h.sampleInlineCB(() => {
      const child = new Deferred<unknown>();
      child.addErrback((f) => {
        f.trap(CancelledError);
        return moreDeferred;
      });
      return child;
    });
    d.cancel();
    assertNoResult(d);
    moreDeferred.callback(6543);
    assert.equal(successOf(d), 6544);
  });

  await t.step(
    "a caught CancelledError leaves the result unfired; cancelling again fails it",
    () => {
      // test_inlineCallbacksCancelCaptured
      const canceller1Calls: Deferred<unknown>[] = [];
      const canceller2Calls: Deferred<unknown>[] = [];
      const d1 = new Deferred<unknown>((d) => canceller1Calls.push(d));
      const d2 = new Deferred<unknown>((d) => canceller2Calls.push(d));
      const f = inlineCallbacks(function* () {
        try {
          yield d1;
        } catch {
          // carry on
        }
        yield d2;
      });
      const funcD = f();
      assertNoResult(d1);
      assertNoResult(d2);
      assertNoResult(funcD);
      assert.deepEqual(canceller1Calls, []);

      funcD.cancel();
      assert.deepEqual(canceller1Calls, [d1]);
      assert.deepEqual(canceller2Calls, []);
      assertNoResult(funcD);

      funcD.cancel();
      assert.deepEqual(canceller2Calls, [d2]);
      assert.ok(failureOf(funcD).value instanceof CancelledError);
    },
  );

  await t.step("a generator that carries on after a caught cancel can still succeed", () => {
    const d1 = new Deferred<unknown>();
    const d2 = new Deferred<string>();
    const f = inlineCallbacks(function* () {
      try {
        yield d1;
      } catch (e) {
        assert.ok(e instanceof CancelledError);
      }
      return yield* d2;
    });
    const funcD = f();
    funcD.cancel();
    assertNoResult(funcD);
    d2.callback("finished anyway");
    assert.equal(successOf(funcD), "finished anyway");
  });

  await t.step("cancelled while running, it fails with CancelledError", () => {
    const gate = new Deferred<null>();
    const own: { d?: Deferred<string> } = {};
    const events: string[] = [];
    const f = inlineCallbacks(function* () {
      yield gate;
      own.d!.cancel();
      events.push("carried on");
      return "finished";
    });
    const self = own.d = f();
    gate.callback(null);
    assert.deepEqual(events, ["carried on"]);
    assert.ok(failureOf(self).value instanceof CancelledError);
  });

  await t.step("after it finished, cancel() does nothing", () => {
    const f = inlineCallbacks(function* () {
      return yield* succeed(1);
    });
    const d = f();
    d.cancel();
    assert.equal(successOf(d), 1);
  });
});

// ---------------------------------------------------------------------------
// ensureDeferred

Deno.test("ensureDeferred() turns what it is given into a Deferred", async (t) => {
  await t.step("a Deferred: the same one", () => {
    // EnsureDeferredTests.test_passesThroughDeferreds
    const d = new Deferred<number>();
    assert.equal(ensureDeferred(d), d);
  });

  await t.step("a Promise", async () => {
    const promise = Promise.resolve("promised");
    const d = ensureDeferred(promise);
    assert.ok(d instanceof Deferred);
    await promise;
    assert.equal(successOf(d), "promised");
  });

  await t.step("a generator, run like inlineCallbacks", () => {
    const gate = new Deferred<number>();
    function* inner() {
      return (yield* gate) * 2;
    }
    function* outer() {
      // Delegating with yield* works as Python's `yield from`.
      const x: number = yield* inner();
      return x + 1;
    }
    const d = ensureDeferred(outer());
    assertNoResult(d);
    gate.callback(10);
    assert.equal(successOf(d), 21);
  });

  await t.step("a failing generator", () => {
    const error = new Error("generator failed");
    const d = ensureDeferred((function* () {
      yield 1;
      throw error;
    })());
    assert.equal(failureOf(d).value, error);
  });

  await t.step("anything else: NotACoroutineError, a TypeError", () => {
    // test_ensureDeferredRequiresCoroutine
    for (const bad of ["something", 5, null, undefined, {}, () => {}]) {
      assert.throws(() => ensureDeferred(bad as never), (e: unknown) => {
        assert.ok(e instanceof NotACoroutineError);
        assert.ok(e instanceof TypeError);
        assert.equal(e.name, "NotACoroutineError");
        assert.match(e.message, /ensureDeferred/);
        return true;
      });
    }
  });
});
