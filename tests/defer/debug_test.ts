import assert from "node:assert/strict";
import {
  AlreadyCalledError,
  Deferred,
  fail,
  type Failure,
  getDebugging,
  inlineCallbacks,
  setDebugging,
  setUnhandledErrorHandler,
  succeed,
} from "../../defer/mod.ts";

// ---------------------------------------------------------------------------
// Helpers

type Report = { message: string; failure: Failure };

/**
 * Runs `make` (which must leave nothing referring to the Deferreds it
 * creates), forces garbage collection and returns the unhandled-error
 * reports whose message mentions `tag`. Reports for other tests' leftovers
 * are ignored.
 */
async function reportsAfterGc(tag: string, make: () => void | Promise<void>): Promise<Report[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.equal(typeof gc, "function", "run the tests with --v8-flags=--expose-gc");
  const reports: Report[] = [];
  const previous = setUnhandledErrorHandler((message, failure) => {
    reports.push({ message, failure });
  });
  try {
    await make();
    for (let i = 0; i < 4; i++) {
      gc!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    setUnhandledErrorHandler(previous);
  }
  return reports.filter((r) => r.message.includes(tag));
}

/** A unique tag, so each test only sees its own reports. */
let counter = 0;
function tag(name: string): string {
  return `${name}-${++counter}-${Math.random().toString(36).slice(2)}`;
}

// ---------------------------------------------------------------------------
// setDebugging

Deno.test("setDebugging() toggles getDebugging()", () => {
  assert.equal(getDebugging(), false);
  try {
    setDebugging(true);
    assert.equal(getDebugging(), true);
  } finally {
    setDebugging(false);
  }
  assert.equal(getDebugging(), false);
});

Deno.test("AlreadyCalledError names creator and invoker stacks when debugging", async (t) => {
  const fire: Record<string, (d: Deferred<unknown>) => void> = {
    callback: (d) => d.callback("x"),
    errback: (d) => d.errback(new Error("x")),
  };
  for (const first of ["callback", "errback"]) {
    for (const second of ["callback", "errback"]) {
      await t.step(`${first} then ${second}`, () => {
        setDebugging(true);
        try {
          const d = new Deferred<unknown>();
          d.addErrback(() => null);
          fire[first](d);
          let error: unknown;
          try {
            fire[second](d);
          } catch (e) {
            error = e;
          }
          assert.ok(error instanceof AlreadyCalledError);
          const lines = error.message.split("\n");
          assert.equal(lines[0], "Deferred has already been called");
          assert.ok(lines.some((l) => l.startsWith(" C:")), error.message);
          assert.ok(lines.some((l) => l.startsWith(" I:")), error.message);
          // The creator and invoker lines point at this test file.
          assert.ok(lines.some((l) => l.startsWith(" C:") && l.includes("debug_test.ts")));
          assert.ok(lines.some((l) => l.startsWith(" I:") && l.includes("debug_test.ts")));
        } finally {
          setDebugging(false);
        }
      });
    }
  }

  await t.step("a Deferred made without debugging has no stacks", () => {
    const d = new Deferred();
    d.callback(1);
    assert.throws(() => d.callback(2), (e: unknown) => {
      assert.ok(e instanceof AlreadyCalledError);
      assert.equal(e.message, "Deferred has already been called");
      return true;
    });
  });

  await t.step("chainDeferred() to a fired Deferred fails with the debug message", () => {
    setDebugging(true);
    try {
      const target = new Deferred<number>();
      target.callback(1);
      const source = new Deferred<number>();
      source.chainDeferred(target);
      source.callback(2);
      let error: unknown;
      source.addErrback((f) => {
        error = f.value;
      });
      assert.ok(error instanceof AlreadyCalledError);
      assert.match(error.message, / C:/);
      assert.match(error.message, / I:/);
    } finally {
      setDebugging(false);
    }
  });
});

// ---------------------------------------------------------------------------
// Unhandled errors

Deno.test("Unhandled failures are reported once when the Deferred is collected", async (t) => {
  await t.step("a failed Deferred nobody handled", async () => {
    const id = tag("plain");
    const error = new Error(id);
    const reports = await reportsAfterGc(id, () => {
      fail(error);
    });
    assert.equal(reports.length, 1);
    const [{ message, failure }] = reports;
    assert.ok(message.startsWith("Unhandled error in Deferred:\n"), message);
    assert.ok(message.includes(`Error: ${id}`), message);
    assert.ok(message.includes("debug_test.ts"), "the traceback is included");
    // The value is a detached copy of the error, not the error itself.
    assert.ok(failure.value instanceof Error);
    assert.notEqual(failure.value, error);
    assert.equal((failure.value as Error).message, id);
    assert.equal((failure.value as Error).stack, error.stack);
  });

  await t.step("the reported copy keeps class, primitive fields and cause chain", async () => {
    const id = tag("copy");
    class CodedError extends RangeError {
      code = 42;
      owner = { big: "object" };
      constructor(message: string, options?: ErrorOptions) {
        super(message, options);
        this.name = "CodedError";
      }
    }
    const reports = await reportsAfterGc(id, () => {
      fail(new CodedError(id, { cause: new TypeError(`cause of ${id}`) }));
    });
    assert.equal(reports.length, 1);
    const { message, failure } = reports[0];
    const value = failure.value as CodedError;
    assert.ok(value instanceof CodedError);
    assert.ok(value instanceof RangeError);
    assert.equal(failure.check(RangeError), RangeError);
    assert.equal(failure.check("CodedError"), "CodedError");
    assert.equal(value.name, "CodedError");
    assert.equal(value.code, 42);
    assert.equal(Object.hasOwn(value, "owner"), false, "objects are not kept");
    assert.ok(value.cause instanceof TypeError);
    assert.match(message, new RegExp(`CodedError: ${id}`));
    assert.match(message, new RegExp(`Caused by: TypeError: cause of ${id}`));
  });

  await t.step("a DOMException (inherited name and message)", async () => {
    const id = tag("dom");
    const reports = await reportsAfterGc(id, () => {
      fail(new DOMException(`aborted ${id}`, "AbortError"));
    });
    assert.equal(reports.length, 1);
    const { message, failure } = reports[0];
    assert.ok(failure.value instanceof DOMException);
    assert.equal(failure.getErrorMessage(), `aborted ${id}`);
    assert.equal((failure.value as DOMException).name, "AbortError");
    assert.equal(failure.check("AbortError"), "AbortError");
    assert.match(message, new RegExp(`AbortError: aborted ${id}`));
  });

  await t.step("an error made inside a callback (it refers to the Deferred)", async () => {
    const id = tag("inside");
    const reports = await reportsAfterGc(id, () => {
      const d = new Deferred<number>();
      d.addCallback(function (this: unknown) {
        throw new Error(id);
      });
      d.callback(1);
    });
    assert.equal(reports.length, 1);
  });

  await t.step("a cancelled Deferred", async () => {
    const id = tag("cancelled");
    const reports = await reportsAfterGc("", () => {
      const d = new Deferred<number>();
      d.addErrback((f) => {
        // Keep the CancelledError, made inside cancel(), and mark the report.
        (f.value as Error).message += ` ${id}`;
        return f;
      });
      d.cancel();
    });
    const mine = reports.filter((r) => r.failure.getErrorMessage().includes(id));
    assert.equal(mine.length, 1);
    assert.match(mine[0].message, /CancelledError/);
  });

  await t.step("a failure left by the last callback", async () => {
    const id = tag("callback");
    const reports = await reportsAfterGc(id, () => {
      const d = new Deferred<number>();
      d.addCallback(() => {
        throw new TypeError(id);
      });
      d.callback(1);
    });
    assert.equal(reports.length, 1);
    assert.match(reports[0].message, new RegExp(`TypeError: ${id}`));
  });

  await t.step("a failure an errback did not trap", async () => {
    const id = tag("untrapped");
    const reports = await reportsAfterGc(id, () => {
      fail(new RangeError(id)).addErrback((f) => {
        f.trap(TypeError);
      });
    });
    assert.equal(reports.length, 1);
  });

  await t.step("a non-Error reason", async () => {
    const id = tag("string");
    const reports = await reportsAfterGc(id, () => {
      fail(`reason ${id}`);
    });
    assert.equal(reports.length, 1);
    assert.ok(reports[0].message.includes(`reason ${id}`));
    assert.equal(reports[0].failure.value, `reason ${id}`);
  });

  await t.step("with debugging, the report names the stacks", async () => {
    const id = tag("debug");
    const reports = await reportsAfterGc(id, () => {
      setDebugging(true);
      try {
        fail(new Error(id));
      } finally {
        setDebugging(false);
      }
    });
    assert.equal(reports.length, 1);
    assert.match(reports[0].message, /\(debug: /);
    assert.match(reports[0].message, / C:/);
    assert.match(reports[0].message, / I:/);
  });
});

Deno.test("Handled failures are not reported", async (t) => {
  // Each case runs next to a failure nobody handles, which must be reported:
  // that proves the collector ran, so the absence of the other is meaningful.
  const cases: Record<string, (error: Error) => void | Promise<void>> = {
    "handled by an errback": (error) => {
      fail(error).addErrback(() => null);
    },
    "trapped by an errback": (error) => {
      fail(error).addErrback((f) => {
        f.trap(Error);
      });
    },
    "returned into another chain (fired first)": (error) => {
      const inner = fail(error);
      succeed(1).addCallback(() => inner).addErrback(() => null);
    },
    "returned into another chain (fired later)": (error) => {
      const inner = new Deferred();
      succeed(1).addCallback(() => inner).addErrback(() => null);
      inner.errback(error);
    },
    "handed on with chainDeferred()": (error) => {
      const a = new Deferred();
      const b = new Deferred();
      a.chainDeferred(b);
      b.addErrback(() => null);
      a.errback(error);
    },
    "awaited in try/catch (failed before the await)": async (error) => {
      const d = fail(error);
      try {
        await d;
      } catch {
        // handled
      }
    },
    "awaited in try/catch (failed after the await began)": async (error) => {
      const d = new Deferred();
      const p = (async () => {
        try {
          await d;
        } catch {
          // handled
        }
      })();
      d.errback(error);
      await p;
    },
    "handed to a Promise with asPromise()": async (error) => {
      try {
        await fail(error).asPromise();
      } catch {
        // handled
      }
    },
    "yielded to inlineCallbacks and caught": (error) => {
      inlineCallbacks(function* () {
        try {
          yield fail(error);
        } catch {
          // handled
        }
      })();
    },
  };
  for (const [name, make] of Object.entries(cases)) {
    await t.step(name, async () => {
      const id = tag("handled");
      const control = tag("control");
      const reports = await reportsAfterGc("", async () => {
        await make(new Error(id));
        fail(new Error(control));
      });
      const about = (s: string) => reports.filter((r) => r.message.includes(s)).length;
      assert.equal(about(control), 1, "the control failure is reported");
      assert.equal(about(id), 0, reports.map((r) => r.message).join("\n---\n"));
    });
  }

  await t.step(
    "a failure recovered from and then failed again reports only the new one",
    async () => {
      const first = tag("first");
      const second = tag("second");
      const reports = await reportsAfterGc("", () => {
        fail(new Error(first))
          .addErrback(() => "recovered")
          .addCallback(() => {
            throw new Error(second);
          });
      });
      assert.equal(reports.filter((r) => r.message.includes(first)).length, 0);
      assert.equal(reports.filter((r) => r.message.includes(second)).length, 1);
    },
  );
});

Deno.test("setUnhandledErrorHandler() returns the previous handler", () => {
  const mine = () => {};
  const original = setUnhandledErrorHandler(mine);
  try {
    assert.equal(typeof original, "function");
    const back = setUnhandledErrorHandler(null);
    assert.equal(back, mine);
    // null restores the default, which is not `mine`.
    assert.notEqual(setUnhandledErrorHandler(original), mine);
  } finally {
    setUnhandledErrorHandler(original);
  }
});
