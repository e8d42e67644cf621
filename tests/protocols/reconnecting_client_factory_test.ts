import assert from "node:assert/strict";
import { Failure } from "../../defer/failure.ts";
import { Protocol, ReconnectingClientFactory } from "../../protocols/mod.ts";
import { FakeConnector, FakeTransport } from "./_fakes.ts";
import { Clock } from "../../reactor/clock.ts";

const ADDR = { type: "TCP", host: "127.0.0.1", port: 4321 } as const;
const LOST = new Failure(new Error("Connection was closed cleanly"));
const REFUSED = new Failure(new Error("Connection refused"));

function makeFactory(
  settings: Partial<
    Pick<
      ReconnectingClientFactory,
      "initialDelay" | "factor" | "maxDelay" | "jitter" | "maxRetries" | "random"
    >
  > = {},
): { factory: ReconnectingClientFactory; clock: Clock; connector: FakeConnector } {
  const clock = new Clock();
  const factory = new ReconnectingClientFactory();
  factory.protocol = Protocol;
  factory.clock = clock;
  Object.assign(factory, settings);
  return { factory, clock, connector: new FakeConnector() };
}

// Fails the connector's attempt as the reactor does: the connector goes back
// to disconnected, then the factory hears of it.
function failAttempt(factory: ReconnectingClientFactory, connector: FakeConnector): void {
  connector.state = "disconnected";
  factory.clientConnectionFailed(connector, REFUSED);
}

function assertClose(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, message ?? `${actual} is not ${expected}`);
}

// The delay of the one pending retry.
function pendingDelay(clock: Clock): number {
  const calls = clock.getDelayedCalls();
  assert.equal(calls.length, 1, "exactly one retry is pending");
  return calls[0].getTime() - clock.seconds();
}

Deno.test("ReconnectingClientFactory has Twisted's defaults", () => {
  const f = new ReconnectingClientFactory();
  assert.equal(f.maxDelay, 3600);
  assert.equal(f.initialDelay, 1.0);
  assert.equal(f.factor, 2.7182818284590451);
  assert.equal(f.jitter, 0.119626565582);
  assert.equal(f.maxRetries, null);
  assert.equal(f.clock, null);
  assert.equal(f.delay, 1.0);
  assert.equal(f.retries, 0);
  assert.equal(f.continueTrying, true);
  assert.equal(f.connector, null);
});

Deno.test("ReconnectingClientFactory waits initialDelay before the first retry", () => {
  const { factory, clock, connector } = makeFactory({ jitter: 0 });
  factory.clientConnectionFailed(connector, REFUSED);
  assert.equal(pendingDelay(clock), 1.0);
  assert.equal(factory.delay, 1.0);
  assert.equal(factory.retries, 1);
  clock.advance(0.999);
  assert.equal(connector.connects, 0);
  clock.advance(0.001);
  assert.equal(connector.connects, 1);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ReconnectingClientFactory multiplies the delay by factor, capped at maxDelay", () => {
  const { factory, clock, connector } = makeFactory({ jitter: 0 });
  const delays: number[] = [];
  for (let i = 0; i < 12; i++) {
    failAttempt(factory, connector);
    delays.push(pendingDelay(clock));
    clock.advance(delays[i]);
  }
  const expected = [1, Math.E, Math.E ** 2, Math.E ** 3, Math.E ** 4, Math.E ** 5, Math.E ** 6];
  expected.push(Math.E ** 7, Math.E ** 8, 3600, 3600, 3600);
  assert.equal(delays.length, expected.length);
  delays.forEach((d, i) => assertClose(d, expected[i], `retry ${i}: ${d}`));
  assert.equal(connector.connects, 12);
});

Deno.test("ReconnectingClientFactory settings can be overridden by subclass fields", () => {
  class Quick extends ReconnectingClientFactory {
    override initialDelay = 0.5;
    override factor = 2;
    override maxDelay = 3;
    override jitter = 0;
  }
  const clock = new Clock();
  const factory = new Quick();
  factory.clock = clock;
  const connector = new FakeConnector();
  assert.equal(factory.delay, 0.5, "delay reads as the subclass's initialDelay");
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    failAttempt(factory, connector);
    delays.push(pendingDelay(clock));
    clock.advance(delays[i]);
  }
  assert.deepEqual(delays, [0.5, 1, 2, 3, 3]);
});

Deno.test("ReconnectingClientFactory caps even the first delay at maxDelay", () => {
  const { factory, clock, connector } = makeFactory({ jitter: 0, initialDelay: 10, maxDelay: 4 });
  factory.clientConnectionFailed(connector, REFUSED);
  assert.equal(pendingDelay(clock), 4);
});

