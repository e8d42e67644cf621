import assert from "node:assert/strict";
import {
  AlreadyCalledError,
  CancelledError,
  Deferred,
  DeferredList,
  type DelayedCall,
  fail,
  Failure,
  type ReactorTime,
  succeed,
  TimeoutError,
} from "../../defer/mod.ts";

// ---------------------------------------------------------------------------
// Helpers

/** The result a fired Deferred holds, taken the way a callback would see it. */
function resultOf<T>(d: Deferred<T>): T | Failure {
  let seen: T | Failure | undefined;
  let ran = false;
  d.addBoth((r) => {
    seen = r;
    ran = true;
    return r;
  });
  assert.ok(ran, `expected ${d} to have a result`);
  return seen as T | Failure;
}

/** The success result of `d`; fails the test on a failure or no result. */
function successOf<T>(d: Deferred<T>): T {
  const r = resultOf(d);
  if (r instanceof Failure) assert.fail(`expected a success, got ${r}`);
  return r;
}

/** The failure of `d` (handled, so it is not reported); fails the test otherwise. */
function failureOf(d: Deferred<unknown>): Failure {
  let seen: Failure | undefined;
  d.addErrback((f) => {
    seen = f;
  });
  assert.ok(seen !== undefined, `expected ${d} to have failed`);
  return seen;
}

/** Asserts that no callback added now would run. */
function assertNoResult(d: Deferred<unknown>): void {
  let ran = false;
  d.addBoth((r) => {
    ran = true;
    return r;
  });
  assert.equal(ran, false, `expected ${d} to have no result`);
}

/** Lets pending promise reactions (and one macrotask turn) run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A deterministic ReactorTime for addTimeout tests. */
class FakeClock implements ReactorTime {
  #now = 0;
  #calls: FakeCall[] = [];

  seconds(): number {
    return this.#now;
  }

  // deno-lint-ignore no-explicit-any
  callLater<A extends any[]>(delay: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    const call = new FakeCall(this.#now + delay, fn, args, (c) => {
      this.#calls = this.#calls.filter((x) => x !== c);
    });
    this.#calls.push(call);
    return call;
  }

  getDelayedCalls(): DelayedCall[] {
    return this.#calls.filter((c) => c.active());
  }

  advance(seconds: number): void {
    this.#now += seconds;
    for (;;) {
      const due = this.#calls
        .filter((c) => c.getTime() <= this.#now)
        .sort((a, b) => a.getTime() - b.getTime());
      if (due.length === 0) return;
      const call = due[0];
      this.#calls = this.#calls.filter((c) => c !== call);
      call.run();
    }
  }
}

class FakeCall implements DelayedCall {
  #time: number;
  #state: "pending" | "called" | "cancelled" = "pending";
  readonly #remove: (c: FakeCall) => void;
  // deno-lint-ignore no-explicit-any
  readonly func: (...args: any[]) => unknown;
  readonly args: readonly unknown[];

  constructor(
    time: number,
    // deno-lint-ignore no-explicit-any
    func: (...args: any[]) => unknown,
    args: unknown[],
    remove: (c: FakeCall) => void,
  ) {
    this.#time = time;
    this.func = func;
    this.args = args;
    this.#remove = remove;
  }

  getTime(): number {
    return this.#time;
  }

  cancel(): void {
    if (this.#state !== "pending") throw new Error(`Cannot cancel: already ${this.#state}`);
    this.#state = "cancelled";
    this.#remove(this);
  }

  reset(secondsFromNow: number): void {
    this.#time = secondsFromNow;
  }

  delay(secondsLater: number): void {
    this.#time += secondsLater;
  }

  active(): boolean {
    return this.#state === "pending";
  }

  run(): void {
    this.#state = "called";
    this.func(...this.args);
  }
}

// ---------------------------------------------------------------------------
// Synchronous firing and the basic chain

Deno.test("Deferred.callback() runs the callbacks synchronously, in order", () => {
  const d = new Deferred<number>();
  const seen: unknown[] = [];
  d.addCallback((n) => {
    seen.push(["first", n]);
    return n + 1;
  }).addCallback((n) => {
    seen.push(["second", n]);
    return n * 10;
  });
  assert.deepEqual(seen, []);
  assert.equal(d.called, false);
  assert.equal(d.result, undefined);
  d.callback(1);
  assert.deepEqual(seen, [["first", 1], ["second", 2]]);
  assert.equal(d.called, true);
  assert.equal(d.result, 20);
});

Deno.test("Deferred.addCallback() runs at once on a fired Deferred", async (t) => {
  await t.step("succeed()", () => {
    const seen: number[] = [];
    succeed(5).addCallback((n) => {
      seen.push(n);
    });
    assert.deepEqual(seen, [5]);
  });

  await t.step("manually fired, with later callbacks getting earlier results", () => {
    const d = new Deferred<string>();
    d.callback("a");
    const seen: string[] = [];
    d.addCallback((s) => s + "b");
    assert.equal(d.result, "ab");
    d.addCallback((s) => {
      seen.push(s);
      return s;
    });
    assert.deepEqual(seen, ["ab"]);
  });

  await t.step("succeed() matches a manually fired Deferred", () => {
    const manual = new Deferred<string>();
    manual.callback("x");
    const auto = succeed("x");
    assert.equal(auto.called, manual.called);
    assert.equal(auto.paused, manual.paused);
    assert.equal(auto.result, manual.result);
    assert.equal(String(auto), String(manual));
  });
});

Deno.test("Deferred callbacks receive extra arguments", async (t) => {
  await t.step("addCallback, addErrback, addBoth", () => {
    const seen: unknown[] = [];
    succeed(1).addCallback(
      (r, a: string, b: number) => {
        seen.push([r, a, b]);
        throw new Error("x");
      },
      "a",
      2,
    ).addErrback((f, c: string) => {
      seen.push([f.getErrorMessage(), c]);
      return 3;
    }, "c").addBoth((r, d: boolean) => {
      seen.push([r, d]);
    }, true);
    assert.deepEqual(seen, [[1, "a", 2], ["x", "c"], [3, true]]);
  });

  await t.step("addCallbacks with callbackArgs and errbackArgs", () => {
    const seen: unknown[] = [];
    const cb = (r: number, x: string) => {
      seen.push(["cb", r, x]);
      return r;
    };
    const eb = (f: Failure, y: string) => {
      seen.push(["eb", f.getErrorMessage(), y]);
      return 0;
    };
    succeed(1).addCallbacks(cb, eb, { callbackArgs: ["x"], errbackArgs: ["y"] });
    fail<number>(new Error("bad")).addCallbacks(cb, eb, {
      callbackArgs: ["x"],
      errbackArgs: ["y"],
    });
    assert.deepEqual(seen, [["cb", 1, "x"], ["eb", "bad", "y"]]);
  });

  await t.step("addCallbacks with null args (Python's None) passes none", () => {
    const seen: unknown[][] = [];
    const record = (...args: unknown[]) => {
      seen.push(args);
      return null;
    };
    succeed(1).addCallbacks(record, record, { callbackArgs: null, errbackArgs: null });
    fail(new Error("bad")).addCallbacks(record, record, { callbackArgs: null, errbackArgs: null });
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[0], [1]);
    assert.equal(seen[1].length, 1);
    assert.ok(seen[1][0] instanceof Failure);
  });
});

