import assert from "node:assert/strict";
import { Failure } from "../../defer/failure.ts";
import type { DelayedCall } from "../../defer/time.ts";
import { ConnectionDone } from "../../reactor/connection_errors.ts";
import type {
  Address,
  Connector,
  ProtocolLike,
  PushProducer,
  Transport,
} from "../../reactor/interfaces.ts";
import { ClientFactory, Factory, ServerFactory } from "../../protocols/factory.ts";
import { LimitTotalConnectionsFactory } from "../../protocols/limit_total_connections_factory.ts";
import { Protocol } from "../../protocols/protocol.ts";
import { ThrottlingFactory, ThrottlingProtocol } from "../../protocols/throttling_factory.ts";
import { TimeoutFactory, TimeoutProtocol } from "../../protocols/timeout_factory.ts";
import { type ProtocolWrapper, WrappingFactory } from "../../protocols/wrapping_factory.ts";
import {
  AccumulatingProtocol,
  Clock,
  connectedServerAndClient,
  StringTransport,
  StringTransportWithDisconnection,
} from "../../testing/mod.ts";

const ADDR: Address = { type: "TCP", host: "127.0.0.1", port: 35 };
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

class SimpleProtocol extends Protocol {
  made = false;
  disconnected = false;
  buffer = "";
  override connectionMade(): void {
    this.made = true;
  }
  override dataReceived(data: Uint8Array): void {
    this.buffer += new TextDecoder().decode(data);
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.disconnected = true;
  }
}

class EchoProtocol extends Protocol implements PushProducer {
  paused = false;
  pauseProducing(): void {
    this.paused = true;
  }
  resumeProducing(): void {
    this.paused = false;
  }
  stopProducing(): void {}
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
  }
}

/** A connected wrapper over a StringTransportWithDisconnection. */
function connectWrapper<P extends ProtocolWrapper>(
  wrapper: P,
): { wrapper: P; transport: StringTransportWithDisconnection } {
  const transport = new StringTransportWithDisconnection();
  transport.protocol = wrapper;
  wrapper.makeConnection(transport);
  return { wrapper, transport };
}

// ---------------------------------------------------------------------------
// ProtocolWrapper and WrappingFactory

Deno.test("WrappingFactory gives the wrapped protocol the wrapped factory", () => {
  const server = Factory.forProtocol(EchoProtocol);
  const p = new WrappingFactory(server).buildProtocol(ADDR)!;
  assert.ok(p.wrappedProtocol instanceof EchoProtocol);
  assert.equal((p.wrappedProtocol as EchoProtocol).factory, server);
});

Deno.test("ProtocolWrapper is the wrapped protocol's transport", () => {
  const factory = new WrappingFactory(Factory.forProtocol(EchoProtocol));
  const { wrapper, transport } = connectWrapper(factory.buildProtocol(ADDR)!);
  const wrapped = wrapper.wrappedProtocol as EchoProtocol;
  assert.equal(wrapped.transport, wrapper);
  assert.equal(wrapper.transport, transport);
  wrapper.dataReceived(encode("echo"));
  assert.equal(transport.valueString(), "echo");
  assert.equal(factory.protocols.has(wrapper), true);
});

Deno.test("WrappingFactory and ProtocolWrapper log both names", () => {
  class Server extends ServerFactory {
    override protocol = EchoProtocol;
  }
  const factory = new WrappingFactory(new Server());
  assert.equal(factory.logPrefix(), "Server (WrappingFactory)");
  assert.equal(factory.buildProtocol(ADDR)!.logPrefix(), "EchoProtocol (ProtocolWrapper)");
  const bare = {
    buildProtocol: (): ProtocolLike => ({
      makeConnection() {},
      dataReceived() {},
      connectionLost() {},
    }),
    doStart() {},
    doStop() {},
  };
  assert.equal(new WrappingFactory(bare).logPrefix(), "Object (WrappingFactory)");
  assert.equal(
    new WrappingFactory(bare).buildProtocol(ADDR)!.logPrefix(),
    "Object (ProtocolWrapper)",
  );
});

