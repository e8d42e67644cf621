import assert from "node:assert/strict";
import { Deferred } from "../../defer/mod.ts";
import { SystemEventTriggers, type TriggerId } from "../../reactor/_event_triggers.ts";

function make(): { triggers: SystemEventTriggers; logged: string[] } {
  const logged: string[] = [];
  return { triggers: new SystemEventTriggers((m) => logged.push(m)), logged };
}

Deno.test("SystemEventTriggers.addSystemEventTrigger() rejects an unknown phase with a TypeError naming it", () => {
  const { triggers } = make();
  assert.throws(
    // @ts-expect-error: testing a bad phase
    () => triggers.addSystemEventTrigger("xxx", "test", () => {}),
    (e: unknown) => e instanceof TypeError && /"xxx"/.test(e.message),
  );
});

Deno.test("SystemEventTriggers.addSystemEventTrigger() rejects a non-function trigger", () => {
  const { triggers } = make();
  assert.throws(
    // @ts-expect-error: testing a bad trigger
    () => triggers.addSystemEventTrigger("before", "test", 42),
    TypeError,
  );
});

Deno.test("SystemEventTriggers.fireSystemEvent() runs before, during and after triggers in order", () => {
  const { triggers } = make();
  const events: string[] = [];
  const push = (e: string) => events.push(e);
  triggers.addSystemEventTrigger("after", "test", push, "first after");
  triggers.addSystemEventTrigger("during", "test", push, "first during");
  triggers.addSystemEventTrigger("before", "test", push, "first before");
  triggers.addSystemEventTrigger("before", "test", push, "second before");
  triggers.addSystemEventTrigger("during", "test", push, "second during");
  triggers.addSystemEventTrigger("after", "test", push, "second after");
  assert.deepEqual(events, []);
  let fired = false;
  triggers.fireSystemEvent("test").addCallback(() => (fired = true));
  assert.deepEqual(events, [
    "first before",
    "second before",
    "first during",
    "second during",
    "first after",
    "second after",
  ]);
  assert.equal(fired, true);
});

Deno.test("SystemEventTriggers.fireSystemEvent() of an event with no triggers fires at once", () => {
  const { triggers } = make();
  let fired = false;
  triggers.fireSystemEvent("nothing").addCallback(() => (fired = true));
  assert.equal(fired, true);
});

Deno.test("SystemEventTriggers.fireSystemEvent() only fires the named event", () => {
  const { triggers } = make();
  const events: string[] = [];
  triggers.addSystemEventTrigger("during", "a", () => events.push("a"));
  triggers.addSystemEventTrigger("during", "b", () => events.push("b"));
  triggers.fireSystemEvent("b");
  assert.deepEqual(events, ["b"]);
});

Deno.test("SystemEventTriggers.fireSystemEvent() waits for a Deferred from a before trigger", () => {
  const { triggers } = make();
  const events: string[] = [];
  const before = new Deferred<void>();
  triggers.addSystemEventTrigger("before", "test", () => before);
  triggers.addSystemEventTrigger("during", "test", () => events.push("during"));
  triggers.addSystemEventTrigger("after", "test", () => events.push("after"));
  let fired = false;
  triggers.fireSystemEvent("test").addCallback(() => (fired = true));
  assert.deepEqual(events, []);
  assert.equal(fired, false);
  before.callback(undefined);
  assert.deepEqual(events, ["during", "after"]);
  assert.equal(fired, true);
});

Deno.test("SystemEventTriggers.fireSystemEvent() waits for every before Deferred (multipleBeforeReturnDeferred)", () => {
  const { triggers } = make();
  const events: string[] = [];
  const first = new Deferred<void>();
  const second = new Deferred<void>();
  triggers.addSystemEventTrigger("before", "test", () => first);
  triggers.addSystemEventTrigger("before", "test", () => second);
  triggers.addSystemEventTrigger("during", "test", () => events.push("during"));
  triggers.fireSystemEvent("test");
  assert.deepEqual(events, []);
  first.callback(undefined);
  assert.deepEqual(events, []);
  second.callback(undefined);
  assert.deepEqual(events, ["during"]);
});

Deno.test("SystemEventTriggers.fireSystemEvent() waits for a promise from a before trigger", async () => {
  const { triggers } = make();
  const events: string[] = [];
  triggers.addSystemEventTrigger("before", "test", async () => {
    await Promise.resolve();
    events.push("before");
  });
  triggers.addSystemEventTrigger("during", "test", () => events.push("during"));
  const done = triggers.fireSystemEvent("test");
  assert.deepEqual(events, []);
  await done;
  assert.deepEqual(events, ["before", "during"]);
});