Deno.test("Deferred.addCallback() added by a callback on its own Deferred does not re-enter", async (t) => {
  await t.step("runs after the current callbacks, in [1, 2, 3] order", () => {
    const d = new Deferred<null>();
    const called: number[] = [];
    d.addCallback(() => {
      called.push(1);
      d.addCallback(() => {
        called.push(3);
      });
      // Not run yet: the running callback must return first.
      assert.deepEqual(called, [1]);
    });
    d.addCallback(() => {
      called.push(2);
    });
    d.callback(null);
    assert.deepEqual(called, [1, 2, 3]);
  });

  await t.step("a failure thrown by the added callback reaches the next errback", () => {
    const d = new Deferred<null>();
    const seen: string[] = [];
    d.addCallback(() => {
      d.addCallback(() => {
        throw new Error("callback raised exception");
      });
      d.addErrback((f) => {
        seen.push(f.getErrorMessage());
      });
    });
    d.callback(null);
    assert.deepEqual(seen, ["callback raised exception"]);
  });
});

// ---------------------------------------------------------------------------
// The errback path

Deno.test("Deferred switches to the errback path when a callback fails", async (t) => {
  await t.step("a thrown error", () => {
    const d = new Deferred<number>();
    const seen: unknown[] = [];
    const error = new RangeError("division by zero");
    d.addCallback(() => {
      throw error;
    }).addCallback(() => {
      seen.push("skipped callback ran");
    }).addErrback((f) => {
      seen.push(f.value);
    });
    d.callback(1);
    assert.deepEqual(seen, [error]);
  });

  await t.step("a returned Failure, passed on as the same object", () => {
    const failure = new Failure(new RangeError("returned"));
    let seen: Failure | undefined;
    succeed(1).addCallback(() => failure).addErrback((f) => {
      seen = f;
    });
    assert.equal(seen, failure);
  });

  await t.step("a thrown Failure, passed on as the same object", () => {
    const failure = new Failure("a string reason");
    let seen: Failure | undefined;
    succeed(1).addCallback(() => {
      throw failure;
    }).addErrback((f) => {
      seen = f;
    });
    assert.equal(seen, failure);
  });

  await t.step("a thrown non-Error value is wrapped as it is", () => {
    const reason = { code: 42 };
    let seen: unknown;
    succeed(1).addCallback(() => {
      throw reason;
    }).addErrback((f) => {
      seen = f.value;
    });
    assert.equal(seen, reason);
  });
});

Deno.test("Deferred errback that returns normally switches back to the callback path", () => {
  const seen: unknown[] = [];
  fail<string>(new Error("oops"))
    .addCallback(() => "not run")
    .addErrback((f) => `recovered from ${f.getErrorMessage()}`)
    .addCallbacks((r) => {
      seen.push(["cb", r]);
    }, () => {
      seen.push(["eb"]);
    });
  assert.deepEqual(seen, [["cb", "recovered from oops"]]);
});

Deno.test("Deferred.addErrback() re-throwing keeps the failure on the errback path", () => {
  const error = new TypeError("still broken");
  const seen: unknown[] = [];
  fail(error)
    .addErrback((f) => {
      f.trap(RangeError); // does not match: rethrows the original value
    })
    .addErrback((f) => {
      seen.push(f.value);
    });
  assert.deepEqual(seen, [error]);
});

Deno.test("Deferred.addCallbacks() with a null errback passes failures through unchanged", () => {
  const d = new Deferred<number>();
  const failure = new Failure(new Error("passed through"));
  const seen: unknown[] = [];
  d.addCallbacks((n) => {
    seen.push(["cb", n]);
    return n;
  }, null);
  d.addCallbacks((n) => {
    seen.push(["cb2", n]);
    return n;
  });
  d.addErrback((f) => {
    seen.push(f);
  });
  d.errback(failure);
  assert.deepEqual(seen, [failure]);
  assert.equal(seen[0], failure);
});

Deno.test("Deferred.addCallbacks() with a null callback passes results through", () => {
  const seen: unknown[] = [];
  succeed(7).addCallbacks(null, () => "errback ran").addCallback((n) => {
    seen.push(n);
  });
  assert.deepEqual(seen, [7]);
});

Deno.test("Deferred.addBoth() runs on either path", () => {
  const seen: unknown[] = [];
  const record = (r: unknown) => {
    seen.push(r instanceof Failure ? `failure: ${r.getErrorMessage()}` : r);
    return "replaced";
  };
  succeed(1).addBoth(record).addCallback((r) => seen.push(r));
  fail(new Error("e")).addBoth(record).addCallback((r) => seen.push(r));
  assert.deepEqual(seen, [1, "replaced", "failure: e", "replaced"]);
});

Deno.test("Deferred.callback() with a Failure is the same as errback()", () => {
  const d = new Deferred<unknown>();
  const failure = new Failure(new Error("via callback"));
  const seen: unknown[] = [];
  d.addCallbacks(() => seen.push("cb"), (f) => seen.push(f));
  d.callback(failure);
  assert.deepEqual(seen, [failure]);
  assert.equal(seen[0], failure);
});

Deno.test("Deferred.errback() wraps non-Failure reasons and keeps Failures", async (t) => {
  await t.step("an Error is wrapped, keeping the same object as value", () => {
    const error = new Error("boom");
    const d = new Deferred();
    d.errback(error);
    const f = failureOf(d);
    assert.equal(f.value, error);
    assert.equal(f.type, Error);
  });

  await t.step("a Failure is used as it is", () => {
    const failure = new Failure(new Error("kept"));
    const d = new Deferred();
    d.errback(failure);
    assert.equal(failureOf(d), failure);
  });

  await t.step("no reason gives an Error saying so", () => {
    const d = new Deferred();
    d.errback();
    const f = failureOf(d);
    assert.ok(f.value instanceof Error);
    assert.match(f.getErrorMessage(), /without a reason/);
  });

  await t.step("null and strings are kept as the value", () => {
    const d1 = new Deferred();
    d1.errback(null);
    assert.equal(failureOf(d1).value, null);
    const d2 = new Deferred();
    d2.errback("text");
    assert.equal(failureOf(d2).value, "text");
  });
});

Deno.test("Deferred.pause() holds a failure until unpause()", () => {
  const d = fail(new Error("paused failure"));
  d.pause();
  const seen: string[] = [];
  d.addErrback((f) => {
    seen.push(f.getErrorMessage());
  });
  assert.deepEqual(seen, []);
  d.unpause();
  assert.deepEqual(seen, ["paused failure"]);
});

