import assert from "node:assert/strict";
import { Deferred } from "../../defer/deferred.ts";
import { CancelledError } from "../../defer/errors.ts";
import type { Failure } from "../../defer/failure.ts";
import { backoffPolicy, ClientService } from "../../reactor/client_service.ts";
import { Clock } from "../../reactor/clock.ts";
import {
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
} from "../../reactor/connection_errors.ts";
import { reactor } from "../../reactor/deno_reactor.ts";
import { TCP4ClientEndpoint } from "../../reactor/endpoints.ts";
import type { FactoryLike, ProtocolLike, Transport } from "../../reactor/interfaces.ts";
import { setLogSink } from "../../reactor/log.ts";
import { StringTransportWithDisconnection } from "../../testing/string_transport.ts";
import { assertNoResult, failureResultOf, successResultOf } from "../../testing/assertions.ts";
import { within } from "../_helpers.ts";

class Probe implements ProtocolLike {
  transport: Transport | null = null;
  lost: Failure | undefined;
  makeConnection(t: Transport): void {
    this.transport = t;
  }
  dataReceived(): void {}
  connectionLost(reason: Failure): void {
    this.lost = reason;
  }
}

/** An endpoint whose attempts the test settles by hand. */
class FakeEndpoint {
  attempts: { factory: FactoryLike; d: Deferred<ProtocolLike>; cancelled: boolean }[] = [];
  connect(factory: FactoryLike): Deferred<ProtocolLike> {
    const attempt = {
      factory,
      d: undefined as unknown as Deferred<ProtocolLike>,
      cancelled: false,
    };
    attempt.d = new Deferred<ProtocolLike>(() => (attempt.cancelled = true));
    this.attempts.push(attempt);
    return attempt.d;
  }
  /** Completes the last attempt with a connected protocol. */
  succeed(): Probe {
    const { factory, d } = this.attempts.at(-1)!;
    const protocol = factory.buildProtocol({ type: "TCP", host: "h", port: 1 }) as Probe;
    const transport = new StringTransportWithDisconnection();
    transport.protocol = protocol;
    protocol.makeConnection(transport);
    d.callback(protocol);
    return protocol;
  }
  /** Fails the last attempt. */
  fail(): void {
    this.attempts.at(-1)!.d.errback(new ConnectionRefusedError());
  }
}

const probes: FactoryLike = {
  buildProtocol: () => new Probe(),
  doStart() {},
  doStop() {},
};

function service(endpoint: FakeEndpoint, clock: Clock, extra = {}): ClientService {
  return new ClientService(endpoint, probes, {
    clock,
    retryPolicy: backoffPolicy(1, 10, 2, () => 0),
    ...extra,
  });
}

Deno.test("backoffPolicy grows by the factor, caps at maxDelay, then adds jitter", () => {
  assert.deepEqual([0, 1, 2, 3, 4].map(backoffPolicy(1, 60, 1.5, () => 0)), [
    1,
    1.5,
    2.25,
    3.375,
    5.0625,
  ]);
  assert.equal(backoffPolicy(1, 5, 2, () => 0.25)(10), 5.25);
  assert.throws(() => backoffPolicy(-1), RangeError);
  assert.throws(() => backoffPolicy(1, 60, 0.5), RangeError);
  const defaults = backoffPolicy();
  const d = defaults(1);
  assert.ok(d >= 1.5 && d < 2.5);
});

Deno.test("ClientService connects on start and hands out the protocol", () => {
  const clock = new Clock();
  const endpoint = new FakeEndpoint();
  const s = service(endpoint, clock);
  failureResultOf(s.whenConnected(), CancelledError);
  s.startService();
  assert.equal(s.running, true);
  assert.equal(endpoint.attempts.length, 1);
  const waiting = s.whenConnected();
  assertNoResult(waiting);
  const protocol = endpoint.succeed();
  assert.equal(successResultOf(waiting), protocol);
  assert.equal(successResultOf(s.whenConnected()), protocol, "at once when connected");
  s.startService();
  assert.equal(endpoint.attempts.length, 1, "starting again does nothing");
});

Deno.test("ClientService retries with growing delays and resets them on success", () => {
  const clock = new Clock();
  const endpoint = new FakeEndpoint();
  const s = service(endpoint, clock);
  s.startService();
  endpoint.fail(); // 1 failure: wait 2 s
  clock.advance(1.9);
  assert.equal(endpoint.attempts.length, 1);
  clock.advance(0.1);
  assert.equal(endpoint.attempts.length, 2);
  endpoint.fail(); // 2 failures: wait 4 s
  clock.advance(3.9);
  assert.equal(endpoint.attempts.length, 2);
  clock.advance(0.1);
  assert.equal(endpoint.attempts.length, 3);
  const protocol = endpoint.succeed();
  // Lost: one failure again, so 2 s, not 8.
  protocol.transport!.loseConnection();
  clock.advance(1.9);
  assert.equal(endpoint.attempts.length, 3);
  clock.advance(0.1);
  assert.equal(endpoint.attempts.length, 4);
});

