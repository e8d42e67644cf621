import assert from "node:assert/strict";
import { Deferred } from "../../defer/deferred.ts";
import { MultiService } from "../../application/multi_service.ts";
import { Service } from "../../application/service.ts";
import { setLogSink } from "../../reactor/log.ts";
import { assertNoResult, failureResultOf, successResultOf } from "../../testing/assertions.ts";

/** A service that records its life in `events` and can be made slow or failing. */
class Recorder extends Service {
  startResult: (() => Deferred<void> | void) | undefined;
  stopResult: (() => Deferred<void> | void) | undefined;
  constructor(name: string, readonly events: string[]) {
    super(name);
  }
  override privilegedStartService(): void {
    this.events.push(`privileged ${this.name}`);
  }
  override startService(): Deferred<void> | void {
    super.startService();
    this.events.push(`start ${this.name}`);
    return this.startResult?.();
  }
  override stopService(): Deferred<void> | void {
    super.stopService();
    this.events.push(`stop ${this.name}`);
    return this.stopResult?.();
  }
}

function captureLog(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const before = setLogSink((text) => lines.push(text));
  return { lines, restore: () => setLogSink(before) };
}

Deno.test("MultiService starts children in order and stops them in reverse", () => {
  const events: string[] = [];
  const root = new MultiService();
  for (const name of ["a", "b", "c"]) new Recorder(name, events).setServiceParent(root);
  root.privilegedStartService();
  successResultOf(root.startService());
  assert.equal(root.running, true);
  successResultOf(root.stopService());
  assert.equal(root.running, false);
  assert.deepEqual(events, [
    "privileged a",
    "privileged b",
    "privileged c",
    "start a",
    "start b",
    "start c",
    "stop c",
    "stop b",
    "stop a",
  ]);
});

Deno.test("MultiService.stopService() waits for every child's Deferred stop", () => {
  const events: string[] = [];
  const root = new MultiService();
  const slow = new Recorder("slow", events);
  const slower = new Recorder("slower", events);
  const stops = [new Deferred<void>(), new Deferred<void>()];
  slow.stopResult = () => stops[0];
  slower.stopResult = () => stops[1];
  slow.setServiceParent(root);
  slower.setServiceParent(root);
  root.startService();
  const stopped = root.stopService();
  // Neither child waits for the other: both were asked to stop.
  assert.deepEqual(events.slice(-2), ["stop slower", "stop slow"]);
  assertNoResult(stopped);
  stops[0].callback(undefined);
  assertNoResult(stopped);
  stops[1].callback(undefined);
  successResultOf(stopped);
});

Deno.test("MultiService: a child that fails to start fails the start, after the others", () => {
  const log = captureLog();
  try {
    const events: string[] = [];
    const root = new MultiService();
    const broken = new Recorder("broken", events);
    broken.startResult = () => {
      throw new Error("port in use");
    };
    const later = new Recorder("later", events);
    const slow = new Deferred<void>();
    later.startResult = () => slow;
    broken.setServiceParent(root);
    later.setServiceParent(root);
    const started = root.startService();
    assert.deepEqual(events, ["start broken", "start later"]);
    assertNoResult(started);
    slow.callback(undefined);
    assert.equal(failureResultOf(started, Error).getErrorMessage(), "port in use");
  } finally {
    log.restore();
  }
});

Deno.test("MultiService: the first failure to stop is the result, later ones are logged", () => {
  const log = captureLog();
  try {
    const events: string[] = [];
    const root = new MultiService();
    for (const name of ["a", "b", "c"]) {
      const child = new Recorder(name, events);
      if (name !== "b") {
        child.stopResult = () => {
          throw new Error(`${name} would not stop`);
        };
      }
      child.setServiceParent(root);
    }
    root.startService();
    const failure = failureResultOf(root.stopService(), Error);
    assert.equal(failure.getErrorMessage(), "c would not stop");
    assert.deepEqual(events.slice(-3), ["stop c", "stop b", "stop a"]);
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0], /another service failed to stop: a would not stop/);
  } finally {
    log.restore();
  }
});

Deno.test("MultiService: names, lookup, iteration and removal", async (t) => {
  const events: string[] = [];
  const root = new MultiService();
  const a = new Recorder("a", events);
  const b = new Recorder("b", events);
  a.setServiceParent(root);
  b.setServiceParent(root);
  await t.step("getServiceNamed finds a child, and throws for a stranger", () => {
    assert.equal(root.getServiceNamed("b"), b);
    assert.throws(() => root.getServiceNamed("zed"), RangeError);
  });
  await t.step("iteration is in the order added", () => {
    assert.deepEqual([...root], [a, b]);
  });
  await t.step("a second child with a taken name is refused and keeps no parent", () => {
    const twin = new Recorder("a", events);
    assert.throws(() => twin.setServiceParent(root), /two services named "a"/);
    assert.equal(twin.parent, undefined);
    assert.deepEqual([...root], [a, b]);
  });
  await t.step("a child added to a running parent starts at once", () => {
    root.startService();
    const late = new Recorder("late", events);
    late.setServiceParent(root);
    assert.equal(late.running, true);
    assert.deepEqual(events.slice(-2), ["privileged late", "start late"]);
  });
  await t.step("disowning a child of a running parent stops it and returns its stop", () => {
    const stop = new Deferred<void>();
    b.stopResult = () => stop;
    const stopped = b.disownServiceParent();
    assert.ok(stopped instanceof Deferred);
    assert.equal(b.parent, undefined);
    assert.equal(b.running, false);
    assert.throws(() => root.getServiceNamed("b"), RangeError);
    stop.callback(undefined);
    successResultOf(stopped);
    assert.throws(() => b.disownServiceParent(), /has no parent/);
  });
  await t.step("moving a child to another parent leaves the first", () => {
    const other = new MultiService();
    a.setServiceParent(other);
    assert.equal(a.parent, other);
    assert.deepEqual([...other], [a]);
    assert.ok(![...root].includes(a));
  });
});
