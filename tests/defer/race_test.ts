import assert from "node:assert/strict";
import { assertNoResult, failureResultOf, successResultOf } from "../../testing/mod.ts";
import {
  CancelledError,
  Deferred,
  fail,
  Failure,
  FailureGroup,
  race,
  setUnhandledErrorHandler,
  succeed,
} from "@torsion/torsion/defer";

// `count` Deferreds whose cancellers count their calls (and do not fire them).
function setupRaceState(count: number): [number[], Deferred<unknown>[]] {
  const cancelledState = new Array<number>(count).fill(0);
  const ds: Deferred<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    ds.push(new Deferred<unknown>(() => cancelledState[i]++));
  }
  return [cancelledState, ds];
}

const gc = (globalThis as { gc?: () => void }).gc;

async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("race() fires with [index, value] of the first success and cancels each loser once", async (t) => {
  for (let before = 0; before <= 3; before++) {
    for (let after = 0; after <= 3; after++) {
      await t.step(`${before} before the winner, ${after} after`, () => {
        const [cancelledState, ds] = setupRaceState(before + 1 + after);
        const result = race(ds);
        const expected = { winner: true };
        ds[before].callback(expected);
        const [index, value] = successResultOf(result);
        assert.equal(index, before);
        assert.equal(value, expected);
        assert.deepEqual(cancelledState, [
          ...new Array(before).fill(1),
          0,
          ...new Array(after).fill(1),
        ]);
        result.cancel(); // fired: cancels nothing more
        assert.equal(cancelledState.reduce((a, b) => a + b, 0), before + after);
      });
    }
  }
});

Deno.test("race() fails with FailureGroup in input order when every input fails", async (t) => {
  for (let count = 1; count <= 4; count++) {
    await t.step(`${count} inputs failing last to first`, () => {
      const [cancelledState, ds] = setupRaceState(count);
      const result = race(ds);
      const errors = ds.map((_, i) => new Error(`failure ${i}`));
      for (let i = count - 1; i >= 0; i--) {
        if (i === 0) continue;
        ds[i].errback(errors[i]);
        assertNoResult(result);
      }
      ds[0].errback(errors[0]);
      const group = failureResultOf(result, FailureGroup).value as FailureGroup;
      assert.deepEqual(group.failures.map((f) => f.value), errors);
      assert.deepEqual(cancelledState, new Array(count).fill(0));
    });
  }

  await t.step("the same Failure for every input", () => {
    const [cancelledState, ds] = setupRaceState(3);
    const failure = new Failure(new Error("The test demands failures."));
    const result = race(ds);
    for (const d of ds) d.errback(failure);
    const group = failureResultOf(result, FailureGroup).value as FailureGroup;
    assert.deepEqual(group.failures, [failure, failure, failure]);
    assert.deepEqual(cancelledState, [0, 0, 0]);
  });
});

Deno.test("race() takes failures before the first success in its stride", () => {
  const [cancelledState, ds] = setupRaceState(3);
  const result = race(ds);
  ds[0].errback(new Error("first fails"));
  assertNoResult(result);
  ds[2].callback("third wins");
  assert.deepEqual(successResultOf(result), [2, "third wins"]);
  assert.deepEqual(cancelledState, [0, 1, 0]); // the failed one needs no cancelling
});

Deno.test("race() drops results that arrive after cancellation", async (t) => {
  for (let before = 0; before <= 3; before++) {
    for (let after = 0; after <= 3; after++) {
      await t.step(`${before} before the winner, ${after} after`, () => {
        const ds: Deferred<null>[] = [];
        for (let i = 0; i < before + 2 + after; i++) ds.push(new Deferred<null>());
        const result = race(ds);
        ds[before].callback(null);
        ds[before + 1].callback(null); // cancelled without canceller: swallowed
        assert.deepEqual(successResultOf(result), [before, null]);
      });
    }
  }
});

Deno.test({
  name: "race() reports nothing as unhandled for its losers",
  ignore: gc === undefined,
  fn: async () => {
    const reports: string[] = [];
    const previous = setUnhandledErrorHandler((message) => reports.push(message));
    try {
      let winner: unknown;
      (() => {
        const ds = [new Deferred<string>(), new Deferred<string>(), new Deferred<string>()];
        race(ds).addCallback((pair) => (winner = pair));
        ds[0].errback(new Error("race-loser-marker"));
        ds[1].callback("win");
        ds[2].callback("late");
        fail(new Error("race-control-marker")); // proves that collection happened
      })();
      assert.deepEqual(winner, [1, "win"]);
      await collectGarbage();
      assert.equal(reports.filter((m) => m.includes("race-control-marker")).length, 1);
      assert.deepEqual(reports.filter((m) => /race-loser-marker|CancelledError/.test(m)), []);
    } finally {
      setUnhandledErrorHandler(previous);
    }
  },
});