Deno.test("ProtocolWrapper relays the transport calls", async (t) => {
  const make = () =>
    connectWrapper(new WrappingFactory(Factory.forProtocol(Protocol)).buildProtocol(ADDR)!);

  await t.step("addresses", () => {
    const { wrapper, transport } = make();
    assert.deepEqual(wrapper.getHost(), transport.getHost());
    assert.deepEqual(wrapper.getPeer(), transport.getPeer());
  });

  await t.step("writes", () => {
    const { wrapper, transport } = make();
    wrapper.write("a");
    wrapper.writeSequence(["b", encode("c")]);
    assert.equal(transport.valueString(), "abc");
  });

  await t.step("producers", () => {
    const { wrapper, transport } = make();
    const producer = new EchoProtocol();
    wrapper.registerProducer(producer, true);
    assert.equal(transport.producer, producer);
    assert.equal(transport.streaming, true);
    wrapper.unregisterProducer();
    assert.equal(transport.producer, null);
    assert.equal(transport.streaming, null);
  });

  await t.step("the transport as a producer", () => {
    const { wrapper, transport } = make();
    wrapper.pauseProducing();
    assert.equal(transport.producerState, "paused");
    wrapper.resumeProducing();
    assert.equal(transport.producerState, "producing");
    wrapper.stopProducing();
    assert.equal(transport.producerState, "stopped");
  });

  await t.step("half-close and TCP options", () => {
    const { wrapper, transport } = make();
    wrapper.loseWriteConnection();
    wrapper.setTcpNoDelay(true);
    wrapper.setTcpKeepAlive(false);
    assert.deepEqual(
      [transport.writeDisconnecting, transport.tcpNoDelay, transport.tcpKeepAlive],
      [true, true, false],
    );
  });

  await t.step("TCP options on a transport without them", () => {
    const wrapper = new WrappingFactory(Factory.forProtocol(Protocol)).buildProtocol(ADDR)!;
    wrapper.makeConnection({} as Transport);
    wrapper.setTcpNoDelay(true);
    wrapper.setTcpKeepAlive(true);
    assert.equal(wrapper.connected, true);
  });

  await t.step("abortConnection", () => {
    const { wrapper, transport } = make();
    wrapper.abortConnection();
    assert.equal(wrapper.disconnecting, true);
    assert.equal(transport.disconnected, true);
  });
});

Deno.test("ProtocolWrapper.loseConnection() closes, unregisters and drops the wrapped protocol", () => {
  const factory = new WrappingFactory(Factory.forProtocol(SimpleProtocol));
  const { wrapper, transport } = connectWrapper(factory.buildProtocol(ADDR)!);
  const wrapped = wrapper.wrappedProtocol as SimpleProtocol;
  assert.equal(factory.protocols.size, 1);
  wrapper.loseConnection();
  assert.equal(wrapper.disconnecting, true);
  assert.equal(transport.disconnecting, true);
  assert.equal(wrapped.disconnected, true);
  assert.equal(wrapper.wrappedProtocol, null);
  assert.equal(factory.protocols.size, 0);
});

