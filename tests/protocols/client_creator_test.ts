import assert from "node:assert/strict";
import type { ConnectTCPOptions } from "../../reactor/tcp.ts";
import { CancelledError } from "../../defer/errors.ts";
import { Failure } from "../../defer/failure.ts";
import type { DelayedCall } from "../../defer/time.ts";
import {
  ClientCreator,
  type ClientFactoryLike,
  type Connector,
  Protocol,
  type TCPClientReactor,
} from "../../protocols/mod.ts";
import { FakeConnector, FakeTransport } from "./_fakes.ts";
import { Clock } from "../../reactor/clock.ts";

interface Attempt {
  host: string;
  port: number;
  factory: ClientFactoryLike;
  options: ConnectTCPOptions | undefined;
  connector: FakeConnector;
}

// A reactor driven by hand: connectTCP records the attempt; the test then
// plays the connector's part (build, makeConnection, fail).
class FakeReactor implements TCPClientReactor {
  clock = new Clock();
  attempts: Attempt[] = [];

  // deno-lint-ignore no-explicit-any
  callLater<A extends any[]>(delay: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    return this.clock.callLater(delay, fn, ...args);
  }

  connectTCP(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    options?: ConnectTCPOptions,
  ): Connector {
    const connector = new FakeConnector();
    this.attempts.push({ host, port, factory, options, connector });
    factory.doStart();
    connector.connect();
    factory.startedConnecting?.(connector);
    return connector;
  }

  succeed(attempt: Attempt): FakeTransport {
    const transport = new FakeTransport();
    const p = attempt.factory.buildProtocol({
      type: "TCP",
      host: attempt.host,
      port: attempt.port,
    });
    attempt.connector.state = "connected";
    p!.makeConnection(transport);
    return transport;
  }

  fail(attempt: Attempt, reason: unknown): void {
    attempt.connector.state = "disconnected";
    attempt.factory.clientConnectionFailed?.(attempt.connector, new Failure(reason));
    attempt.factory.doStop();
  }
}

class Greeter extends Protocol {
  made = 0;
  constructor(readonly name: string = "nobody", readonly times: number = 1) {
    super();
  }
  override connectionMade(): void {
    this.made++;
    for (let i = 0; i < this.times; i++) this.transport!.write(`HELLO ${this.name}`);
  }
}

Deno.test("ClientCreator.connectTCP() passes host, port and options to the reactor", () => {
  const reactor = new FakeReactor();
  new ClientCreator(reactor, Greeter).connectTCP("example.com", 80, {
    timeout: 5,
    bindAddress: ["10.0.0.2", 0],
  });
  assert.equal(reactor.attempts.length, 1);
  const a = reactor.attempts[0];
  assert.equal(a.host, "example.com");
  assert.equal(a.port, 80);
  assert.deepEqual(a.options, { timeout: 5, bindAddress: ["10.0.0.2", 0] });
});

Deno.test("ClientCreator.connectTCP() fires with the protocol after connectionMade", () => {
  const reactor = new FakeReactor();
  const d = new ClientCreator(reactor, Greeter, "alice", 2).connectTCP("127.0.0.1", 1234);
  const results: Greeter[] = [];
  d.addCallback((p) => void results.push(p));
  const transport = reactor.succeed(reactor.attempts[0]);
  assert.equal(results.length, 0, "fires on the reactor's next turn, as Twisted");
  reactor.clock.advance(0);
  assert.equal(results.length, 1);
  const result = results[0];
  assert.equal(result.made, 1);
  assert.equal(result.connected, true);
  assert.equal(result.name, "alice");
  assert.deepEqual(transport.written, ["HELLO alice", "HELLO alice"]);
});

Deno.test("ClientCreator.connectTCP() makes a new protocol for each connection", () => {
  const reactor = new FakeReactor();
  const creator = new ClientCreator(reactor, Greeter);
  const results: Greeter[] = [];
  creator.connectTCP("h", 1).addCallback((p) => void results.push(p));
  creator.connectTCP("h", 1).addCallback((p) => void results.push(p));
  reactor.succeed(reactor.attempts[0]);
  reactor.succeed(reactor.attempts[1]);
  reactor.clock.advance(0);
  assert.equal(results.length, 2);
  assert.notEqual(results[0], results[1]);
});

Deno.test("ClientCreator.connectTCP() fails with the connection failure", () => {
  const reactor = new FakeReactor();
  const d = new ClientCreator(reactor, Greeter).connectTCP("127.0.0.1", 1);
  const refused = new Error("Connection refused");
  const failures: Failure[] = [];
  d.addErrback((f) => void failures.push(f));
  reactor.fail(reactor.attempts[0], refused);
  assert.equal(failures.length, 0);
  reactor.clock.advance(0);
  assert.equal(failures.length, 1);
  assert.equal(failures[0].value, refused);
});

Deno.test("ClientCreator.connectTCP() cancelled while connecting fails with CancelledError", () => {
  const reactor = new FakeReactor();
  const d = new ClientCreator(reactor, Greeter).connectTCP("127.0.0.1", 1);
  let failure: Failure | undefined;
  d.addErrback((f) => {
    failure = f;
  });
  d.cancel();
  assert.ok(failure?.check(CancelledError));
  assert.equal(reactor.attempts[0].connector.disconnects, 1);
});

Deno.test("ClientCreator.connectTCP() cancelled after connecting disconnects the protocol", () => {
  const reactor = new FakeReactor();
  const d = new ClientCreator(reactor, Greeter).connectTCP("127.0.0.1", 1);
  let failure: Failure | undefined;
  d.addErrback((f) => {
    failure = f;
  });
  reactor.succeed(reactor.attempts[0]);
  d.cancel();
  assert.ok(failure?.check(CancelledError));
  assert.equal(reactor.attempts[0].connector.disconnects, 1);
  assert.equal(reactor.clock.getDelayedCalls().length, 0, "the pending callback is cancelled");
  reactor.clock.advance(0);
});

Deno.test("ClientCreator.connectTCP() cancelled after firing does nothing", () => {
  const reactor = new FakeReactor();
  const d = new ClientCreator(reactor, Greeter).connectTCP("127.0.0.1", 1);
  reactor.succeed(reactor.attempts[0]);
  reactor.clock.advance(0);
  let result: unknown;
  d.addCallback((p) => {
    result = p;
  });
  d.cancel();
  assert.ok(result instanceof Greeter);
  assert.equal(reactor.attempts[0].connector.disconnects, 0);
});

Deno.test("ClientCreator.connectTCP() can be awaited", async () => {
  const reactor = new FakeReactor();
  const d = new ClientCreator(reactor, Greeter, "bob").connectTCP("127.0.0.1", 1);
  reactor.succeed(reactor.attempts[0]);
  reactor.clock.advance(0);
  const p: Greeter = await d;
  assert.equal(p.name, "bob");
});