Deno.test("Deferred.pause() is counted", async (t) => {
  await t.step("callbacks wait for as many unpause() calls", () => {
    const d = new Deferred<number>();
    const seen: number[] = [];
    d.pause();
    d.pause();
    assert.equal(d.paused, 2);
    d.addCallback((n) => {
      seen.push(n);
    });
    d.callback(1);
    assert.deepEqual(seen, []);
    d.unpause();
    assert.equal(d.paused, 1);
    assert.deepEqual(seen, []);
    d.unpause();
    assert.equal(d.paused, 0);
    assert.deepEqual(seen, [1]);
  });

  await t.step("unpause() on an unpaused Deferred does nothing", () => {
    const d = new Deferred<number>();
    d.unpause();
    assert.equal(d.paused, 0);
    d.pause();
    assert.equal(d.paused, 1);
    const seen: number[] = [];
    d.addCallback((n) => {
      seen.push(n);
    });
    d.callback(3);
    assert.deepEqual(seen, []);
    d.unpause();
    assert.deepEqual(seen, [3]);
  });

  await t.step("unpausing an unfired Deferred runs nothing", () => {
    const d = new Deferred<number>();
    const seen: number[] = [];
    d.addCallback((n) => {
      seen.push(n);
    });
    d.pause();
    d.unpause();
    assert.deepEqual(seen, []);
    d.callback(4);
    assert.deepEqual(seen, [4]);
  });
});

Deno.test("Deferred.callback() twice throws AlreadyCalledError", async (t) => {
  const fire: Record<string, (d: Deferred<unknown>) => void> = {
    callback: (d) => d.callback("x"),
    errback: (d) => d.errback(new Error("x")),
  };
  for (const first of ["callback", "errback"]) {
    for (const second of ["callback", "errback"]) {
      await t.step(`${first} then ${second}`, () => {
        const d = new Deferred<unknown>();
        d.addErrback(() => null);
        fire[first](d);
        const before = d.result;
        assert.throws(() => fire[second](d), (e: unknown) => {
          assert.ok(e instanceof AlreadyCalledError);
          assert.equal((e as Error).name, "AlreadyCalledError");
          return true;
        });
        assert.equal(d.result, before);
      });
    }
  }

  await t.step("without debugging the message names no stacks", () => {
    const d = new Deferred();
    d.callback(1);
    let error: unknown;
    try {
      d.callback(2);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof AlreadyCalledError);
    assert.equal(error.message, "Deferred has already been called");
    assert.doesNotMatch(error.message, / C:| I:/);
  });
});

// ---------------------------------------------------------------------------
// Callbacks that return Deferreds and PromiseLikes

Deno.test("Deferred waits on a Deferred returned from a callback", async (t) => {
  await t.step("until the inner one fires, then resumes with its result", () => {
    const outer = new Deferred<number>();
    const inner = new Deferred<string>();
    const seen: unknown[] = [];
    outer.addCallback(() => inner).addCallback((s) => {
      seen.push(s);
      return s;
    });
    outer.callback(1);
    assert.deepEqual(seen, []);
    assert.equal(outer.called, true);
    assert.equal(outer.result, inner);
    assert.equal(String(outer), "Deferred { waiting on Deferred { waiting for a result } }");
    inner.callback("inner result");
    assert.deepEqual(seen, ["inner result"]);
    assert.equal(inner.result, undefined);
    assert.equal(outer.result, "inner result");
  });

  await t.step("a paused inner one holds the outer until unpause()", () => {
    // test_callbackReturnsDeferred
    const d1 = new Deferred<number>();
    const d2 = new Deferred<number>();
    d2.pause();
    const seen: number[] = [];
    d1.addCallback(() => d2).addCallback((n) => {
      seen.push(n);
    });
    d1.callback(1);
    d2.callback(2);
    assert.deepEqual(seen, []);
    d2.unpause();
    assert.deepEqual(seen, [2]);
  });

  await t.step("an errback returning a Deferred resumes on the success path", () => {
    const inner = new Deferred<string>();
    const seen: unknown[] = [];
    fail<string>(new Error("x"))
      .addErrback(() => inner)
      .addCallbacks((r) => {
        seen.push(["cb", r]);
      }, () => {
        seen.push(["eb"]);
      });
    assert.deepEqual(seen, []);
    inner.callback("recovered");
    assert.deepEqual(seen, [["cb", "recovered"]]);
  });

  await t.step("an inner failure moves the outer to the errback path", () => {
    const inner = new Deferred<string>();
    const error = new Error("inner failed");
    const seen: unknown[] = [];
    succeed(1).addCallback(() => inner).addCallbacks(() => {
      seen.push("cb");
    }, (f) => {
      seen.push(f.value);
    });
    inner.errback(error);
    assert.deepEqual(seen, [error]);
    assert.equal(inner.result, undefined);
  });
});

Deno.test("Deferred takes the result of an already-fired Deferred returned from a callback", async (t) => {
  await t.step("success: synchronously, leaving the inner result undefined", () => {
    const first = succeed("first");
    const second = new Deferred<string>();
    const seen: string[] = [];
    second.addCallback(() => first).addCallback((s) => {
      seen.push(s);
    });
    second.callback("second");
    assert.deepEqual(seen, ["first"]);
    assert.equal(first.result, undefined);
  });

  await t.step("failure: synchronously, leaving the inner result undefined", () => {
    const error = new Error("first failed");
    const first = fail<string>(error);
    const seen: unknown[] = [];
    succeed(1).addCallback(() => first).addErrback((f) => {
      seen.push(f.value);
    });
    assert.deepEqual(seen, [error]);
    assert.equal(first.result, undefined);
  });

  await t.step("the inner one fired after being returned (asynchronous)", () => {
    const first = new Deferred<string>();
    const second = new Deferred<string>();
    const seen: string[] = [];
    second.addCallback(() => first).addCallback((s) => {
      seen.push(s);
    });
    second.callback("second");
    assert.deepEqual(seen, []);
    first.callback("first");
    assert.deepEqual(seen, ["first"]);
    assert.equal(first.result, undefined);
  });

  await t.step("a fired but paused inner one makes the outer wait", () => {
    // test_chainedPausedDeferredWithResult
    const paused = succeed("expected");
    paused.pause();
    const start = new Deferred<null>();
    const chained = start.addCallback(() => paused);
    start.callback(null);
    const seen: string[] = [];
    chained.addCallback((s) => {
      seen.push(s);
    });
    assert.deepEqual(seen, []);
    paused.unpause();
    assert.deepEqual(seen, ["expected"]);
  });

  await t.step("the inner one's later callbacks run even when the outer is paused", () => {
    const outer = new Deferred<number>();
    const inner = new Deferred<number>();
    const seen: [string, unknown][] = [];
    outer.addCallback(() => inner);
    outer.callback(0);
    inner.addCallback((r) => {
      seen.push(["inner", r]);
    });
    outer.pause();
    inner.callback(5);
    // The result went to the paused outer; the inner's own callback got
    // what is left, at once. (Twisted 22.4 leaves it waiting until another
    // callback is added to the inner one.)
    assert.deepEqual(seen, [["inner", undefined]]);
    outer.addCallback((r) => {
      seen.push(["outer", r]);
    });
    assert.deepEqual(seen, [["inner", undefined]]);
    outer.unpause();
    assert.deepEqual(seen, [["inner", undefined], ["outer", 5]]);
    // The inner one is done: a callback added now runs at once.
    inner.addCallback((r) => {
      seen.push(["inner again", r]);
    });
    assert.equal(seen.length, 3);
    assert.deepEqual(seen[2], ["inner again", undefined]);
  });

  await t.step("a callback added to the inner one while the outer runs still runs", () => {
    const outer = new Deferred<number>();
    const inner = new Deferred<number>();
    const seen: [string, unknown][] = [];
    outer.addCallback(() => inner).addCallback((r) => {
      seen.push(["outer", r]);
      inner.addCallback((x) => {
        seen.push(["added to inner", x]);
      });
    });
    outer.callback(0);
    inner.callback(7);
    assert.deepEqual(seen, [["outer", 7], ["added to inner", undefined]]);
  });
});