Deno.test("WrappingFactory relays start, stop and the client callbacks", () => {
  const events: string[] = [];
  class Client extends ClientFactory {
    override protocol = Protocol;
    override startFactory(): void {
      events.push("start");
    }
    override stopFactory(): void {
      events.push("stop");
    }
    override startedConnecting(_connector: Connector): void {
      events.push("started");
    }
    override clientConnectionFailed(_connector: Connector, reason: Failure): void {
      events.push(`failed: ${reason.getErrorMessage()}`);
    }
    override clientConnectionLost(_connector: Connector, reason: Failure): void {
      events.push(`lost: ${reason.getErrorMessage()}`);
    }
  }
  const wrapped = new Client();
  const factory = new WrappingFactory(wrapped);
  const connector = {} as Connector;
  factory.doStart();
  factory.startedConnecting(connector);
  factory.clientConnectionFailed(connector, new Failure(new Error("refused")));
  factory.clientConnectionLost(connector, new Failure(new ConnectionDone()));
  factory.doStop();
  assert.deepEqual(events, [
    "start",
    "started",
    "failed: refused",
    "lost: Connection was closed cleanly",
    "stop",
  ]);
  assert.deepEqual([wrapped.numPorts, factory.numPorts], [0, 0]);
  // A server factory has no client callbacks: nothing is relayed.
  const server = new WrappingFactory(Factory.forProtocol(Protocol));
  server.startedConnecting(connector);
  server.clientConnectionLost(connector, new Failure(new ConnectionDone()));
});

Deno.test("WrappingFactory refuses what the wrapped factory refuses", () => {
  const factory = new WrappingFactory({
    buildProtocol: () => null,
    doStart() {},
    doStop() {},
  });
  assert.equal(factory.buildProtocol(ADDR), null);
});

Deno.test("WrappingFactory works end to end in memory", () => {
  const factory = new WrappingFactory(Factory.forProtocol(EchoProtocol));
  const { client, server, pump } = connectedServerAndClient(factory, AccumulatingProtocol);
  client.transport!.write("round trip");
  pump.flush();
  assert.equal(client.dataString(), "round trip");
  assert.equal(factory.protocols.size, 1);
  server.transport!.loseConnection();
  pump.flush();
  assert.equal(factory.protocols.size, 0);
  assert.equal(client.closed, true);
});

// ---------------------------------------------------------------------------
// ThrottlingFactory

Deno.test("ThrottlingFactory caps the number of connections", () => {
  const clock = new Clock();
  const factory = new ThrottlingFactory(Factory.forProtocol(SimpleProtocol), {
    maxConnectionCount: 2,
    clock,
  });
  const c1 = connectWrapper(factory.buildProtocol(ADDR)!);
  const c2 = connectWrapper(factory.buildProtocol(ADDR)!);
  assert.equal(factory.buildProtocol(ADDR), null);
  assert.equal(factory.connectionCount, 2);
  assert.equal(factory.protocols.size, 2);
  c1.transport.loseConnection();
  assert.equal(factory.connectionCount, 1);
  const c3 = connectWrapper(factory.buildProtocol(ADDR)!);
  assert.equal((c3.wrapper.wrappedProtocol as SimpleProtocol).made, true);
  c2.transport.loseConnection();
  c3.transport.loseConnection();
  assert.equal(factory.connectionCount, 0);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ThrottlingFactory defaults to no limits", () => {
  const factory = new ThrottlingFactory(Factory.forProtocol(Protocol));
  assert.deepEqual(
    [factory.maxConnectionCount, factory.readLimit, factory.writeLimit, factory.clock],
    [Infinity, null, null, null],
  );
  // No bandwidth limit: no timer, even on the reactor's real time.
  const p = factory.buildProtocol(ADDR)!;
  p.connectionLost(new Failure(new ConnectionDone()));
  assert.equal(factory.connectionCount, 0);
});

Deno.test("ThrottlingFactory counts bytes written, by writeSequence too", () => {
  const factory = new ThrottlingFactory(Factory.forProtocol(EchoProtocol), { clock: new Clock() });
  const { wrapper, transport } = connectWrapper(factory.buildProtocol(ADDR)!);
  wrapper.writeSequence([encode("bytes"), "bytes", "bytes", "bytes"]);
  assert.equal(transport.valueString(), "bytesbytesbytesbytes");
  assert.equal(factory.writtenThisSecond, 20);
  wrapper.write("é");
  assert.equal(factory.writtenThisSecond, 22);
  transport.loseConnection();
});

