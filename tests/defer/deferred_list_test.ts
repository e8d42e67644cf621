import assert from "node:assert/strict";
import { assertNoResult, failureResultOf, successResultOf } from "../../testing/mod.ts";
import {
  CancelledError,
  Deferred,
  DeferredList,
  fail,
  Failure,
  FirstError,
  gatherResults,
  setUnhandledErrorHandler,
  succeed,
} from "@torsion/torsion/defer";

// A canceller that gives the Deferred a result instead of failing it.
function callbackCanceller(d: Deferred<string>): void {
  d.callback("Callback Result");
}

const gc = (globalThis as { gc?: () => void }).gc;

async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("DeferredList fires with results in input order", () => {
  const a = new Deferred<string>();
  const b = new Deferred<string>();
  const c = new Deferred<string>();
  const dl = new DeferredList([a, b, c]);
  c.callback("c");
  a.callback("a");
  assertNoResult(dl);
  b.callback("b");
  assert.deepEqual(successResultOf(dl), [[true, "a"], [true, "b"], [true, "c"]]);
});

Deno.test("DeferredList records a failed input as [false, failure]", () => {
  const d1 = new Deferred<string>();
  const d2 = new Deferred<string>();
  const d3 = new Deferred<string>();
  const dl = new DeferredList([d1, d2, d3]);
  const seen: unknown[] = [];
  dl.addCallbacks((list) => seen.push(list), (f) => seen.push(f));
  d1.callback("1");
  d2.addErrback(() => null); // downstream of the list: eats the error
  const error = new RangeError("2");
  d2.errback(error);
  d3.callback("3");
  assert.equal(seen.length, 1);
  const list = seen[0] as Array<[boolean, string | Failure]>;
  assert.deepEqual(list[0], [true, "1"]);
  assert.equal(list[1][0], false);
  assert.ok(list[1][1] instanceof Failure);
  assert.equal(list[1][1].value, error);
  assert.deepEqual(list[2], [true, "3"]);
});

Deno.test("DeferredList takes any iterable and copies it", () => {
  function* inputs(): Generator<Deferred<number>> {
    yield succeed(1);
    yield succeed(2);
  }
  assert.deepEqual(successResultOf(new DeferredList(inputs())), [[true, 1], [true, 2]]);
  assert.deepEqual(successResultOf(new DeferredList(new Set([succeed(3)]))), [[true, 3]]);
});

Deno.test("DeferredList and gatherResults() take inputs of different types", () => {
  const a = succeed(1);
  const b = succeed("two");
  assert.deepEqual(successResultOf(new DeferredList<number | string>([a, b])), [
    [true, 1],
    [true, "two"],
  ]);
  const gathered: Deferred<Array<number | string>> = gatherResults<number | string>([
    succeed(3),
    succeed("four"),
  ]);
  assert.deepEqual(successResultOf(gathered), [3, "four"]);
});

Deno.test("DeferredList of no Deferreds", async (t) => {
  await t.step("fires at once with []", () => {
    assert.deepEqual(successResultOf(new DeferredList<number>([])), []);
  });
  await t.step("never fires with fireOnOneCallback, even when cancelled", () => {
    const dl = new DeferredList<number>([], { fireOnOneCallback: true });
    assertNoResult(dl);
    dl.cancel();
    assertNoResult(dl);
  });
  await t.step("fires at once with [] with fireOnOneErrback", () => {
    assert.deepEqual(successResultOf(new DeferredList<number>([], { fireOnOneErrback: true })), []);
  });
});

