import assert from "node:assert/strict";
import { Failure } from "../../defer/failure.ts";
import {
  formatLogEvent,
  getLogLevel,
  type LogEvent,
  Logger,
  setLogLevel,
  setLogSink,
} from "../../reactor/log.ts";

function capture(fn: () => void): { texts: string[]; events: LogEvent[] } {
  const texts: string[] = [];
  const events: LogEvent[] = [];
  const before = setLogSink((text, event) => {
    texts.push(text);
    events.push(event);
  });
  try {
    fn();
  } finally {
    setLogSink(before);
  }
  return { texts, events };
}

Deno.test("Logger prints the time, level, namespace and message", () => {
  const { texts, events } = capture(() => new Logger("chat").info("alice joined"));
  assert.equal(texts.length, 1);
  assert.match(texts[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[info\] chat: alice joined$/);
  assert.equal(events[0].level, "info");
  assert.equal(events[0].namespace, "chat");
  assert.equal(events[0].message, "alice joined");
  assert.ok(Math.abs(events[0].time.getTime() - Date.now()) < 5000);
});

Deno.test("Logger drops events below the minimum level", async (t) => {
  await t.step("debug is off by default", () => {
    assert.equal(getLogLevel(), "info");
    const { texts } = capture(() => new Logger("x").debug("hidden"));
    assert.deepEqual(texts, []);
  });
  await t.step("setLogLevel changes the minimum and returns the old one", () => {
    assert.equal(setLogLevel("warn"), "info");
    try {
      const { events } = capture(() => {
        const log = new Logger("x");
        log.debug("a");
        log.info("b");
        log.warn("c");
        log.error("d");
      });
      assert.deepEqual(events.map((e) => e.message), ["c", "d"]);
    } finally {
      setLogLevel("info");
    }
    setLogLevel("debug");
    try {
      const { events } = capture(() => new Logger("x").debug("shown"));
      assert.equal(events.length, 1);
    } finally {
      setLogLevel("info");
    }
  });
  await t.step("an unknown level is a TypeError", () => {
    assert.throws(() => setLogLevel("loud" as never), TypeError);
    assert.throws(() => new Logger("x").log("loud" as never, "m"), TypeError);
    assert.equal(getLogLevel(), "info");
  });
});

Deno.test("Logger prints an error's stack and cause, indented", () => {
  const error = new Error("outer", { cause: new RangeError("inner") });
  const { texts } = capture(() => new Logger("tcp").error("write failed", error));
  const lines = texts[0].split("\n");
  assert.match(lines[0], /\[error\] tcp: write failed$/);
  assert.equal(lines[1], "    Error: outer");
  assert.ok(lines.slice(1).every((line) => line.startsWith("    ")));
  assert.ok(texts[0].includes("Caused by: RangeError: inner"));
});

Deno.test("Logger prints a Failure's traceback", () => {
  const failure = new Failure(new TypeError("bad thing"));
  const { texts } = capture(() => new Logger("defer").warn("unhandled", failure));
  assert.ok(texts[0].includes("bad thing"));
  assert.ok(texts[0].split("\n").length > 1);
});

Deno.test("Logger prints values that are not errors", () => {
  assert.equal(
    formatLogEvent({
      time: new Date(0),
      level: "warn",
      namespace: "n",
      message: "m",
      error: { code: 7 },
    }),
    "1970-01-01T00:00:00.000Z [warn] n: m\n    { code: 7 }",
  );
});

Deno.test("A sink that throws does not make logging throw", () => {
  const before = setLogSink(() => {
    throw new Error("sink broke");
  });
  const original = console.error;
  const printed: unknown[] = [];
  console.error = (...args: unknown[]) => printed.push(...args);
  try {
    new Logger("x").info("still logged");
  } finally {
    console.error = original;
    setLogSink(before);
  }
  assert.ok(String(printed[0]).endsWith("[info] x: still logged"));
  assert.match(String(printed[1]), /The log sink failed: Error: sink broke/);
});

Deno.test("setLogSink refuses a non-function and restores the default with undefined", () => {
  assert.throws(() => setLogSink("stderr" as never), TypeError);
  const before = setLogSink(undefined);
  setLogSink(before);
});