Deno.test("ThrottlingFactory pauses the producer when writes go over the limit", () => {
  const clock = new Clock();
  const factory = new ThrottlingFactory(Factory.forProtocol(EchoProtocol), {
    writeLimit: 10,
    clock,
  });
  const built = factory.buildProtocol(ADDR);
  assert.ok(built instanceof ThrottlingProtocol);
  const { wrapper, transport } = connectWrapper(built);
  const echo = wrapper.wrappedProtocol as EchoProtocol;
  wrapper.registerProducer(echo, true);
  assert.equal(wrapper.producer, echo);

  wrapper.dataReceived(encode("0123456789"));
  wrapper.dataReceived(encode("abcdefghij"));
  assert.equal(transport.valueString(), "0123456789abcdefghij");
  assert.equal(factory.writtenThisSecond, 20);
  assert.equal(echo.paused, false);

  // 20 bytes in a second against a limit of 10: paused for a second.
  clock.advance(1.05);
  assert.equal(factory.writtenThisSecond, 0);
  assert.equal(echo.paused, true);
  clock.advance(1.05);
  assert.equal(factory.writtenThisSecond, 0);
  assert.equal(echo.paused, false);

  wrapper.unregisterProducer();
  assert.equal(wrapper.producer, null);
  transport.loseConnection();
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ThrottlingFactory pauses reading when reads go over the limit", () => {
  const clock = new Clock();
  const factory = new ThrottlingFactory(Factory.forProtocol(EchoProtocol), {
    readLimit: 10,
    clock,
  });
  const { wrapper, transport } = connectWrapper(factory.buildProtocol(ADDR)!);
  for (let round = 0; round < 2; round++) {
    transport.clear();
    wrapper.dataReceived(encode("0123456789"));
    wrapper.dataReceived(encode("abcdefghij"));
    assert.equal(transport.valueString(), "0123456789abcdefghij");
    assert.equal(factory.readThisSecond, 20);

    clock.advance(1.05);
    assert.equal(factory.readThisSecond, 0);
    assert.equal(transport.producerState, "paused");

    clock.advance(1.05);
    assert.equal(factory.readThisSecond, 0);
    assert.equal(transport.producerState, "producing");
  }
  transport.loseConnection();
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ThrottlingFactory pauses for as long as the excess takes", () => {
  const clock = new Clock();
  const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), { readLimit: 10, clock });
  const { wrapper, transport } = connectWrapper(factory.buildProtocol(ADDR)!);
  wrapper.dataReceived(new Uint8Array(45));
  clock.advance(1);
  assert.equal(transport.producerState, "paused");
  clock.advance(3.4); // 45 / 10 - 1 = 3.5 seconds
  assert.equal(transport.producerState, "paused");
  clock.advance(0.1);
  assert.equal(transport.producerState, "producing");
  transport.loseConnection();
});

Deno.test("ThrottlingFactory stops its checks when the last connection closes", () => {
  const clock = new Clock();
  const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), {
    readLimit: 10,
    writeLimit: 10,
    clock,
  });
  const a = connectWrapper(factory.buildProtocol(ADDR)!);
  const b = connectWrapper(factory.buildProtocol(ADDR)!);
  assert.equal(clock.getDelayedCalls().length, 2);
  a.wrapper.dataReceived(new Uint8Array(100));
  clock.advance(1);
  assert.equal(clock.getDelayedCalls().length, 3); // two checks, one unthrottle
  a.transport.loseConnection();
  assert.equal(clock.getDelayedCalls().length, 3);
  b.transport.loseConnection();
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ThrottlingFactory refuses without starting checks", () => {
  const clock = new Clock();
  const refusing = new ThrottlingFactory(
    { buildProtocol: () => null, doStart() {}, doStop() {} },
    { readLimit: 1, clock },
  );
  assert.equal(refusing.buildProtocol(ADDR), null);
  assert.equal(refusing.connectionCount, 0);
  const capped = new ThrottlingFactory(Factory.forProtocol(Protocol), {
    maxConnectionCount: 0,
    readLimit: 1,
    clock,
  });
  assert.equal(capped.buildProtocol(ADDR), null);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("ThrottlingFactory.callLater() can be overridden, as in Twisted", () => {
  const clock = new Clock();
  const periods: number[] = [];
  class Testable extends ThrottlingFactory {
    override callLater(period: number, fn: () => void): DelayedCall {
      periods.push(period);
      return clock.callLater(period, fn);
    }
  }
  const factory = new Testable(Factory.forProtocol(Protocol), { writeLimit: 5 });
  const { transport } = connectWrapper(factory.buildProtocol(ADDR)!);
  clock.advance(1);
  assert.deepEqual(periods, [1, 1]);
  transport.loseConnection();
});