Deno.test("DeferredList with fireOnOneCallback", async (t) => {
  await t.step("fires with [result, index] of the first success", () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const c = new Deferred<string>();
    const dl = new DeferredList([a, b, c], { fireOnOneCallback: true });
    a.errback(new Error("a failed"));
    a.addErrback(() => null);
    assertNoResult(dl);
    c.callback("c");
    assert.deepEqual(successResultOf(dl), ["c", 2]);
    b.callback("b"); // too late: nothing changes, nothing is thrown
    assert.equal(successResultOf(b), "b");
  });

  await t.step("fires with the full list when every input fails", () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const dl = new DeferredList([a, b], { fireOnOneCallback: true, consumeErrors: true });
    const ea = new Error("a");
    const eb = new Error("b");
    b.errback(eb);
    assertNoResult(dl);
    a.errback(ea);
    const list = successResultOf(dl);
    assert.equal(list.length, 2);
    assert.equal(list[0][0], false);
    assert.equal((list[0][1] as Failure).value, ea);
    assert.equal(list[1][0], false);
    assert.equal((list[1][1] as Failure).value, eb);
  });

  await t.step("fires during construction for an input that already succeeded", () => {
    const pending = new Deferred<number>();
    const dl = new DeferredList([pending, succeed(7)], { fireOnOneCallback: true });
    assert.deepEqual(successResultOf(dl), [7, 1]);
    assertNoResult(pending);
  });

  await t.step("is typed by DeferredList.fireOnOneCallback()", () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const typed: Deferred<[string, number]> = DeferredList.fireOnOneCallback([a, b], {
      fireOnOneErrback: true,
    });
    assert.ok(typed instanceof DeferredList);
    b.callback("b");
    const [value, index] = successResultOf(typed);
    assert.equal(value, "b");
    assert.equal(index, 1);
  });

  await t.step(
    "DeferredList.fireOnOneCallback() without fireOnOneErrback can give the list",
    () => {
      const d = DeferredList.fireOnOneCallback([fail<number>(new Error("x"))], {
        consumeErrors: true,
      });
      const result = successResultOf(d);
      assert.ok(Array.isArray(result[0]));
      assert.equal(result.length, 1);
      assert.equal((result as Array<[boolean, number | Failure]>)[0][0], false);
    },
  );
});

Deno.test("DeferredList with fireOnOneErrback fails with FirstError", async (t) => {
  await t.step("at the first failure, naming its index", () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const d3 = new Deferred<string>();
    const dl = new DeferredList([d1, d2, d3], { fireOnOneErrback: true });
    d2.addErrback(() => null);
    d1.callback("1");
    assertNoResult(dl);
    const error = new TypeError("from d2");
    d2.errback(error);
    const failure = failureResultOf(dl, FirstError);
    const first = failure.value as FirstError;
    assert.equal(first.index, 1);
    assert.equal(first.subFailure.value, error);
    assert.equal(first.subFailure.type, TypeError);
    d3.errback(new Error("later")); // after the list fired: recorded nowhere
    d3.addErrback(() => null);
  });

  await t.step("during construction for an input that already failed", () => {
    const d1 = fail<number>(new Error("Bang"));
    const d2 = new Deferred<number>();
    const dl = new DeferredList([d1, d2], { fireOnOneErrback: true });
    const first = failureResultOf(dl, FirstError).value as FirstError;
    assert.equal(first.index, 0);
    assert.equal(first.subFailure.getErrorMessage(), "Bang");
    d1.addErrback(() => null);
  });

  await t.step("and fires with the list when every input succeeds", () => {
    const dl = new DeferredList([succeed(1), succeed(2)], { fireOnOneErrback: true });
    assert.deepEqual(successResultOf(dl), [[true, 1], [true, 2]]);
  });
});

Deno.test("DeferredList fires during construction when its inputs already fired", () => {
  const d1 = fail<number>(new Error("Bang"));
  const d2 = succeed(2);
  const dl = new DeferredList([d1, d2]);
  assert.equal(dl.called, true);
  const list = successResultOf(dl);
  assert.equal(list[0][0], false);
  assert.equal((list[0][1] as Failure).getErrorMessage(), "Bang");
  assert.deepEqual(list[1], [true, 2]);
  d1.addErrback(() => null);
});

Deno.test("DeferredList passes each input's result on down that input", async (t) => {
  await t.step("a success stays the input's result", () => {
    const d = new Deferred<number>();
    new DeferredList([d]);
    d.callback(5);
    assert.equal(successResultOf(d), 5);
  });

  await t.step("without consumeErrors a later errback sees the failure", () => {
    const d = new Deferred<number>();
    const dl = new DeferredList([d]);
    const trapped: Failure[] = [];
    d.addErrback((f) => {
      trapped.push(f);
    });
    d.errback(new Error("Bang"));
    assert.equal(trapped.length, 1);
    assert.equal(trapped[0].getErrorMessage(), "Bang");
    assert.equal((successResultOf(dl)[0][1] as Failure).getErrorMessage(), "Bang");
  });

  await t.step("with consumeErrors a later errback sees nothing and the list the failure", () => {
    const d = new Deferred<number>();
    const dl = new DeferredList([d], { consumeErrors: true });
    const trapped: Failure[] = [];
    d.addErrback((f) => {
      trapped.push(f);
    });
    d.errback(new Error("Bang"));
    assert.deepEqual(trapped, []);
    assert.equal(successResultOf(d), undefined);
    const list = successResultOf(dl);
    assert.equal(list[0][0], false);
    assert.equal((list[0][1] as Failure).getErrorMessage(), "Bang");
  });

  await t.step("callbacks added before the list change what the list sees", () => {
    const d = new Deferred<number>();
    d.addCallback((n) => n * 10);
    const dl = new DeferredList([d]);
    d.callback(4);
    assert.deepEqual(successResultOf(dl), [[true, 40]]);
  });
});