Deno.test("race() tolerates a loser whose canceller succeeds", () => {
  const winner = new Deferred<unknown>();
  const ds = [winner, new Deferred<unknown>((d) => d.callback({ loser: true }))];
  const expected = { winner: true };
  const result = race(ds);
  winner.callback(expected);
  assert.deepEqual(successResultOf(result), [0, expected]);
});

Deno.test("race() reports a loser's canceller that throws and still fires", () => {
  const reports: Array<[string, Failure]> = [];
  const previous = setUnhandledErrorHandler((message, failure) => reports.push([message, failure]));
  try {
    const error = new Error("canceller broke");
    const cancelled: number[] = [];
    const ds = [
      new Deferred<string>(() => {
        throw error;
      }),
      new Deferred<string>(),
      new Deferred<string>(() => cancelled.push(2)),
    ];
    const result = race(ds);
    ds[1].callback("win");
    assert.deepEqual(successResultOf(result), [1, "win"]);
    assert.equal(successResultOf(ds[1]), undefined); // the race consumed it
    assert.deepEqual(cancelled, [2]);
    assert.equal(reports.length, 1);
    assert.equal(reports[0][1].value, error);
    assert.match(reports[0][0], /canceller of input 0 threw during race\(\)/);
  } finally {
    setUnhandledErrorHandler(previous);
  }
});

Deno.test("race() cancel() cancels every input and fails with FailureGroup", async (t) => {
  for (let count = 1; count <= 3; count++) {
    await t.step(`${count} inputs`, () => {
      const [cancelledState, ds] = setupRaceState(count);
      const result = race(ds);
      result.cancel();
      assert.deepEqual(cancelledState, new Array(count).fill(1));
      const group = failureResultOf(result, FailureGroup).value as FailureGroup;
      assert.equal(group.failures.length, count);
      for (const f of group.failures) assert.ok(f.value instanceof CancelledError);
    });
  }

  await t.step("an input whose canceller succeeds wins, and no input is cancelled twice", () => {
    const cancelledState = [0, 0, 0];
    const ds = [
      new Deferred<string>(() => cancelledState[0]++),
      new Deferred<string>((d) => {
        cancelledState[1]++;
        d.callback("from canceller");
      }),
      new Deferred<string>(() => cancelledState[2]++),
    ];
    const result = race(ds);
    result.cancel();
    assert.deepEqual(successResultOf(result), [1, "from canceller"]);
    assert.deepEqual(cancelledState, [1, 1, 1]);
  });
});

Deno.test("race() of inputs that already fired", async (t) => {
  await t.step("the first already-successful input wins at once", () => {
    const [cancelledState, ds] = setupRaceState(3);
    ds[1].callback("early");
    const result = race(ds);
    assert.deepEqual(successResultOf(result), [1, "early"]);
    assert.deepEqual(cancelledState, [1, 0, 1]);
  });

  await t.step("all already failed", () => {
    const e1 = new Error("one");
    const e2 = new Error("two");
    const result = race([fail<number>(e1), fail<number>(e2)]);
    const group = failureResultOf(result, FailureGroup).value as FailureGroup;
    assert.deepEqual(group.failures.map((f) => f.value), [e1, e2]);
  });

  await t.step("with succeed()", () => {
    assert.deepEqual(successResultOf(race([succeed("a"), succeed("b")])), [0, "a"]);
  });
});

Deno.test("race() takes inputs of different types", () => {
  const slow = new Deferred<number>();
  const fast = new Deferred<string>();
  const result: Deferred<[number, number | string]> = race<number | string>([slow, fast]);
  fast.callback("fast");
  assert.deepEqual(successResultOf(result), [1, "fast"]);
  assert.equal(slow.called, true);
});

Deno.test("race() consumes each input's outcome", () => {
  const a = new Deferred<number>();
  const b = new Deferred<number>();
  race([a, b]);
  a.callback(1);
  const after: unknown[] = [];
  a.addBoth((r) => after.push(r));
  b.addBoth((r) => after.push(r)); // cancelled; the CancelledError was consumed
  assert.deepEqual(after, [undefined, undefined]);
});

Deno.test("race() copies its input", () => {
  const [cancelledState, ds] = setupRaceState(2);
  const inputs = [...ds];
  const result = race(inputs);
  const extra = new Deferred<unknown>();
  inputs.push(extra);
  result.cancel();
  assert.deepEqual(cancelledState, [1, 1]);
  assertNoResult(extra);
  assert.equal((failureResultOf(result, FailureGroup).value as FailureGroup).failures.length, 2);
});

Deno.test("race([]) never fires until cancelled", () => {
  const result = race<number>([]);
  assertNoResult(result);
  result.cancel();
  failureResultOf(result, CancelledError);
});
