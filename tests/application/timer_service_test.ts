import assert from "node:assert/strict";
import { Deferred } from "../../defer/deferred.ts";
import { TimerService } from "../../application/timer_service.ts";
import { Clock } from "../../reactor/clock.ts";
import { setLogSink } from "../../reactor/log.ts";
import { assertNoResult, successResultOf } from "../../testing/assertions.ts";

Deno.test("TimerService calls at once, then every step, with its arguments", () => {
  const clock = new Clock();
  const calls: Array<[number, string]> = [];
  const timer = new TimerService(5, (word: string) => calls.push([clock.seconds(), word]), "tick");
  timer.clock = clock;
  timer.startService();
  clock.advance(5);
  clock.advance(4);
  successResultOf(timer.stopService());
  clock.advance(100);
  assert.deepEqual(calls, [[0, "tick"], [5, "tick"]]);
  assert.equal(timer.running, false);
});

Deno.test("TimerService.stopService() waits for the call under way", () => {
  const clock = new Clock();
  let pending: Deferred<void> | undefined;
  const timer = new TimerService(1, () => (pending = new Deferred<void>()));
  timer.clock = clock;
  timer.startService();
  const stopped = timer.stopService();
  assertNoResult(stopped);
  assert.equal(timer.running, true);
  pending!.callback(undefined);
  successResultOf(stopped);
  assert.equal(timer.running, false);
});

Deno.test("TimerService: a failing call is logged and ends the calls", () => {
  const lines: string[] = [];
  const before = setLogSink((text) => lines.push(text));
  try {
    const clock = new Clock();
    let calls = 0;
    const timer = new TimerService(1, () => {
      if (++calls === 2) throw new Error("disk full");
    });
    timer.clock = clock;
    timer.startService();
    clock.advance(1);
    clock.advance(1);
    assert.equal(calls, 2);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /\[error\] service: a timer's call failed/);
    assert.match(lines[0], /disk full/);
    successResultOf(timer.stopService());
  } finally {
    setLogSink(before);
  }
});

Deno.test("TimerService restarts with a fresh loop, and refuses a bad step", () => {
  const clock = new Clock();
  let calls = 0;
  const timer = new TimerService(1, () => calls++);
  timer.clock = clock;
  timer.startService();
  successResultOf(timer.stopService());
  timer.startService();
  clock.advance(1);
  successResultOf(timer.stopService());
  assert.equal(calls, 3);
  assert.throws(() => new TimerService(-1, () => {}), RangeError);
  assert.throws(() => new TimerService(NaN, () => {}), RangeError);
});