Deno.test("Deferred chains returned from callbacks are transitive", async (t) => {
  await t.step("C returned to B returned to A: firing C fires A", () => {
    // test_doubleAsynchronousImplicitChaining
    const first = new Deferred<object>();
    const second = new Deferred<null>();
    second.addCallback(() => first);
    const third = new Deferred<null>();
    third.addCallback(() => second);
    const thirdResult: unknown[] = [];
    third.addCallback((r) => {
      thirdResult.push(r);
    });
    const result = {};
    second.callback(null);
    third.callback(null);
    assert.deepEqual(thirdResult, []);
    first.callback(result);
    assert.equal(thirdResult.length, 1);
    assert.equal(thirdResult[0], result);
  });

  await t.step("callbacks added late to the middle Deferred still run", () => {
    // test_resultOfDeferredResultOfDeferredOfFiredDeferredCalled
    const first = new Deferred<null>();
    const second = new Deferred<null>();
    const third = new Deferred<string>();
    first.addCallback(() => second);
    second.addCallback(() => third);
    second.callback(null);
    first.callback(null);
    third.callback("done");
    const seen: unknown[] = [];
    second.addCallback((r) => {
      seen.push(r);
    });
    assert.deepEqual(seen, [undefined]);
    assert.equal(first.result, "done");
  });

  await t.step("a paused outer does not block the inner's own later callbacks", () => {
    // test_pausedDeferredChained
    const first = new Deferred<null>();
    const second = new Deferred<string>();
    first.addCallback(() => second);
    first.callback(null);
    first.pause();
    second.callback("handed on");
    const seen: unknown[] = [];
    second.addCallback((r) => {
      seen.push(r);
    });
    // It ran, with the result already handed to `first`.
    assert.deepEqual(seen, [undefined]);
    assert.equal(first.result, "handed on");
    const firstSeen: unknown[] = [];
    first.addCallback((r) => {
      firstSeen.push(r);
    });
    assert.deepEqual(firstSeen, []);
    first.unpause();
    assert.deepEqual(firstSeen, ["handed on"]);
  });
});

Deno.test("Deferred runs an inner Deferred's own callbacks before the outer resumes", async (t) => {
  await t.step("start-of-cb, firstCallback, secondCallback, then the outer", () => {
    // test_innerCallbacksPreserved
    const results: unknown[] = [];
    const failures: Failure[] = [];
    const inner = new Deferred<string>();
    const cb = (result: string) => {
      results.push(["start-of-cb", result]);
      const d = succeed("inner");
      d.addCallback(() => {
        results.push(["firstCallback", "inner"]);
        return inner;
      }).addCallback((r) => {
        results.push(["secondCallback", r]);
        return r + r;
      });
      d.addErrback((f) => {
        failures.push(f);
      });
      return d;
    };
    const outer = succeed("outer");
    outer.addCallback(cb);
    inner.callback("orange");
    outer.addCallback((r) => {
      results.push(r);
    });
    inner.addErrback((f) => {
      failures.push(f);
    });
    outer.addErrback((f) => {
      failures.push(f);
    });
    assert.deepEqual(failures, []);
    assert.deepEqual(results, [
      ["start-of-cb", "outer"],
      ["firstCallback", "inner"],
      ["secondCallback", "orange"],
      "orangeorange",
    ]);
  });

  for (const preFired of [false, true]) {
    await t.step(
      `later outer callbacks run after the inner chain (outer ${
        preFired ? "fired before" : "fired after"
      } adding callbacks)`,
      () => {
        // test_callbackOrderPreserved, test_continueCallbackNotFirst
        const results: unknown[] = [];
        const failures: Failure[] = [];
        const a = new Deferred<string>();
        const cb = (r: string) => {
          results.push(["cb", r]);
          const d = new Deferred<null>();
          d.addCallback(() => {
            results.push(["firstCallback"]);
            // Waits on `a` through a fired Deferred whose waiting marker is
            // not its first callback.
            const wrapper = new Deferred<null>();
            wrapper.addCallback(() => a).addCallback((x) => [x]);
            wrapper.callback(null);
            return wrapper;
          });
          d.addCallback((r2) => {
            results.push(["secondCallback", r2]);
          });
          d.addErrback((f) => {
            failures.push(f);
          });
          d.callback(null);
          return d;
        };
        const outer = preFired ? succeed("outer") : new Deferred<string>();
        outer.addCallback(cb);
        outer.addCallback(() => {
          results.push(["final"]);
        });
        outer.addErrback((f) => {
          failures.push(f);
        });
        if (!preFired) outer.callback("outer");
        assert.deepEqual(results, [["cb", "outer"], ["firstCallback"]]);
        a.callback("withers");
        assert.deepEqual(failures, []);
        assert.deepEqual(results, [
          ["cb", "outer"],
          ["firstCallback"],
          ["secondCallback", ["withers"]],
          ["final"],
        ]);
      },
    );
  }
});

Deno.test("Deferred fails with TypeError when a callback returns its own Deferred", () => {
  const d = new Deferred<number>();
  let seen: unknown;
  d.addCallback(() => d).addErrback((f) => {
    seen = f.value;
  });
  d.callback(1);
  assert.ok(seen instanceof TypeError);
  assert.match((seen as Error).message, /returned the Deferred it is attached to/);
});

Deno.test("Deferred given a Deferred as a plain value treats it as a value", async (t) => {
  await t.step("callbacks receive it; returning the holder from a callback does not hang", () => {
    const value = new Deferred<number>();
    const holder = succeed(value);
    const seen: unknown[] = [];
    succeed(1).addCallback(() => holder).addCallback((r) => {
      seen.push(r);
    });
    assert.deepEqual(seen, [value]);
    assert.equal(value.called, false);
  });

  await t.step("cancel() does not cancel the value", () => {
    let cancelled = 0;
    const value = new Deferred<number>(() => cancelled++);
    const holder = succeed(value);
    holder.cancel();
    assert.equal(cancelled, 0);
    assert.equal(value.called, false);
    assert.equal(holder.result, value);
  });
});