Deno.test("ReconnectingClientFactory jitter stays within [0, maxDelay]", async (t) => {
  await t.step("over 10,000 random draws, with a jitter that could go negative", () => {
    const { factory, clock, connector } = makeFactory({ jitter: 1.5, maxDelay: 50 });
    for (let i = 0; i < 10_000; i++) {
      if (i % 20 === 0) factory.resetDelay();
      failAttempt(factory, connector);
      const d = pendingDelay(clock);
      assert.ok(d >= 0, `negative delay ${d}`);
      assert.ok(d <= 50, `delay ${d} above maxDelay`);
      clock.advance(d);
    }
  });
  await t.step("over 10,000 random draws with the default jitter", () => {
    const { factory, clock, connector } = makeFactory({ maxDelay: 100 });
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 10_000; i++) {
      if (i % 10 === 0) factory.resetDelay();
      failAttempt(factory, connector);
      const d = pendingDelay(clock);
      const nominal = factory.delay;
      assert.ok(d >= nominal * (1 - factory.jitter) - 1e-9, `${d} below ${nominal}`);
      assert.ok(d <= Math.min(100, nominal * (1 + factory.jitter)) + 1e-9, `${d} above`);
      if (factory.retries === 1) {
        min = Math.min(min, d);
        max = Math.max(max, d);
      }
      clock.advance(d);
    }
    // The first delays spread over most of [0.88, 1.12].
    assert.ok(min < 0.9 && max > 1.1, `first delays in [${min}, ${max}]`);
  });
  await t.step("at the bounds of the random source", () => {
    for (const [r, expected] of [[0, 0.9], [0.5, 1], [0.999999, 1.1]] as const) {
      const { factory, clock, connector } = makeFactory({ jitter: 0.1, random: () => r });
      factory.clientConnectionFailed(connector, REFUSED);
      assert.ok(Math.abs(pendingDelay(clock) - expected) < 1e-5, `random ${r}`);
    }
  });
  await t.step("never above maxDelay once capped", () => {
    const { factory, clock, connector } = makeFactory({
      jitter: 0.5,
      maxDelay: 10,
      initialDelay: 10,
      random: () => 0.999999,
    });
    factory.clientConnectionFailed(connector, REFUSED);
    const d = pendingDelay(clock);
    assert.ok(d <= 10 && d > 9.9999, `${d}`);
  });
});

Deno.test("ReconnectingClientFactory jitter does not compound into the next delay", () => {
  const { factory, clock, connector } = makeFactory({ factor: 2, random: () => 0.999999 });
  failAttempt(factory, connector);
  clock.advance(pendingDelay(clock));
  failAttempt(factory, connector);
  assert.equal(factory.delay, 2);
});

Deno.test("ReconnectingClientFactory gives up after maxRetries", () => {
  const { factory, clock, connector } = makeFactory({ jitter: 0, maxRetries: 3 });
  for (let i = 0; i < 3; i++) {
    failAttempt(factory, connector);
    clock.advance(pendingDelay(clock));
  }
  assert.equal(connector.connects, 3);
  failAttempt(factory, connector);
  assert.equal(clock.getDelayedCalls().length, 0);
  assert.equal(factory.retries, 4);
  clock.advance(10_000);
  assert.equal(connector.connects, 3);
});

Deno.test("ReconnectingClientFactory with maxRetries 0 never retries", () => {
  const { factory, clock, connector } = makeFactory({ maxRetries: 0 });
  factory.clientConnectionFailed(connector, REFUSED);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ReconnectingClientFactory.clientConnectionLost() schedules exactly one call", () => {
  // Twisted's test_parametrizedClock.
  const { factory, clock, connector } = makeFactory();
  factory.clientConnectionLost(connector, LOST);
  assert.equal(clock.getDelayedCalls().length, 1);
  assert.equal(factory.connector, connector);
});

Deno.test("ReconnectingClientFactory reconnects the same connector", () => {
  const { factory, clock, connector } = makeFactory({ jitter: 0 });
  factory.clientConnectionLost(connector, LOST);
  clock.advance(1);
  assert.equal(connector.connects, 1);
  assert.equal(connector.state, "connecting");
  failAttempt(factory, connector);
  clock.advance(Math.E);
  assert.equal(connector.connects, 2);
  assert.equal(factory.connector, connector);
});

Deno.test("ReconnectingClientFactory.stopTrying() cancels the pending retry", () => {
  const { factory, clock, connector } = makeFactory();
  factory.clientConnectionFailed(connector, REFUSED);
  assert.equal(clock.getDelayedCalls().length, 1);
  factory.stopTrying();
  assert.equal(factory.continueTrying, false);
  assert.equal(clock.getDelayedCalls().length, 0);
  clock.advance(10_000);
  assert.equal(connector.connects, 0);
  factory.clientConnectionLost(connector, LOST);
  assert.equal(clock.getDelayedCalls().length, 0, "no retry after stopTrying");
});

