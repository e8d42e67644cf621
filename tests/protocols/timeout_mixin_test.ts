import assert from "node:assert/strict";
import type { Failure } from "../../defer/failure.ts";
import type { DelayedCall } from "../../defer/time.ts";
import { LineReceiver } from "../../protocols/line_receiver.ts";
import { Protocol } from "../../protocols/protocol.ts";
import { ConnectionTimeout, TimeoutMixin } from "../../protocols/timeout_mixin.ts";
import { Clock, StringTransport } from "../../testing/mod.ts";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

// Twisted's TimeoutTester: times out after 3 seconds, resets on data.
class TimeoutTester extends TimeoutMixin(Protocol) {
  override timeOut: number | null = 3;
  timedOut = false;

  constructor(clock: Clock) {
    super();
    this.clock = clock;
  }
  override connectionMade(): void {
    this.setTimeout(this.timeOut);
  }
  override dataReceived(data: Uint8Array): void {
    this.resetTimeout();
    super.dataReceived(data);
  }
  override connectionLost(reason: Failure): void {
    this.setTimeout(null);
    super.connectionLost(reason);
  }
  override timeoutConnection(): void {
    this.timedOut = true;
  }
}

Deno.test("TimeoutMixin schedules on the clock it is given", () => {
  const clock = new Clock();
  const p = new TimeoutTester(clock);
  p.setTimeout(10);
  assert.equal(clock.getDelayedCalls().length, 1);
  assert.equal(clock.getDelayedCalls()[0].getTime(), 10);
  p.setTimeout(null);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("TimeoutMixin times out at timeOut seconds", () => {
  const clock = new Clock();
  const p = new TimeoutTester(clock);
  p.makeConnection(new StringTransport());
  clock.pump([0, 0.5, 1.0, 1.0]);
  assert.equal(p.timedOut, false);
  clock.pump([0, 1.0]);
  assert.equal(p.timedOut, true);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("TimeoutMixin.resetTimeout() on data delays the timeout", () => {
  const clock = new Clock();
  const p = new TimeoutTester(clock);
  p.makeConnection(new StringTransport());
  clock.pump([0, 0.5, 1.0, 1.0]);
  assert.equal(p.timedOut, false);
  p.dataReceived(encode("hello there"));
  clock.pump([0, 1.0, 1.0, 0.5]);
  assert.equal(p.timedOut, false);
  clock.pump([0, 1.0]);
  assert.equal(p.timedOut, true);
});

Deno.test("TimeoutMixin.setTimeout() replaces the period", () => {
  const clock = new Clock();
  const p = new TimeoutTester(clock);
  p.timeOut = null;
  p.makeConnection(new StringTransport());
  assert.equal(clock.getDelayedCalls().length, 0);
  p.setTimeout(1);
  assert.equal(p.timeOut, 1);
  clock.pump([0, 0.9]);
  assert.equal(p.timedOut, false);
  clock.pump([0, 0.2]);
  assert.equal(p.timedOut, true);
});

Deno.test("TimeoutMixin.setTimeout() moves a pending timer", () => {
  const clock = new Clock();
  const p = new TimeoutTester(clock);
  p.makeConnection(new StringTransport());
  clock.advance(2);
  p.setTimeout(5);
  assert.equal(clock.getDelayedCalls().length, 1);
  clock.advance(4.9);
  assert.equal(p.timedOut, false);
  clock.advance(0.1);
  assert.equal(p.timedOut, true);
});

Deno.test("TimeoutMixin.setTimeout(null) cancels the timeout", () => {
  const clock = new Clock();
  const p = new TimeoutTester(clock);
  p.timeOut = 5;
  p.makeConnection(new StringTransport());
  p.setTimeout(null);
  assert.equal(p.timeOut, null);
  clock.pump([0, 5, 5, 5]);
  assert.equal(p.timedOut, false);
  p.resetTimeout(); // nothing to reset
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("TimeoutMixin.setTimeout() returns the previous period", () => {
  const clock = new Clock();
  const p = new TimeoutTester(clock);
  p.timeOut = 5;
  assert.equal(p.setTimeout(10), 5);
  assert.equal(p.setTimeout(null), 10);
  assert.equal(p.setTimeout(1), null);
  assert.equal(p.timeOut, 1);
  p.setTimeout(null);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("TimeoutMixin survives a timer cancelled from outside", () => {
  const clock = new Clock();
  const p = new TimeoutTester(clock);
  p.setTimeout(3);
  clock.getDelayedCalls()[0].cancel();
  assert.equal(p.timeOut, 3);
  p.resetTimeout(); // ignored, no AlreadyCancelled
  assert.equal(p.setTimeout(null), 3);
  assert.equal(p.timeOut, null);
  p.setTimeout(2); // a new timer replaces the cancelled one
  clock.advance(2);
  assert.equal(p.timedOut, true);
});

Deno.test("TimeoutMixin.timeoutConnection() closes the connection by default", () => {
  class Idle extends TimeoutMixin(Protocol) {
    override connectionMade(): void {
      this.setTimeout(1);
    }
  }
  const clock = new Clock();
  const p = new Idle();
  p.clock = clock;
  const transport = new StringTransport();
  p.makeConnection(transport);
  clock.advance(1);
  assert.equal(transport.disconnecting, true);
  // Without a transport, there is nothing to close.
  const lone = new Idle();
  lone.clock = clock;
  lone.setTimeout(1);
  clock.advance(1);
  assert.equal(lone.transport, null);
});

Deno.test("TimeoutMixin.callLater() can be overridden, as in Twisted", () => {
  const scheduled: number[] = [];
  class Custom extends TimeoutMixin(Protocol) {
    readonly clockOfMine = new Clock();
    override callLater(period: number, fn: () => void): DelayedCall {
      scheduled.push(period);
      return this.clockOfMine.callLater(period, fn);
    }
  }
  const p = new Custom();
  p.setTimeout(7);
  assert.deepEqual(scheduled, [7]);
  p.setTimeout(null);
});

Deno.test("TimeoutMixin works over any base class", () => {
  class Lines extends TimeoutMixin(LineReceiver) {
    lines: string[] = [];
    override connectionMade(): void {
      this.setTimeout(2);
    }
    override lineReceived(line: string): void {
      this.resetTimeout();
      this.lines.push(line);
    }
  }
  const clock = new Clock();
  const p = new Lines();
  p.clock = clock;
  const transport = new StringTransport();
  p.makeConnection(transport);
  clock.advance(1.5);
  p.dataReceived(encode("one\r\n"));
  clock.advance(1.5);
  assert.deepEqual(p.lines, ["one"]);
  assert.equal(transport.disconnecting, false);
  clock.advance(0.5);
  assert.equal(transport.disconnecting, true);
  assert.ok(p instanceof LineReceiver);
});

Deno.test("ConnectionTimeout fires after an idle period", () => {
  const clock = new Clock();
  const fired: number[] = [];
  const timer = new ConnectionTimeout(() => fired.push(clock.seconds()), clock);
  assert.equal(timer.pending, false);
  assert.equal(timer.setTimeout(3), null);
  assert.equal(timer.pending, true);
  clock.advance(2);
  timer.resetTimeout();
  clock.advance(2.5);
  assert.deepEqual(fired, []);
  clock.advance(0.5);
  assert.deepEqual(fired, [5]);
  assert.equal(timer.pending, false);
  assert.equal(timer.timeOut, 3);
  timer.resetTimeout(); // fired: nothing to reset
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ConnectionTimeout.setTimeout() moves, restarts and cancels", () => {
  const clock = new Clock();
  let fired = 0;
  const timer = new ConnectionTimeout(() => fired++, clock);
  timer.setTimeout(10);
  clock.advance(1);
  assert.equal(timer.setTimeout(2), 10);
  assert.equal(clock.getDelayedCalls()[0].getTime(), 3);
  timer.cancel();
  assert.equal(timer.timeOut, null);
  assert.equal(timer.pending, false);
  clock.advance(10);
  assert.equal(fired, 0);
  assert.equal(timer.setTimeout(1), null);
  clock.advance(1);
  assert.equal(fired, 1);
  // A timer that fired is started afresh.
  timer.setTimeout(1);
  clock.advance(1);
  assert.equal(fired, 2);
});

Deno.test("ConnectionTimeout rejects a bad period", () => {
  const timer = new ConnectionTimeout(() => {}, new Clock());
  assert.throws(() => timer.setTimeout(-1), RangeError);
  assert.equal(timer.pending, false);
});