Deno.test("SystemEventTriggers.fireSystemEvent() runs later before triggers when one fires an earlier Deferred", () => {
  const { triggers } = make();
  const events: string[] = [];
  const first = new Deferred<void>();
  const second = new Deferred<void>();
  triggers.addSystemEventTrigger("before", "test", () => first);
  triggers.addSystemEventTrigger("before", "test", () => first.callback(undefined));
  triggers.addSystemEventTrigger("before", "test", () => {
    events.push("before");
    return second;
  });
  triggers.addSystemEventTrigger("during", "test", () => events.push("during"));
  triggers.fireSystemEvent("test");
  assert.deepEqual(events, ["before"]);
  second.callback(undefined);
  assert.deepEqual(events, ["before", "during"]);
});

Deno.test("SystemEventTriggers.fireSystemEvent() logs an error thrown by a trigger and runs the others", async (t) => {
  for (const phase of ["before", "during", "after"] as const) {
    await t.step(phase, () => {
      const { triggers, logged } = make();
      const events: string[] = [];
      triggers.addSystemEventTrigger(phase, "test", function raising() {
        throw new RangeError("simulated");
      });
      triggers.addSystemEventTrigger(phase, "test", () => events.push(phase));
      triggers.addSystemEventTrigger("after", "test", () => events.push("last"));
      let fired = false;
      triggers.fireSystemEvent("test").addCallback(() => (fired = true));
      assert.deepEqual(events, [phase, "last"]);
      assert.equal(logged.length, 1);
      assert.match(logged[0], new RegExp(`${phase} test trigger raising`));
      assert.match(logged[0], /RangeError: simulated/);
      assert.equal(fired, true);
    });
  }
});

Deno.test("SystemEventTriggers.fireSystemEvent() logs a failed before Deferred and carries on", () => {
  const { triggers, logged } = make();
  const events: string[] = [];
  const before = new Deferred<void>();
  triggers.addSystemEventTrigger("before", "test", () => before);
  triggers.addSystemEventTrigger("during", "test", () => events.push("during"));
  triggers.fireSystemEvent("test");
  before.errback(new Error("late failure"));
  assert.deepEqual(events, ["during"]);
  assert.equal(logged.length, 1);
  assert.match(logged[0], /late failure/);
});

Deno.test("SystemEventTriggers.fireSystemEvent() waits for Deferreds from during and after triggers before firing", () => {
  const { triggers } = make();
  const during = new Deferred<void>();
  const after = new Deferred<void>();
  const events: string[] = [];
  triggers.addSystemEventTrigger("during", "test", () => during);
  triggers.addSystemEventTrigger("after", "test", () => {
    events.push("after"); // not held by the during Deferred, as in Twisted
    return after;
  });
  let fired = false;
  triggers.fireSystemEvent("test").addCallback(() => (fired = true));
  assert.deepEqual(events, ["after"]);
  during.callback(undefined);
  assert.equal(fired, false);
  after.callback(undefined);
  assert.equal(fired, true);
});

Deno.test("SystemEventTriggers.fireSystemEvent() runs each trigger once", () => {
  const { triggers } = make();
  const events: string[] = [];
  triggers.addSystemEventTrigger("before", "test", () => events.push("before"));
  triggers.addSystemEventTrigger("during", "test", () => events.push("during"));
  triggers.addSystemEventTrigger("after", "test", () => events.push("after"));
  triggers.fireSystemEvent("test");
  triggers.fireSystemEvent("test");
  assert.deepEqual(events, ["before", "during", "after"]);
});

Deno.test("SystemEventTriggers.fireSystemEvent() keeps events independent while one waits", () => {
  const { triggers } = make();
  const events: string[] = [];
  const first = new Deferred<void>();
  const second = new Deferred<void>();
  triggers.addSystemEventTrigger("before", "first", () => {
    events.push("before first");
    return first;
  });
  triggers.addSystemEventTrigger("after", "first", () => events.push("after first"));
  triggers.addSystemEventTrigger("before", "second", () => {
    events.push("before second");
    return second;
  });
  triggers.addSystemEventTrigger("after", "second", () => events.push("after second"));
  triggers.fireSystemEvent("first");
  triggers.fireSystemEvent("second");
  assert.deepEqual(events, ["before first", "before second"]);
  first.callback(undefined);
  assert.deepEqual(events, ["before first", "before second", "after first"]);
  second.callback(undefined);
  assert.deepEqual(events, ["before first", "before second", "after first", "after second"]);
});

Deno.test("SystemEventTriggers.removeSystemEventTrigger() stops a trigger from running", () => {
  const { triggers } = make();
  const events: string[] = [];
  triggers.addSystemEventTrigger("before", "test", () => events.push("first"));
  const id = triggers.addSystemEventTrigger("before", "test", () => events.push("second"));
  triggers.removeSystemEventTrigger(id);
  triggers.fireSystemEvent("test");
  assert.deepEqual(events, ["first"]);
});