Deno.test("Deferred waits on a PromiseLike returned from a callback", async (t) => {
  await t.step("a real Promise: the chain waits for it to settle", async () => {
    let resolve!: (n: number) => void;
    const promise = new Promise<number>((r) => (resolve = r));
    const d = new Deferred<null>();
    const seen: unknown[] = [];
    d.addCallback(() => promise).addCallback((n) => {
      seen.push(n);
      return n;
    });
    d.callback(null);
    assert.deepEqual(seen, []);
    assert.ok(d.result instanceof Deferred);
    resolve(42);
    await promise;
    assert.deepEqual(seen, [42]);
    assert.equal(d.result, 42);
  });

  await t.step("a rejected Promise: the errback gets the original reason", async () => {
    const reason = new Error("rejected");
    const promise = Promise.reject(reason);
    const seen: unknown[] = [];
    succeed(null).addCallback(() => promise).addErrback((f) => {
      seen.push(f.value);
    });
    assert.deepEqual(seen, []);
    await turn();
    assert.deepEqual(seen, [reason]);
  });

  await t.step("a synchronous thenable is taken at once", () => {
    const thenable: PromiseLike<string> = {
      // deno-lint-ignore no-explicit-any
      then(onFulfilled?: any): any {
        onFulfilled("sync");
        return this;
      },
    };
    const seen: string[] = [];
    succeed(null).addCallback(() => thenable).addCallback((s) => {
      seen.push(s);
    });
    assert.deepEqual(seen, ["sync"]);
  });
});

// ---------------------------------------------------------------------------
// Stack depth and scale

function stackDepth(): number {
  return (new Error().stack ?? "").split("\n").length;
}

Deno.test("Deferred invokes the final callback at the same stack depth however long the chain", () => {
  // test_boundedStackDepth
  const previousLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  try {
    const chainDeferreds = (howMany: number): number => {
      const stack: number[] = [];
      const top = new Deferred<null>();
      const inners = Array.from({ length: howMany }, () => new Deferred<null>());
      const originals = [...inners];
      const last = new Deferred<null>();
      let inner = inners.pop()!;
      const first = inner;
      top.addCallback(() => first);
      top.addCallback(() => {
        stack.push(stackDepth());
      });
      while (inners.length > 0) {
        const newInner = inners.pop()!;
        inner.addCallback(() => newInner);
        inner = newInner;
      }
      inner.addCallback(() => last);
      top.callback(null);
      for (const d of originals) d.callback(null);
      assert.deepEqual(stack, []);
      last.callback(null);
      assert.equal(stack.length, 1);
      return stack[0];
    };
    const one = chainDeferreds(1);
    assert.equal(chainDeferreds(2), one);
    assert.equal(chainDeferreds(1000), one);
  } finally {
    Error.stackTraceLimit = previousLimit;
  }
});

const N = 100_000;

Deno.test("Deferred runs 100,000 nested returned Deferreds without stack overflow", async (t) => {
  const build = () => {
    const ds = Array.from({ length: N + 1 }, () => new Deferred<number>());
    for (let i = 0; i < N; i++) {
      const next = ds[i + 1];
      ds[i].addCallback(() => next).addCallback((n) => n + 1);
    }
    return ds;
  };

  await t.step("outermost fired first, innermost last", () => {
    const ds = build();
    for (let i = 0; i < N; i++) ds[i].callback(0);
    // Every level is waiting on the next one.
    assert.equal(ds[0].result, ds[1]);
    assert.equal(ds[N - 1].result, ds[N]);
    ds[N].callback(0);
    assert.equal(ds[0].result, N);
    // Each inner level handed its result on to the level above.
    assert.equal(ds[N - 1].result, undefined);
    assert.equal(ds[N].result, undefined);
  });

  await t.step("innermost-but-one fired first, innermost last", () => {
    const ds = build();
    for (let i = N - 1; i >= 0; i--) ds[i].callback(0);
    assert.equal(ds[0].result, ds[1]);
    ds[N].callback(0);
    assert.equal(ds[0].result, N);
  });

  await t.step("innermost fired first: every result is taken synchronously", () => {
    const ds = build();
    for (let i = N; i >= 0; i--) ds[i].callback(0);
    assert.equal(ds[0].result, N);
  });

  await t.step("a failure at the bottom reaches the top", () => {
    const ds = build();
    for (let i = 0; i < N; i++) ds[i].callback(0);
    const error = new Error("deep");
    ds[N].errback(error);
    assert.equal(failureOf(ds[0]).value, error);
  });
});

Deno.test("Deferred.chainDeferred() runs 100,000 links without stack overflow", async (t) => {
  await t.step("built front to back", () => {
    const ds = Array.from({ length: N + 1 }, () => new Deferred<number>());
    for (let i = 0; i < N; i++) ds[i].chainDeferred(ds[i + 1]);
    ds[0].callback(7);
    assert.equal(ds[N].result, 7);
    assert.equal(ds[0].result, undefined);
    assert.equal(ds[N - 1].result, undefined);
  });

  await t.step("built back to front, with a failure", () => {
    const ds = Array.from({ length: N + 1 }, () => new Deferred<number>());
    for (let i = N - 1; i >= 0; i--) ds[i].chainDeferred(ds[i + 1]);
    const error = new Error("chained");
    ds[0].errback(error);
    assert.equal(failureOf(ds[N]).value, error);
  });
});

// ---------------------------------------------------------------------------
// chainDeferred

Deno.test("Deferred.chainDeferred() fires the other Deferred with the result", async (t) => {
  await t.step("success", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const seen: unknown[] = [];
    a.chainDeferred(b).addCallback((r) => {
      seen.push(["a", r]);
    });
    b.addCallback((r) => {
      seen.push(["b", r]);
    });
    assert.equal(String(b), "Deferred { waiting on Deferred { waiting for a result } }");
    a.callback(3);
    assert.deepEqual(seen, [["b", 3], ["a", undefined]]);
  });

  await t.step("failure, leaving the source with no failure", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const error = new Error("chained failure");
    a.chainDeferred(b);
    a.errback(error);
    assert.equal(failureOf(b).value, error);
    assert.equal(a.result, undefined);
  });

  await t.step("to an already-fired Deferred: the source fails with AlreadyCalledError", () => {
    const a = new Deferred<number>();
    const b = succeed(1);
    a.chainDeferred(b);
    a.callback(2);
    assert.ok(failureOf(a).value instanceof AlreadyCalledError);
    assert.equal(b.result, 1);
  });

  await t.step("to a Deferred cancelled without canceller: the result is dropped", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    b.addErrback(() => -1);
    a.chainDeferred(b);
    b.cancel();
    assert.equal(b.result, -1);
    a.callback(2);
    assert.equal(a.result, undefined);
    assert.equal(b.result, -1);
  });

  await t.step("from an already-fired Deferred: at once", () => {
    const b = new Deferred<string>();
    succeed("now").chainDeferred(b);
    assert.equal(b.result, "now");
  });

  await t.step("to a paused Deferred: waits for unpause()", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    b.pause();
    const seen: number[] = [];
    b.addCallback((n) => {
      seen.push(n);
    });
    a.chainDeferred(b);
    a.callback(9);
    assert.equal(b.called, true);
    assert.deepEqual(seen, []);
    b.unpause();
    assert.deepEqual(seen, [9]);
  });
});