Deno.test({
  name: "DeferredList consumeErrors keeps input failures from being reported as unhandled",
  ignore: gc === undefined,
  fn: async () => {
    const reports: string[] = [];
    const previous = setUnhandledErrorHandler((message) => reports.push(message));
    try {
      (() => {
        const consumed = new Deferred<number>();
        new DeferredList([consumed], { consumeErrors: true });
        consumed.errback(new Error("dl-consumed-marker"));
        const kept = new Deferred<number>();
        new DeferredList([kept]);
        kept.errback(new Error("dl-kept-marker"));
      })();
      await collectGarbage();
      assert.equal(reports.filter((m) => m.includes("dl-consumed-marker")).length, 0);
      assert.equal(reports.filter((m) => m.includes("dl-kept-marker")).length, 1);
    } finally {
      setUnhandledErrorHandler(previous);
    }
  },
});

Deno.test("DeferredList.cancel() cancels the inputs before the list fires", async (t) => {
  await t.step("every input fails with CancelledError, and the list records it", () => {
    const one = new Deferred<number>();
    const two = new Deferred<number>();
    const dl = new DeferredList([one, two]);
    dl.cancel();
    const list = successResultOf(dl);
    assert.deepEqual(list.map(([ok]) => ok), [false, false]);
    assert.ok((list[0][1] as Failure).value instanceof CancelledError);
    assert.ok((list[1][1] as Failure).value instanceof CancelledError);
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
  });

  await t.step("an input whose canceller succeeds is recorded as a success", () => {
    const one = new Deferred<string>(callbackCanceller);
    const two = new Deferred<string>();
    const dl = new DeferredList([one, two]);
    dl.cancel();
    failureResultOf(two, CancelledError);
    const list = successResultOf(dl);
    assert.deepEqual(list[0], [true, "Callback Result"]);
    assert.equal(list[1][0], false);
    assert.ok((list[1][1] as Failure).check(CancelledError));
  });

  await t.step("with fireOnOneCallback every input is cancelled", () => {
    const one = new Deferred<number>();
    const two = new Deferred<number>();
    const dl = new DeferredList([one, two], { fireOnOneCallback: true });
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    assert.deepEqual(successResultOf(dl).map((pair) => pair[0]), [false, false]);
  });

  await t.step("with fireOnOneCallback a canceller's result fires the list", () => {
    const one = new Deferred<string>(callbackCanceller);
    const two = new Deferred<string>();
    const dl = new DeferredList([one, two], { fireOnOneCallback: true });
    dl.cancel();
    failureResultOf(two, CancelledError);
    assert.deepEqual(successResultOf(dl), ["Callback Result", 0]);
  });

  await t.step("with fireOnOneErrback the list fails with FirstError(CancelledError)", () => {
    const one = new Deferred<number>();
    const two = new Deferred<number>();
    const dl = new DeferredList([one, two], { fireOnOneErrback: true });
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    const first = failureResultOf(dl, FirstError).value as FirstError;
    assert.equal(first.index, 0);
    assert.ok(first.subFailure.check(CancelledError));
  });

  await t.step("with fireOnOneErrback, cancellers that all succeed give the full list", () => {
    const one = new Deferred<string>(callbackCanceller);
    const two = new Deferred<string>(callbackCanceller);
    const dl = new DeferredList([one, two], { fireOnOneErrback: true });
    dl.cancel();
    assert.deepEqual(successResultOf(dl), [[true, "Callback Result"], [true, "Callback Result"]]);
  });

  await t.step("only the original inputs are cancelled", () => {
    const one = new Deferred<number>();
    const two = new Deferred<number>();
    const inputs = [one, two];
    const dl = new DeferredList(inputs);
    const three = new Deferred<number>();
    inputs.push(three);
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    assertNoResult(three);
    assert.equal(successResultOf(dl).length, 2);
  });

  await t.step("a canceller that throws is reported and the others are still cancelled", () => {
    const reports: Array<[string, Failure]> = [];
    const previous = setUnhandledErrorHandler((message, failure) =>
      reports.push([message, failure])
    );
    try {
      const error = new RangeError("canceller broke");
      const one = new Deferred<number>(() => {
        throw error;
      });
      const two = new Deferred<number>();
      const dl = new DeferredList([one, two]);
      dl.cancel(); // does not throw
      failureResultOf(two, CancelledError);
      assertNoResult(one);
      assertNoResult(dl);
      assert.equal(reports.length, 1);
      assert.equal(reports[0][1].value, error);
      assert.match(reports[0][0], /^Unhandled error in Deferred:/);
      assert.match(reports[0][0], /canceller of input 0 threw during DeferredList\.cancel\(\)/);
      assert.match(reports[0][0], /canceller broke/);
    } finally {
      setUnhandledErrorHandler(previous);
    }
  });
});

