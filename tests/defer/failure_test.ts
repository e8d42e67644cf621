import assert from "node:assert/strict";
import { CancelledError, Failure, TimeoutError } from "../../defer/mod.ts";

class AppError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AppError";
  }
}

class SubAppError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "SubAppError";
  }
}

Deno.test("Failure keeps the thrown value and its type", async (t) => {
  await t.step("an Error", () => {
    const error = new RangeError("out of range");
    const f = new Failure(error);
    assert.equal(f.value, error);
    assert.equal(f.type, RangeError);
  });

  await t.step("a string", () => {
    const f = new Failure("text");
    assert.equal(f.value, "text");
    assert.equal(f.type, String);
  });

  await t.step("a plain object", () => {
    const value = { code: 1 };
    const f = new Failure(value);
    assert.equal(f.value, value);
    assert.equal(f.type, Object);
  });

  await t.step("null, undefined and prototype-less objects have no type", () => {
    assert.equal(new Failure(null).type, undefined);
    assert.equal(new Failure(undefined).type, undefined);
    assert.equal(new Failure(Object.create(null)).type, undefined);
  });
});

Deno.test("Failure of a Failure copies it", () => {
  // test_failureValueFromFailure
  const error = new Error("inner");
  const inner = new Failure(error);
  const outer = new Failure(inner);
  assert.notEqual(outer, inner);
  assert.equal(outer.value, error);
  assert.equal(outer.type, Error);
  assert.equal(outer.stack, inner.stack);
  const fromString = new Failure("s");
  assert.equal(new Failure(fromString).stack, fromString.stack);
});

Deno.test("Failure.from() returns a Failure as it is and wraps anything else", () => {
  const f = new Failure(new Error("x"));
  assert.equal(Failure.from(f), f);
  const error = new TypeError("y");
  const wrapped = Failure.from(error);
  assert.ok(wrapped instanceof Failure);
  assert.equal(wrapped.value, error);
  assert.equal(Failure.from(5).value, 5);
});

Deno.test("Failure.check() matches by class", async (t) => {
  const f = new Failure(new SubAppError("sub"));

  await t.step("the class itself, a superclass, and Error", () => {
    assert.equal(f.check(SubAppError), SubAppError);
    assert.equal(f.check(AppError), AppError);
    assert.equal(f.check(Error), Error);
  });

  await t.step("the first match among several", () => {
    assert.equal(f.check(TypeError, AppError, SubAppError), AppError);
  });

  await t.step("null when nothing matches", () => {
    assert.equal(f.check(TypeError, RangeError), null);
    assert.equal(f.check(), null);
  });

  await t.step("non-Error values", () => {
    class Custom {}
    assert.equal(new Failure(new Custom()).check(Error, Custom), Custom);
    assert.equal(new Failure("text").check(Error), null);
    assert.equal(new Failure(null).check(Error, Object), null);
  });
});

Deno.test("Failure.check() matches by name", async (t) => {
  await t.step("the error's name", () => {
    const f = new Failure(new SubAppError("sub"));
    assert.equal(f.check("SubAppError"), "SubAppError");
  });

  await t.step("a class name up the prototype chain", () => {
    const f = new Failure(new SubAppError("sub"));
    assert.equal(f.check("AppError"), "AppError");
    assert.equal(f.check("Error"), "Error");
  });

  await t.step("a name set on the instance only", () => {
    const error = new Error("renamed");
    error.name = "ConnectionLost";
    assert.equal(new Failure(error).check("ConnectionLost"), "ConnectionLost");
  });

  await t.step("torsion's own errors", () => {
    assert.equal(new Failure(new CancelledError()).check("CancelledError"), "CancelledError");
    assert.equal(new Failure(new TimeoutError(1)).check("TimeoutError"), "TimeoutError");
  });

  await t.step("no match", () => {
    const f = new Failure(new AppError("a"));
    assert.equal(f.check("SubAppError", "TypeError"), null);
    assert.equal(new Failure(null).check("Error"), null);
    assert.equal(new Failure(undefined).check("Error"), null);
  });

  await t.step("classes and names mixed, first match wins", () => {
    const f = new Failure(new TypeError("t"));
    assert.equal(f.check("RangeError", TypeError, "TypeError"), TypeError);
    assert.equal(f.check("TypeError", TypeError), "TypeError");
  });
});