Deno.test("Deferred.toString() describes the state", () => {
  const d = new Deferred<number>();
  assert.equal(String(d), "Deferred { waiting for a result }");
  d.callback(5);
  assert.equal(String(d), "Deferred { result: 5 }");
  const f = fail(new RangeError("no"));
  assert.equal(String(f), "Deferred { failed: [Failure RangeError: no] }");
  f.addErrback(() => null);
  const outer = succeed(1).addCallback(() => new Deferred());
  assert.equal(String(outer), "Deferred { waiting on Deferred { waiting for a result } }");
});

Deno.test("Deferred.toString() of a chained Deferred says what it waits on, as Twisted's repr", async (t) => {
  await t.step("the inner Deferred's state, nested", () => {
    const inner = new Deferred<number>();
    inner.pause();
    const outer = succeed(1).addCallback(() => inner);
    inner.callback(5);
    assert.equal(String(outer), "Deferred { waiting on Deferred { result: 5 } }");
    inner.unpause();
    assert.equal(String(outer), "Deferred { result: 5 }");
  });
  await t.step("three levels in full, longer chains summed up", () => {
    const innermost = new Deferred<number>();
    let d: Deferred<unknown> = innermost;
    const levels: Deferred<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      const waitOn = d;
      d = succeed(0).addCallback(() => waitOn);
      levels.push(d);
    }
    assert.equal(
      String(levels[2]),
      "Deferred { waiting on Deferred { waiting on Deferred { waiting on Deferred { waiting " +
        "for a result } } } }",
    );
    assert.equal(
      String(levels[4]),
      "Deferred { waiting on a chain of 5 Deferreds, the last: Deferred { waiting for a result } }",
    );
    innermost.callback(1);
  });
  await t.step("a Deferred given to chainDeferred() waits on its source until fired", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    a.chainDeferred(b);
    assert.equal(String(b), "Deferred { waiting on Deferred { waiting for a result } }");
    a.callback(3);
    assert.equal(String(b), "Deferred { result: 3 }");
  });
  await t.step("two Deferreds waiting on each other are described, not followed forever", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    a.addCallback(() => b);
    b.addCallback(() => a);
    a.callback(1);
    b.callback(2);
    assert.equal(
      String(a),
      "Deferred { waiting on Deferred { waiting on Deferred { waiting on one of the above: a " +
        "cycle } } }",
    );
  });
  await t.step("Deno.inspect and console.log show the same", () => {
    const outer = succeed(1).addCallback(() => new Deferred());
    assert.equal(Deno.inspect(outer), String(outer));
    assert.equal(Deno.inspect([new Deferred()]), "[ Deferred { waiting for a result } ]");
  });
});

Deno.test("Deferred.callback, errback and cancel work unbound, like bound methods", async (t) => {
  await t.step("callback passed to callLater fires the Deferred", () => {
    const clock = new FakeClock();
    const d = new Deferred<number>();
    clock.callLater(0, d.callback, 7);
    clock.advance(0);
    assert.equal(successOf(d), 7);
  });
  await t.step("errback passed to callLater fails it", () => {
    const clock = new FakeClock();
    const d = new Deferred<number>();
    clock.callLater(1, d.errback, new RangeError("late"));
    clock.advance(1);
    const f = failureOf(d);
    assert.ok(f.value instanceof RangeError);
  });
  await t.step("cancel taken off the Deferred cancels it", () => {
    const d = new Deferred<number>();
    const { cancel } = d;
    cancel();
    assert.ok(failureOf(d).check(CancelledError));
  });
  await t.step("each is the same function every time it is read", () => {
    const d = new Deferred<number>();
    assert.equal(d.callback, d.callback);
    assert.equal(d.errback, d.errback);
    assert.equal(d.cancel, d.cancel);
    assert.notEqual(d.callback, new Deferred<number>().callback);
  });
  await t.step("an unbound callback still refuses a second result", () => {
    const d = new Deferred<number>();
    const fire = d.callback;
    fire(1);
    assert.throws(() => fire(2), AlreadyCalledError);
  });
  await t.step("a DeferredList's unbound cancel cancels its inputs", () => {
    const input = new Deferred<number>();
    const list = new DeferredList([input], { consumeErrors: true });
    const cancel = list.cancel;
    cancel();
    const [[succeeded, failure]] = successOf(list);
    assert.equal(succeeded, false);
    assert.ok(failure instanceof Failure && failure.check(CancelledError));
  });
});

// ---------------------------------------------------------------------------
// Cancellation

Deno.test("Deferred.cancel() without a canceller", async (t) => {
  await t.step("fails with CancelledError", () => {
    const d = new Deferred<number>();
    d.cancel();
    const f = failureOf(d);
    assert.ok(f.value instanceof CancelledError);
    assert.ok(f.check(CancelledError));
  });

  for (const late of ["callback", "errback"] as const) {
    await t.step(`swallows exactly one late ${late}; the next raises`, () => {
      const d = new Deferred<number>();
      const seen: unknown[] = [];
      d.addErrback((f) => {
        seen.push(f.value);
      });
      d.cancel();
      assert.equal(seen.length, 1);
      if (late === "callback") d.callback(1);
      else d.errback(new Error("late"));
      assert.equal(seen.length, 1);
      assert.throws(() => d.callback(2), AlreadyCalledError);
      assert.throws(() => d.errback(new Error("later")), AlreadyCalledError);
    });
  }

  await t.step("repeated cancels are no-ops", () => {
    const d = new Deferred<number>();
    const seen: unknown[] = [];
    d.addErrback((f) => {
      seen.push(f.value);
    });
    d.cancel();
    d.cancel();
    d.cancel();
    assert.equal(seen.length, 1);
    d.callback(1); // still exactly one late result swallowed
    assert.throws(() => d.callback(2), AlreadyCalledError);
  });
});