Deno.test("ReconnectingClientFactory.stopTrying() does not reconnect an active connector", () => {
  // Twisted's test_stopTryingDoesNotReconnect: stopping the attempt makes the
  // connector report a failure at once, which must not schedule a retry.
  const { factory, clock } = makeFactory();
  class FactoryAwareConnector extends FakeConnector {
    override stopConnecting(): void {
      super.stopConnecting();
      factory.clientConnectionFailed(this, new Failure(new Error("User aborted")));
    }
  }
  const connector = new FactoryAwareConnector();
  connector.connect();
  factory.connector = connector;
  factory.stopTrying();
  assert.equal(connector.stops, 1);
  assert.equal(connector.connects, 1, "no further attempt");
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ReconnectingClientFactory.stopTrying() while connected does not stop or reconnect", () => {
  // Twisted's test_stopTryingWhenConnected.
  const { factory, clock } = makeFactory();
  class NoConnectConnector extends FakeConnector {
    override state = "connected" as const;
    override stopConnecting(): void {
      throw new Error("Shouldn't be called, we're connected");
    }
    override connect(): void {
      throw new Error("Shouldn't be reconnecting");
    }
  }
  const connector = new NoConnectConnector();
  factory.buildProtocol(ADDR);
  factory.connector = connector;
  factory.stopTrying();
  factory.clientConnectionLost(connector, LOST);
  assert.equal(factory.continueTrying, false);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ReconnectingClientFactory.stopTrying() ignores NotConnectingError", () => {
  const { factory } = makeFactory();
  class Racy extends FakeConnector {
    override state = "connecting" as const;
    override stopConnecting(): void {
      const e = new Error("Not connecting");
      e.name = "NotConnectingError";
      throw e;
    }
  }
  factory.connector = new Racy();
  factory.stopTrying();
  assert.equal(factory.continueTrying, false);
});

Deno.test("ReconnectingClientFactory.resetDelay() restarts the back-off and retrying", () => {
  const { factory, clock, connector } = makeFactory({ jitter: 0 });
  for (let i = 0; i < 4; i++) {
    failAttempt(factory, connector);
    clock.advance(pendingDelay(clock));
  }
  assert.equal(factory.retries, 4);
  assert.ok(factory.delay > 20);
  factory.stopTrying();
  factory.resetDelay();
  assert.equal(factory.retries, 0);
  assert.equal(factory.delay, 1);
  assert.equal(factory.continueTrying, true);
  failAttempt(factory, connector);
  assertClose(pendingDelay(clock), 1);
});

Deno.test("ReconnectingClientFactory.buildProtocol() does not reset the delay", () => {
  const { factory, clock, connector } = makeFactory({ jitter: 0 });
  failAttempt(factory, connector);
  clock.advance(1);
  const p = factory.buildProtocol(ADDR)!;
  p.makeConnection(new FakeTransport());
  assert.equal(factory.retries, 1);
  factory.clientConnectionLost(connector, LOST);
  assertClose(pendingDelay(clock), Math.E, "the back-off carries on");
});

Deno.test("ReconnectingClientFactory resets from connectionMade, as users should", () => {
  class Client extends Protocol {
    declare factory: ReconnectingClientFactory | null;
    override connectionMade(): void {
      this.factory!.resetDelay();
    }
  }
  const { factory, clock, connector } = makeFactory({ jitter: 0 });
  factory.protocol = Client;
  failAttempt(factory, connector);
  clock.advance(1);
  failAttempt(factory, connector);
  clock.advance(Math.E);
  factory.buildProtocol(ADDR)!.makeConnection(new FakeTransport());
  connector.state = "disconnected";
  factory.clientConnectionLost(connector, LOST);
  assertClose(pendingDelay(clock), 1);
});

Deno.test("ReconnectingClientFactory.retry() replaces a pending retry", () => {
  const { factory, clock, connector } = makeFactory({ jitter: 0 });
  factory.clientConnectionFailed(connector, REFUSED);
  factory.retry();
  assert.equal(pendingDelay(clock), Math.E);
  clock.advance(100);
  assert.equal(connector.connects, 1);
});

Deno.test("ReconnectingClientFactory.retry() without any connector throws", () => {
  const { factory } = makeFactory();
  assert.throws(() => factory.retry(), /no connector to retry/);
});

Deno.test("ReconnectingClientFactory.retry() uses a given connector", () => {
  const { factory, clock } = makeFactory({ jitter: 0 });
  const other = new FakeConnector();
  factory.retry(other);
  clock.advance(1);
  assert.equal(other.connects, 1);
});