Deno.test("whenConnected({ failAfterFailures }) fails after that many failures in a row", () => {
  const clock = new Clock();
  const endpoint = new FakeEndpoint();
  const s = service(endpoint, clock);
  s.startService();
  const patient = s.whenConnected();
  const hasty = s.whenConnected({ failAfterFailures: 2 });
  endpoint.fail();
  assertNoResult(hasty);
  clock.advance(2);
  endpoint.fail();
  failureResultOf(hasty, ConnectionRefusedError);
  // Already two failures in a row: a new caller asking for 1 fails at once.
  failureResultOf(s.whenConnected({ failAfterFailures: 1 }), ConnectionRefusedError);
  assertNoResult(patient);
  clock.advance(4);
  const protocol = endpoint.succeed();
  assert.equal(successResultOf(patient), protocol);
  assert.throws(() => s.whenConnected({ failAfterFailures: 0 }), RangeError);
});

Deno.test("stopService during an attempt cancels it and fails the waiters", () => {
  const clock = new Clock();
  const endpoint = new FakeEndpoint();
  const s = service(endpoint, clock);
  s.startService();
  const waiting = s.whenConnected();
  successResultOf(s.stopService());
  assert.equal(endpoint.attempts[0].cancelled, true);
  failureResultOf(waiting, CancelledError);
  assert.equal(s.running, false);
  clock.advance(100);
  assert.equal(endpoint.attempts.length, 1, "no retry after stopping");
});

Deno.test("stopService while waiting to retry cancels the retry", () => {
  const clock = new Clock();
  const endpoint = new FakeEndpoint();
  const s = service(endpoint, clock);
  s.startService();
  endpoint.fail();
  assert.equal(clock.getDelayedCalls().length, 1);
  successResultOf(s.stopService());
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("stopService while connected fires once the connection is lost", () => {
  const clock = new Clock();
  const endpoint = new FakeEndpoint();
  const s = service(endpoint, clock);
  s.startService();
  const protocol = endpoint.succeed();
  const stopped = s.stopService();
  // StringTransportWithDisconnection loses the connection synchronously.
  successResultOf(stopped);
  assert.ok(protocol.lost?.check(ConnectionDone));
  assert.equal(clock.getDelayedCalls().length, 0, "no reconnection");
  successResultOf(s.stopService());
});

Deno.test("prepareConnection runs before whenConnected hears of the connection", () => {
  const clock = new Clock();
  const endpoint = new FakeEndpoint();
  const ready = new Deferred<void>();
  const s = service(endpoint, clock, { prepareConnection: () => ready });
  s.startService();
  const waiting = s.whenConnected();
  const protocol = endpoint.succeed();
  assertNoResult(waiting);
  assertNoResult(s.whenConnected());
  ready.callback(undefined);
  assert.equal(successResultOf(waiting), protocol);
});

Deno.test("a failed prepareConnection drops the connection and retries", () => {
  const clock = new Clock();
  const endpoint = new FakeEndpoint();
  const before = setLogSink(() => {});
  try {
    let calls = 0;
    const s = service(endpoint, clock, {
      prepareConnection: () => {
        if (++calls === 1) throw new Error("login refused");
      },
    });
    s.startService();
    const waiting = s.whenConnected();
    const first = endpoint.succeed();
    assert.ok(first.lost !== undefined, "the first connection was closed");
    assertNoResult(waiting);
    clock.advance(2);
    const second = endpoint.succeed();
    assert.equal(successResultOf(waiting), second);
  } finally {
    setLogSink(before);
  }
});

Deno.test("ClientService reconnects over real sockets when the server comes back", async () => {
  const server = {
    built: 0,
    buildProtocol: () => (server.built++, new Probe()),
    doStart() {},
    doStop() {},
  };
  let port = reactor.listenTCP(0, server, { interface: "127.0.0.1" });
  const portNumber = port.getHost().port;
  const s = new ClientService(new TCP4ClientEndpoint(reactor, "127.0.0.1", portNumber), probes, {
    retryPolicy: () => 0.05,
  });
  try {
    s.startService();
    const first = await within(5, s.whenConnected(), "the first connection") as Probe;
    // The server goes away, and comes back on the same port.
    await port.stopListening();
    first.transport!.abortConnection();
    port = reactor.listenTCP(portNumber, server, { interface: "127.0.0.1" });
    let second = await within(5, s.whenConnected(), "a connection") as Probe;
    for (let i = 0; second === first && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 10));
      second = await s.whenConnected() as Probe;
    }
    assert.notEqual(second, first);
    assert.ok(first.lost?.check(ConnectionLost));
  } finally {
    await s.stopService();
    await port.stopListening();
  }
});