Deno.test("Deferred.cancel() with a canceller", async (t) => {
  await t.step("calls it once, with the Deferred, then fails with CancelledError", () => {
    const calls: Deferred<number>[] = [];
    const d = new Deferred<number>((x) => calls.push(x));
    const seen: unknown[] = [];
    d.addErrback((f) => {
      seen.push(f.value);
    });
    d.cancel();
    d.cancel();
    assert.equal(calls.length, 1);
    assert.equal(calls[0], d);
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof CancelledError);
  });

  await t.step("late results are not swallowed", () => {
    const d = new Deferred<number>(() => {});
    d.addErrback(() => null);
    d.cancel();
    assert.throws(() => d.callback(1), AlreadyCalledError);
  });

  await t.step("a canceller that calls back wins", () => {
    const d = new Deferred<string>((x) => x.callback("Callback Result"));
    d.cancel();
    assert.equal(successOf(d), "Callback Result");
  });

  await t.step("a canceller that errs back wins", () => {
    const error = new RangeError("canceller error");
    const d = new Deferred<string>((x) => x.errback(error));
    d.cancel();
    assert.equal(failureOf(d).value, error);
  });

  await t.step("is not called after the result arrived", () => {
    let calls = 0;
    const d = new Deferred<string>(() => calls++);
    d.callback("done");
    d.cancel();
    assert.equal(calls, 0);
    assert.equal(successOf(d), "done");
    const e = new Deferred<string>(() => calls++);
    e.errback(new Error("failed"));
    e.cancel();
    assert.equal(calls, 0);
    assert.equal(failureOf(e).getErrorMessage(), "failed");
  });

  await t.step("an exception from the canceller propagates out of cancel()", () => {
    const error = new Error("canceller broke");
    const d = new Deferred<number>(() => {
      throw error;
    });
    assert.throws(() => d.cancel(), (e) => e === error);
    assert.equal(d.called, false);
    d.callback(5);
    assert.equal(successOf(d), 5);
  });
});

Deno.test("Deferred.cancel() on a Deferred waiting on another cancels the inner one", async (t) => {
  await t.step("the inner canceller runs, not the outer's", () => {
    // test_cancelNestedDeferred
    const cancelled: string[] = [];
    const a = new Deferred<number>(() => cancelled.push("a"));
    const b = new Deferred<number>(() => cancelled.push("b"));
    a.addCallback(() => b);
    a.callback(1);
    a.cancel();
    assert.deepEqual(cancelled, ["b"]);
    assert.ok(failureOf(a).value instanceof CancelledError);
    assert.equal(b.result, undefined);
  });

  await t.step("an inner canceller's result flows to the outer", () => {
    const b = new Deferred<string>((x) => x.callback("from b's canceller"));
    const a = succeed(1).addCallback(() => b);
    a.cancel();
    assert.equal(successOf(a), "from b's canceller");
  });

  await t.step("through several levels", () => {
    const cancelled: string[] = [];
    const c = new Deferred<number>(() => cancelled.push("c"));
    const b = succeed(0).addCallback(() => c);
    const a = succeed(0).addCallback(() => b);
    a.cancel();
    assert.deepEqual(cancelled, ["c"]);
    assert.ok(failureOf(a).value instanceof CancelledError);
  });
});

// ---------------------------------------------------------------------------
// addTimeout