// ---------------------------------------------------------------------------
// LimitTotalConnectionsFactory

Deno.test("LimitTotalConnectionsFactory counts connections", () => {
  const factory = new LimitTotalConnectionsFactory();
  factory.protocol = Protocol;
  assert.equal(factory.connectionCount, 0);
  const p1 = factory.buildProtocol(ADDR)!;
  assert.equal(factory.connectionCount, 1);
  const p2 = factory.buildProtocol(ADDR)!;
  assert.equal(factory.connectionCount, 2);
  const done = new Failure(new ConnectionDone());
  p1.connectionLost(done);
  assert.equal(factory.connectionCount, 1);
  p2.connectionLost(done);
  assert.equal(factory.connectionCount, 0);
});

Deno.test("LimitTotalConnectionsFactory refuses, or overflows, past the limit", () => {
  const factory = new LimitTotalConnectionsFactory();
  factory.protocol = Protocol;
  factory.connectionLimit = 1;
  const p = factory.buildProtocol(ADDR);
  assert.notEqual(p, null);
  assert.equal((p!.wrappedProtocol as Protocol).factory, factory);
  assert.equal(factory.buildProtocol(ADDR), null);
  assert.equal(factory.connectionCount, 1);

  let overflowed = false;
  class Overflow extends Protocol {
    override connectionMade(): void {
      overflowed = true;
    }
  }
  factory.overflowProtocol = Overflow;
  const op = factory.buildProtocol(ADDR)!;
  assert.ok(op.wrappedProtocol instanceof Overflow);
  assert.equal((op.wrappedProtocol as Overflow).factory, factory);
  op.makeConnection(new StringTransport());
  assert.equal(overflowed, true);
  assert.equal(factory.connectionCount, 2);

  const done = new Failure(new ConnectionDone());
  p!.connectionLost(done);
  assert.equal(factory.connectionCount, 1);
  op.connectionLost(done);
  assert.equal(factory.connectionCount, 0);
});

Deno.test("LimitTotalConnectionsFactory needs a protocol", () => {
  const factory = new LimitTotalConnectionsFactory();
  assert.throws(() => factory.buildProtocol(ADDR), TypeError);
  assert.equal(factory.connectionCount, 0);
});

// ---------------------------------------------------------------------------
// TimeoutFactory

function timeoutSetup(period: number | null = 3) {
  const clock = new Clock();
  const factory = new TimeoutFactory(Factory.forProtocol(SimpleProtocol), {
    timeoutPeriod: period,
    clock,
  });
  const { wrapper, transport } = connectWrapper(factory.buildProtocol(ADDR)!);
  return {
    clock,
    factory,
    proto: wrapper,
    transport,
    wrapped: wrapper.wrappedProtocol as SimpleProtocol,
  };
}