Deno.test("SystemEventTriggers.removeSystemEventTrigger() throws for an unknown or removed id", () => {
  const { triggers } = make();
  const id = triggers.addSystemEventTrigger("during", "test", () => {});
  triggers.removeSystemEventTrigger(id);
  assert.throws(() => triggers.removeSystemEventTrigger(id), /is not registered/);
  assert.throws(
    () => triggers.removeSystemEventTrigger({ event: "test", phase: "during" }),
    TypeError,
  );
  assert.throws(() => triggers.removeSystemEventTrigger(null as unknown as TriggerId), TypeError);
  const other = make().triggers;
  const foreign = other.addSystemEventTrigger("during", "test", () => {});
  assert.throws(() => triggers.removeSystemEventTrigger(foreign), /is not registered/);
});

Deno.test("SystemEventTriggers.removeSystemEventTrigger() throws for a trigger that already ran", () => {
  const { triggers } = make();
  const id = triggers.addSystemEventTrigger("during", "test", () => {});
  triggers.fireSystemEvent("test");
  assert.throws(() => triggers.removeSystemEventTrigger(id), /already removed or already run/);
});

Deno.test("SystemEventTriggers.removeSystemEventTrigger() of a pending before trigger during firing skips it", () => {
  const { triggers } = make();
  const events: string[] = [];
  const ref: { id?: TriggerId } = {};
  triggers.addSystemEventTrigger(
    "before",
    "test",
    () => triggers.removeSystemEventTrigger(ref.id!),
  );
  ref.id = triggers.addSystemEventTrigger("before", "test", () => events.push("first"));
  triggers.addSystemEventTrigger("before", "test", () => events.push("second"));
  triggers.fireSystemEvent("test");
  assert.deepEqual(events, ["second"]);
});

Deno.test("SystemEventTriggers.removeSystemEventTrigger() of a before trigger that already ran is ignored while firing", () => {
  const { triggers, logged } = make();
  const events: string[] = [];
  const id = triggers.addSystemEventTrigger("before", "test", () => events.push("first"));
  triggers.addSystemEventTrigger("before", "test", () => triggers.removeSystemEventTrigger(id));
  triggers.addSystemEventTrigger("before", "test", () => events.push("second"));
  triggers.fireSystemEvent("test");
  assert.deepEqual(events, ["first", "second"]);
  assert.deepEqual(logged, []);
});

Deno.test("SystemEventTriggers.removeSystemEventTrigger() from a before trigger skips a during trigger", () => {
  const { triggers } = make();
  const events: string[] = [];
  const ref: { id?: TriggerId } = {};
  triggers.addSystemEventTrigger(
    "before",
    "test",
    () => triggers.removeSystemEventTrigger(ref.id!),
  );
  ref.id = triggers.addSystemEventTrigger("during", "test", () => events.push("during"));
  triggers.addSystemEventTrigger("after", "test", () => events.push("after"));
  triggers.fireSystemEvent("test");
  assert.deepEqual(events, ["after"]);
});

Deno.test("SystemEventTriggers.removeSystemEventTrigger() while before Deferreds are pending skips a during trigger", () => {
  const { triggers } = make();
  const events: string[] = [];
  const before = new Deferred<void>();
  triggers.addSystemEventTrigger("before", "test", () => before);
  const id = triggers.addSystemEventTrigger("during", "test", () => events.push("during"));
  triggers.addSystemEventTrigger("after", "test", () => events.push("after"));
  triggers.fireSystemEvent("test");
  triggers.removeSystemEventTrigger(id);
  before.callback(undefined);
  assert.deepEqual(events, ["after"]);
});

Deno.test("SystemEventTriggers.removeSystemEventTrigger() removes exactly the given trigger, not a look-alike", () => {
  const { triggers, logged } = make();
  const events: string[] = [];
  const trigger = () => events.push("trigger");
  triggers.addSystemEventTrigger("before", "test", trigger);
  const ref: { id?: TriggerId } = {};
  triggers.addSystemEventTrigger(
    "before",
    "test",
    () => triggers.removeSystemEventTrigger(ref.id!),
  );
  ref.id = triggers.addSystemEventTrigger("during", "test", trigger);
  triggers.fireSystemEvent("test");
  assert.deepEqual(events, ["trigger"]);
  assert.deepEqual(logged, []);
});

Deno.test("SystemEventTriggers.removeSystemEventTrigger() from a during trigger skips a pending during trigger", () => {
  const { triggers } = make();
  const events: string[] = [];
  const ref: { id?: TriggerId } = {};
  triggers.addSystemEventTrigger(
    "during",
    "test",
    () => triggers.removeSystemEventTrigger(ref.id!),
  );
  ref.id = triggers.addSystemEventTrigger("during", "test", () => events.push("first"));
  triggers.addSystemEventTrigger("during", "test", () => events.push("second"));
  triggers.fireSystemEvent("test");
  assert.deepEqual(events, ["second"]);
});

Deno.test("SystemEventTriggers trigger ids name their event and phase", () => {
  const { triggers } = make();
  const id = triggers.addSystemEventTrigger("after", "shutdown", () => {});
  assert.equal(id.event, "shutdown");
  assert.equal(id.phase, "after");
});
