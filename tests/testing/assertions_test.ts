import assert from "node:assert/strict";
import { AssertionError } from "node:assert";
import { Deferred } from "../../defer/deferred.ts";
import { setUnhandledErrorHandler } from "../../defer/debug.ts";
import { Failure } from "../../defer/failure.ts";
import { fail, succeed } from "../../defer/helpers.ts";
import { assertNoResult, failureResultOf, successResultOf } from "../../testing/mod.ts";

// Asserts that `fn` throws an AssertionError whose message matches.
function assertFails(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AssertionError, `not an AssertionError: ${e}`);
    assert.match(e.message, message);
    return true;
  });
}

const gc = (globalThis as { gc?: () => void }).gc;
// The tests of unhandled-failure reports need `--v8-flags=--expose-gc`.
const noGc = typeof gc !== "function";

// Runs `fn` with unhandled-failure reports captured and forces garbage
// collection, so that a failure left unhandled is reported. Returns the
// reports that mention `tag` (other tests' leftovers are ignored).
async function unhandledDuring(tag: string, fn: () => void): Promise<string[]> {
  const reports: string[] = [];
  const previous = setUnhandledErrorHandler((message: string) => void reports.push(message));
  try {
    fn();
    for (let i = 0; i < 4; i++) {
      gc!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    setUnhandledErrorHandler(previous);
  }
  return reports.filter((message) => message.includes(tag));
}

Deno.test("successResultOf() returns the result and consumes it", () => {
  const d = succeed({ answer: 42 });
  assert.deepEqual(successResultOf(d), { answer: 42 });
  assert.equal(d.result, undefined);
  const later: unknown[] = [];
  d.addCallback((r) => void later.push(r));
  assert.deepEqual(later, [undefined]);
});

Deno.test("successResultOf() fails on a Deferred without a result", () => {
  const d = new Deferred<number>();
  assertFails(
    () => successResultOf(d),
    /^Success result expected on Deferred \{ waiting for a result \}, found no result instead$/,
  );
  // Nothing was added to the chain: the result, when it comes, is intact.
  d.callback(7);
  assert.equal(successResultOf(d), 7);
});

Deno.test("successResultOf() fails on a paused Deferred", () => {
  const d = succeed(1);
  d.pause();
  assertFails(() => successResultOf(d), /found no result instead/);
  d.unpause();
  assert.equal(successResultOf(d), 1);
});

Deno.test("successResultOf() fails on a Deferred waiting on another", () => {
  const inner = new Deferred<string>();
  const outer = succeed(0).addCallback(() => inner);
  assertFails(() => successResultOf(outer), /found no result instead/);
  inner.callback("inner");
  assert.equal(successResultOf(outer), "inner");
});

Deno.test("successResultOf() fails on a failure, with its traceback", () => {
  assertFails(
    () => successResultOf(fail(new RangeError("out of range"))),
    /^Success result expected on Deferred \{ failed: \[Failure RangeError: out of range\] \}, found failure result instead:\nRangeError: out of range\n +at /,
  );
});

Deno.test({
  name: "successResultOf() handles the failure it reports",
  ignore: noGc,
  async fn() {
    const reports = await unhandledDuring("success-handled", () => {
      const d = fail(new RangeError("success-handled"));
      assertFails(() => successResultOf(d), /found failure result instead/);
    });
    assert.deepEqual(reports, []);
  },
});

Deno.test("failureResultOf() returns the failure and consumes it", () => {
  const d = fail(new TypeError("bad type"));
  const f = failureResultOf(d);
  assert.ok(f instanceof Failure);
  assert.equal(f.getErrorMessage(), "bad type");
  assert.equal(d.result, undefined);
});

Deno.test({
  name: "failureResultOf() handles the failure it returns",
  ignore: noGc,
  async fn() {
    const reports = await unhandledDuring("failure-handled", () => {
      failureResultOf(fail(new TypeError("failure-handled")));
    });
    assert.deepEqual(reports, []);
  },
});

Deno.test("failureResultOf() checks the type, by class or by name", () => {
  assert.equal(
    failureResultOf(fail(new RangeError("r")), TypeError, RangeError).getErrorMessage(),
    "r",
  );
  assert.equal(failureResultOf(fail(new RangeError("r")), "RangeError").type, RangeError);
  assert.equal(failureResultOf(fail(new RangeError("r")), Error).type, RangeError);
});

Deno.test("failureResultOf() fails on a failure of another type, listing the types", () => {
  assertFails(
    () => failureResultOf(fail(new Error("boom")), TypeError, "RangeError"),
    /^Failure of type \(TypeError or RangeError\) expected on Deferred \{ failed: \[Failure Error: boom\] \}, found type Error instead:\nError: boom\n +at /,
  );
});

Deno.test("failureResultOf() fails on a Deferred without a result", () => {
  assertFails(
    () => failureResultOf(new Deferred()),
    /^Failure result expected on Deferred \{ waiting for a result \}, found no result instead$/,
  );
});

Deno.test("failureResultOf() fails on a success, showing it", () => {
  assertFails(
    () => failureResultOf(succeed("fine")),
    /^Failure result expected on Deferred \{ result: fine \}, found success result \("fine"\) instead$/,
  );
  assertFails(
    () => failureResultOf(succeed({ n: 1 })),
    /found success result \(\{ n: 1 \}\) instead$/,
  );
});

Deno.test("assertNoResult() passes on a Deferred without a result and leaves it alone", () => {
  const d = new Deferred<string>();
  assertNoResult(d);
  d.callback("later");
  assert.equal(d.result, "later");
  assert.equal(successResultOf(d), "later");
});

Deno.test("assertNoResult() passes on a paused Deferred", () => {
  const d = succeed(5);
  d.pause();
  assertNoResult(d);
  d.unpause();
  assert.equal(successResultOf(d), 5);
});

Deno.test("assertNoResult() fails on a success and leaves the result", () => {
  const d = succeed(3);
  assertFails(
    () => assertNoResult(d),
    /^No result expected on Deferred \{ result: 3 \}, found 3 instead$/,
  );
  assert.equal(d.result, 3);
});

Deno.test("assertNoResult() fails on a failure, then handles it", () => {
  const d = fail(new Error("kaput"));
  assertFails(
    () => assertNoResult(d),
    /^No result expected on Deferred \{ failed: \[Failure Error: kaput\] \}, found \[Failure Error: kaput\] instead$/,
  );
  assert.equal(d.result, undefined);
});

Deno.test({
  name: "assertNoResult() leaves no unhandled failure behind",
  ignore: noGc,
  async fn() {
    const reports = await unhandledDuring("no-result-handled", () => {
      const d = fail(new Error("no-result-handled"));
      assertFails(() => assertNoResult(d), /found \[Failure Error: no-result-handled\] instead/);
    });
    assert.deepEqual(reports, []);
  },
});

Deno.test({
  name: "a failure left alone is reported, so the checks above can see one",
  ignore: noGc,
  async fn() {
    const reports = await unhandledDuring("left-alone", () => {
      fail(new Error("left-alone"));
    });
    assert.equal(reports.length, 1);
    assert.match(reports[0], /^Unhandled error in Deferred:/);
  },
});