Deno.test("Deferred.addTimeout() fails with TimeoutError on expiry", () => {
  // test_timedOut
  const clock = new FakeClock();
  const d = new Deferred<string>();
  assert.equal(d.addTimeout(10, clock), d);
  assert.equal(clock.getDelayedCalls().length, 1);
  clock.advance(9);
  assertNoResult(d);
  clock.advance(6);
  const f = failureOf(d);
  assert.ok(f.value instanceof TimeoutError);
  assert.equal((f.value as TimeoutError).seconds, 10);
  assert.ok((f.value as TimeoutError).cause instanceof CancelledError);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("Deferred.addTimeout() uses onTimeoutCancel to decide the result", () => {
  // test_timedOutCustom
  const clock = new FakeClock();
  const d = new Deferred<string>();
  const calls: unknown[] = [];
  d.addTimeout(10, clock, (result, seconds) => {
    calls.push([result instanceof Failure && result.value instanceof CancelledError, seconds]);
    return "OVERRIDDEN";
  });
  clock.advance(15);
  assert.deepEqual(calls, [[true, 10]]);
  assert.equal(successOf(d), "OVERRIDDEN");
});

Deno.test("Deferred.addTimeout() lets the canceller's result win", async (t) => {
  await t.step("a success", () => {
    // test_timedOutProvidedCancelSuccess
    const clock = new FakeClock();
    const d = new Deferred<string>((x) => x.callback("I was cancelled!"));
    d.addTimeout(10, clock);
    clock.advance(15);
    assert.equal(successOf(d), "I was cancelled!");
  });

  await t.step("a failure", () => {
    // test_timedOutProvidedCancelFailure
    const clock = new FakeClock();
    const error = new RangeError("what!");
    const d = new Deferred<string>((x) => x.errback(error));
    d.addTimeout(10, clock);
    clock.advance(15);
    assert.equal(failureOf(d).value, error);
  });
});

Deno.test("Deferred.addTimeout() cancels its timer when the result comes first", async (t) => {
  await t.step("a success", () => {
    const clock = new FakeClock();
    const d = new Deferred<string>();
    d.addTimeout(10, clock);
    const [timer] = clock.getDelayedCalls();
    d.callback("in time");
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.equal(timer.active(), false);
    clock.advance(15);
    assert.equal(successOf(d), "in time");
  });

  await t.step("a failure", () => {
    const clock = new FakeClock();
    const d = new Deferred<string>();
    d.addTimeout(10, clock);
    d.errback(new Error("early"));
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.equal(failureOf(d).getErrorMessage(), "early");
  });

  await t.step("an already-fired Deferred", () => {
    const clock = new FakeClock();
    const d = succeed("already").addTimeout(10, clock);
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.equal(successOf(d), "already");
  });

  await t.step("an inner Deferred returned later is never cancelled", () => {
    // test_successResultBeforeTimeout
    const clock = new FakeClock();
    const d = new Deferred<string>();
    d.addTimeout(10, clock);
    let innerCancelled = false;
    const inner = new Deferred<null>(() => (innerCancelled = true));
    let got: string | undefined;
    d.addCallback((r) => {
      got = r;
      return inner;
    });
    d.callback("results");
    assert.equal(got, "results");
    clock.advance(15);
    assert.equal(innerCancelled, false);
    assertNoResult(inner);
  });
});

Deno.test("Deferred.addTimeout() keeps CancelledError on a manual cancel", () => {
  // test_cancelBeforeTimeout
  const clock = new FakeClock();
  const d = new Deferred<string>();
  d.addTimeout(10, clock);
  d.cancel();
  const f = failureOf(d);
  assert.ok(f.value instanceof CancelledError);
  assert.ok(!(f.value instanceof TimeoutError));
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("Deferred.addTimeout() covers only the callbacks added before it", async (t) => {
  await t.step("an earlier errback sees CancelledError; the Deferred times out", () => {
    // test_errbackAddedBeforeTimeout
    const clock = new FakeClock();
    const d = new Deferred<string>();
    let early: Failure | undefined;
    d.addErrback((f) => {
      early = f;
      return f;
    });
    d.addTimeout(10, clock);
    clock.advance(15);
    assert.ok(early?.value instanceof CancelledError);
    assert.ok(failureOf(d).value instanceof TimeoutError);
  });

  await t.step("an earlier errback that swallows the cancellation makes it succeed", () => {
    // test_errbackAddedBeforeTimeoutSuppressesCancellation
    const clock = new FakeClock();
    const d = new Deferred<string | null>();
    d.addErrback(() => null);
    d.addTimeout(10, clock);
    clock.advance(15);
    assert.equal(successOf(d), null);
  });

  await t.step("with onTimeoutCancel, after a swallowing errback", () => {
    // test_errbackAddedBeforeTimeoutSuppressesCancellationCustom
    const clock = new FakeClock();
    const d = new Deferred<string | null>();
    d.addErrback(() => null);
    d.addTimeout(10, clock, () => "OVERRIDDEN");
    clock.advance(15);
    assert.equal(successOf(d), "OVERRIDDEN");
  });

  await t.step("callbacks added after it see TimeoutError", () => {
    const clock = new FakeClock();
    const d = new Deferred<string>().addTimeout(5, clock);
    const seen: unknown[] = [];
    d.addErrback((f) => {
      seen.push(f.value instanceof TimeoutError);
    });
    clock.advance(5);
    assert.deepEqual(seen, [true]);
  });
});

// ---------------------------------------------------------------------------
// Promise interop

Deno.test("Deferred can be awaited", async (t) => {
  await t.step("a fired Deferred gives its result", async () => {
    assert.equal(await succeed(3), 3);
  });

  await t.step("a failed Deferred throws the original value", async () => {
    const error = new RangeError("original");
    const thrown: unknown[] = [];
    try {
      await fail(error);
    } catch (e) {
      thrown.push(e);
    }
    assert.deepEqual(thrown, [error]);
    assert.equal(thrown[0], error);
  });

  await t.step("a non-Error reason is thrown as it is", async () => {
    const reason = { why: "object" };
    let thrown: unknown;
    try {
      await fail(reason);
    } catch (e) {
      thrown = e;
    }
    assert.equal(thrown, reason);
  });

  await t.step("an unfired Deferred gives the result once it fires", async () => {
    const d = new Deferred<string>();
    const p = (async () => `got ${await d}`)();
    d.callback("later");
    assert.equal(await p, "got later");
  });

  await t.step("a paused chained Deferred gives its result once unpaused", async () => {
    // test_chained
    const inner = new Deferred<number>();
    inner.pause();
    const d = succeed(0).addCallback(() => inner);
    inner.callback(8);
    const p = (async () => await d)();
    await turn();
    let settled = false;
    p.then(() => (settled = true));
    await turn();
    assert.equal(settled, false);
    inner.unpause();
    assert.equal(await p, 8);
  });

  await t.step("the result stays for later callbacks", async () => {
    const d = succeed("kept");
    assert.equal(await d, "kept");
    assert.equal(successOf(d), "kept");
    const e = new Deferred<string>();
    const p = (async () => await e)();
    e.callback("also kept");
    assert.equal(await p, "also kept");
    assert.equal(successOf(e), "also kept");
  });

  await t.step("then() maps like Promise.then", async () => {
    const doubled = await succeed(21).then((n) => n * 2);
    assert.equal(doubled, 42);
    const recovered = await fail(new Error("e")).then(
      () => "no",
      (e) => `caught ${(e as Error).message}`,
    );
    assert.equal(recovered, "caught e");
  });
});

Deno.test("Deferred.asPromise() hands the result over", async (t) => {
  await t.step("a success; later callbacks get undefined", async () => {
    const d = new Deferred<number>();
    const p = d.asPromise();
    d.callback(5);
    assert.equal(await p, 5);
    assert.equal(successOf(d), undefined);
  });

  await t.step(
    "a failure rejects with the original value; the Deferred is left clean",
    async () => {
      const error = new Error("handed over");
      const d = fail<number>(error);
      const p = d.asPromise();
      assert.equal(d.result, undefined);
      let thrown: unknown;
      try {
        await p;
      } catch (e) {
        thrown = e;
      }
      assert.equal(thrown, error);
    },
  );
});

Deno.test("a thenable whose then throws fails the chain instead of escaping it", async (t) => {
  const hostile = {
    "a then() that throws": () => ({
      then(): never {
        throw new RangeError("then() threw");
      },
    }),
    "a then getter that throws": () => ({
      get then(): never {
        throw new RangeError("then() threw");
      },
    }),
  };
  for (const [name, make] of Object.entries(hostile)) {
    await t.step(`returned from a callback: ${name}`, () => {
      const d = new Deferred<number>();
      const seen: unknown[] = [];
      d.addCallback(make).addErrback((f) => {
        seen.push(f.value);
        return 1;
      });
      d.callback(0); // must not throw
      assert.equal(seen.length, 1);
      assert.ok(seen[0] instanceof RangeError);
      // Not wedged: later callbacks still run at once.
      d.addCallback((n) => seen.push(n));
      assert.deepEqual(seen.slice(1), [1]);
    });

    await t.step(`given to fromPromise(): ${name}`, () => {
      const d = Deferred.fromPromise(make() as unknown as PromiseLike<number>);
      assert.ok(failureOf(d).value instanceof RangeError);
    });
  }
});

Deno.test("Deferred.fromPromise() follows a Promise", async (t) => {
  await t.step("a resolution", async () => {
    const p = Promise.resolve("value");
    const d = Deferred.fromPromise(p);
    assertNoResult(d);
    await p;
    assert.equal(successOf(d), "value");
  });

  await t.step("a rejection, with the original reason", async () => {
    const reason = new TypeError("rejected");
    const d = Deferred.fromPromise(Promise.reject(reason));
    await turn();
    assert.equal(failureOf(d).value, reason);
  });

  await t.step("a rejection with a Failure keeps that Failure", async () => {
    const failure = new Failure("as failure");
    const d = Deferred.fromPromise(Promise.reject(failure));
    await turn();
    assert.equal(failureOf(d), failure);
  });

  await t.step("cancel() fails it at once and ignores the late answer", async () => {
    let resolve!: (s: string) => void;
    const p = new Promise<string>((r) => (resolve = r));
    const d = Deferred.fromPromise(p);
    const seen: unknown[] = [];
    d.addBoth((r) => {
      seen.push(r instanceof Failure ? r.value : r);
    });
    d.cancel();
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof CancelledError);
    resolve("too late");
    await p;
    await turn();
    assert.equal(seen.length, 1);
  });

  await t.step("cancel() ignores a late rejection too", async () => {
    let reject!: (e: unknown) => void;
    const p = new Promise<string>((_, r) => (reject = r));
    const d = Deferred.fromPromise(p);
    d.addErrback(() => "handled");
    d.cancel();
    reject(new Error("too late"));
    await turn();
    assert.equal(successOf(d), "handled");
  });
});

Deno.test("Deferred[Symbol.iterator] yields the Deferred once", () => {
  const d = succeed(1);
  const it = d[Symbol.iterator]();
  const first = it.next();
  assert.deepEqual(first, { done: false, value: d });
  assert.deepEqual(it.next("sent back"), { done: true, value: "sent back" });
});

Deno.test("Deferred.result inside a callback is the result that callback was given", () => {
  const d = new Deferred<number>();
  const seen: unknown[] = [];
  d.addCallback((n) => n + 1)
    .addCallback((n) => {
      seen.push(d.result, n);
      return n * 10;
    })
    .addCallback(() => seen.push(d.result));
  d.callback(1);
  assert.deepEqual(seen, [2, 2, 20]);
});