Deno.test("DeferredList.cancel() does nothing to the inputs once the list fired", async (t) => {
  await t.step("fired by fireOnOneCallback", () => {
    const one = new Deferred<number>();
    const two = new Deferred<number>();
    const dl = new DeferredList([one, two], { fireOnOneCallback: true });
    one.callback(1);
    dl.cancel();
    assertNoResult(two);
    assert.deepEqual(successResultOf(dl), [1, 0]);
  });

  await t.step("fired by fireOnOneErrback", () => {
    const one = new Deferred<number>();
    const two = new Deferred<number>();
    const dl = new DeferredList([one, two], { fireOnOneErrback: true });
    const error = new Error("test");
    one.errback(error);
    dl.cancel();
    assertNoResult(two);
    assert.equal(failureResultOf(one).value, error);
    failureResultOf(dl, FirstError);
  });

  await t.step("fired with the whole list", () => {
    const cancelled: number[] = [];
    const one = new Deferred<number>(() => cancelled.push(1));
    one.callback(1);
    const dl = new DeferredList([one]);
    dl.cancel();
    assert.deepEqual(cancelled, []);
    assert.deepEqual(successResultOf(dl), [[true, 1]]);
  });

  await t.step("but cancels a Deferred the fired list is waiting on", () => {
    const dl = new DeferredList([succeed(1)]);
    const cancelled: string[] = [];
    const inner = new Deferred<string>(() => cancelled.push("inner"));
    dl.addCallback(() => inner);
    dl.cancel();
    assert.deepEqual(cancelled, ["inner"]);
    failureResultOf(dl, CancelledError);
  });
});

Deno.test("gatherResults() fires with the plain results in input order", async (t) => {
  await t.step("already fired", () => {
    assert.deepEqual(successResultOf(gatherResults([succeed(1), succeed(2)])), [1, 2]);
  });
  await t.step("fired out of order", () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const d = gatherResults([a, b]);
    b.callback("b");
    assertNoResult(d);
    a.callback("a");
    assert.deepEqual(successResultOf(d), ["a", "b"]);
  });
  await t.step("of no Deferreds", () => {
    assert.deepEqual(successResultOf(gatherResults<number>([])), []);
  });
});

Deno.test("gatherResults() fails with FirstError at the first failure", () => {
  const error = new RangeError("bad");
  const bad = fail<number>(error);
  const pending = new Deferred<number>();
  const d = gatherResults([succeed(1), bad, pending]);
  const first = failureResultOf(d, FirstError).value as FirstError;
  assert.equal(first.index, 1);
  assert.equal(first.subFailure.value, error);
  assert.match(first.message, /index 1/);
  assertNoResult(pending);
  // Without consumeErrors the input keeps its failure.
  assert.equal(failureResultOf(bad).value, error);
});

Deno.test("gatherResults() with consumeErrors turns input failures into undefined", () => {
  const good = succeed(1);
  const bad = fail<number>(new RangeError("oh noes"));
  const d = gatherResults([good, bad], { consumeErrors: true });
  const unconsumed: Failure[] = [];
  bad.addErrback((f) => {
    unconsumed.push(f);
  });
  assert.deepEqual(unconsumed, []);
  const first = failureResultOf(d, FirstError).value as FirstError;
  assert.ok(first.subFailure.value instanceof RangeError);
  assert.equal(first.subFailure.getErrorMessage(), "oh noes");
});

Deno.test("gatherResults() cancel() cancels every input", async (t) => {
  await t.step("and fails with FirstError(CancelledError)", () => {
    const one = new Deferred<number>();
    const two = new Deferred<number>();
    const d = gatherResults([one, two]);
    d.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    const first = failureResultOf(d, FirstError).value as FirstError;
    assert.equal(first.index, 0);
    assert.ok(first.subFailure.check(CancelledError));
  });

  await t.step("and fires with the results when every canceller gives one", () => {
    const one = new Deferred<string>(callbackCanceller);
    const two = new Deferred<string>(callbackCanceller);
    const d = gatherResults([one, two]);
    d.cancel();
    assert.deepEqual(successResultOf(d), ["Callback Result", "Callback Result"]);
  });
});