Deno.test("Failure.trap() returns the match", () => {
  // test_failAndTrap
  const f = new Failure(new SubAppError("s"));
  assert.equal(f.trap(TypeError, AppError), AppError);
  assert.equal(f.trap("SubAppError"), "SubAppError");
});

Deno.test("Failure.trap() rethrows the identical original value", async (t) => {
  // test_trapRaisesWrappedException
  await t.step("an Error", () => {
    const error = new AppError("not trapped");
    const f = new Failure(error);
    let thrown: unknown;
    try {
      f.trap(TypeError, "RangeError");
    } catch (e) {
      thrown = e;
    }
    assert.equal(thrown, error);
  });

  await t.step("a non-Error value", () => {
    const value = { reason: "object" };
    let thrown: unknown;
    try {
      new Failure(value).trap(Error);
    } catch (e) {
      thrown = e;
    }
    assert.equal(thrown, value);
  });
});

Deno.test("Failure.raiseException() throws the original value", () => {
  const error = new AppError("raised");
  assert.throws(() => new Failure(error).raiseException(), (e) => e === error);
  assert.throws(() => new Failure(7).raiseException(), (e) => e === 7);
});

Deno.test("Failure.getErrorMessage() describes the value", async (t) => {
  await t.step("an Error: its message", () => {
    assert.equal(new Failure(new Error("the message")).getErrorMessage(), "the message");
  });

  await t.step("a string: itself", () => {
    assert.equal(new Failure("plain text").getErrorMessage(), "plain text");
  });

  await t.step("an object with a message", () => {
    assert.equal(new Failure({ message: "from object" }).getErrorMessage(), "from object");
  });

  await t.step("another object: as JSON", () => {
    assert.equal(new Failure({ code: 3, ok: false }).getErrorMessage(), '{"code":3,"ok":false}');
  });

  await t.step("an object that cannot be JSON", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(new Failure(cyclic).getErrorMessage(), "[object Object]");
  });

  await t.step("primitives", () => {
    assert.equal(new Failure(42).getErrorMessage(), "42");
    assert.equal(new Failure(null).getErrorMessage(), "null");
    assert.equal(new Failure(undefined).getErrorMessage(), "undefined");
  });
});

Deno.test("Failure.stack and getTraceback() show where it went wrong", async (t) => {
  await t.step("an Error: its own stack", () => {
    const error = new AppError("with stack");
    const f = new Failure(error);
    assert.equal(f.stack, error.stack);
    const tb = f.getTraceback();
    assert.ok(tb.startsWith("AppError: with stack\n"), tb);
    assert.match(tb, /failure_test\.ts/);
  });

  await t.step("the cause chain follows", () => {
    const root = new TypeError("root cause");
    const middle = new RangeError("middle", { cause: root });
    const top = new AppError("top");
    (top as Error).cause = middle;
    const tb = new Failure(top).getTraceback();
    const topAt = tb.indexOf("AppError: top");
    const middleAt = tb.indexOf("Caused by: RangeError: middle");
    const rootAt = tb.indexOf("Caused by: TypeError: root cause");
    assert.ok(topAt === 0, tb);
    assert.ok(middleAt > topAt, tb);
    assert.ok(rootAt > middleAt, tb);
  });

  await t.step("a non-Error cause is described", () => {
    const tb = new Failure(new Error("top", { cause: { code: 7 } })).getTraceback();
    assert.match(tb, /Caused by: \{"code":7\}/);
  });

  await t.step("a non-Error value gets a stack from where the Failure was made", () => {
    function makeFailure(): Failure {
      return new Failure("a thrown string");
    }
    const f = makeFailure();
    assert.match(f.stack, /makeFailure/);
    const tb = f.getTraceback();
    assert.ok(tb.startsWith("a thrown string\n"), tb);
    assert.match(tb, /makeFailure/);
    assert.match(tb, /failure_test\.ts/);
  });

  await t.step("an object value is described as JSON", () => {
    const tb = new Failure({ code: 5 }).getTraceback();
    assert.ok(tb.startsWith('{"code":5}\n'), tb);
  });
});

Deno.test("Failure.toString() names the type and message", () => {
  assert.equal(String(new Failure(new RangeError("r"))), "[Failure RangeError: r]");
  assert.equal(String(new Failure("s")), "[Failure String: s]");
  assert.equal(String(new Failure(null)), "[Failure object: null]");
  assert.equal(String(new Failure(undefined)), "[Failure undefined: undefined]");
});