Deno.test("TimeoutFactory closes a connection idle for its period", () => {
  const { clock, wrapped } = timeoutSetup();
  clock.pump([0.0, 0.5, 1.0, 1.0, 0.4]);
  assert.equal(wrapped.disconnected, false);
  clock.pump([0.0, 0.2]);
  assert.equal(wrapped.disconnected, true);
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("TimeoutFactory restarts the timer on writes", () => {
  const { clock, proto, wrapped } = timeoutSetup();
  clock.pump([0.0, 0.5, 1.0]);
  proto.write("bytes bytes bytes");
  clock.pump([0.0, 1.0, 1.0]);
  assert.equal(wrapped.disconnected, false);
  proto.writeSequence(["bytes", "bytes", "bytes"]);
  clock.pump([0.0, 1.0, 1.0]);
  assert.equal(wrapped.disconnected, false);
  clock.pump([0.0, 2.0]);
  assert.equal(wrapped.disconnected, true);
});

Deno.test("TimeoutFactory restarts the timer on reads", () => {
  const { clock, proto, wrapped } = timeoutSetup();
  clock.pump([0.0, 1.0, 0.5]);
  proto.dataReceived(encode("bytes bytes bytes"));
  clock.pump([0.0, 1.0, 1.0]);
  assert.equal(wrapped.disconnected, false);
  assert.equal(wrapped.buffer, "bytes bytes bytes");
  clock.pump([0.0, 1.0, 1.0]);
  assert.equal(wrapped.disconnected, true);
});

Deno.test("TimeoutProtocol.cancelTimeout() stops the timer", async (t) => {
  await t.step("a pending timer", () => {
    const { clock, proto, wrapped } = timeoutSetup(null);
    assert.equal(proto.timeoutCall, null);
    proto.setTimeout(3);
    assert.notEqual(proto.timeoutCall, null);
    clock.advance(1);
    proto.cancelTimeout();
    assert.equal(proto.timeoutCall, null);
    assert.equal(proto.timeoutPeriod, null);
    clock.advance(3);
    assert.equal(wrapped.disconnected, false);
  });

  await t.step("no timer", () => {
    const { proto, wrapped } = timeoutSetup(null);
    proto.cancelTimeout();
    assert.equal(wrapped.disconnected, false);
  });

  await t.step("a timer that has fired", () => {
    const { clock, proto, wrapped } = timeoutSetup(null);
    proto.setTimeout(3);
    clock.advance(3);
    assert.equal(wrapped.disconnected, true);
    proto.cancelTimeout();
    assert.equal(proto.timeoutCall, null);
  });

  await t.step("a timer cancelled from outside", () => {
    const { proto, wrapped } = timeoutSetup(null);
    proto.setTimeout(3);
    proto.timeoutCall!.cancel();
    proto.cancelTimeout();
    assert.equal(wrapped.disconnected, false);
  });
});

Deno.test("TimeoutFactory defaults to 30 minutes", () => {
  const clock = new Clock();
  const factory = new TimeoutFactory(Factory.forProtocol(Protocol), { clock });
  assert.equal(factory.timeoutPeriod, 1800);
  const p = factory.buildProtocol(ADDR)!;
  assert.ok(p instanceof TimeoutProtocol);
  assert.equal(p.timeoutCall!.getTime(), 1800);
  p.connectionLost(new Failure(new ConnectionDone()));
  assert.equal(clock.getDelayedCalls().length, 0);
});

Deno.test("TimeoutFactory.timeoutFunc() can be overridden", () => {
  const clock = new Clock();
  const fired: number[] = [];
  class Warning extends TimeoutProtocol {
    override timeoutFunc(): void {
      fired.push(clock.seconds());
      this.write("idle\r\n");
    }
  }
  class WarningFactory extends TimeoutFactory {
    override wrapProtocol(p: ProtocolLike): TimeoutProtocol {
      return new Warning(this, p, this.timeoutPeriod);
    }
  }
  const factory = new WarningFactory(Factory.forProtocol(Protocol), { timeoutPeriod: 2, clock });
  const { transport } = connectWrapper(factory.buildProtocol(ADDR)!);
  clock.advance(2);
  assert.deepEqual(fired, [2]);
  assert.equal(transport.valueString(), "idle\r\n");
  assert.equal(transport.disconnecting, false);
});
