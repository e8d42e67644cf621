import assert from "node:assert/strict";
import type { Failure } from "../../defer/failure.ts";
import type { PullProducer, PushProducer } from "../../reactor/interfaces.ts";
import { ClientFactory, Factory } from "../../protocols/factory.ts";
import { Protocol } from "../../protocols/protocol.ts";
import {
  AccumulatingProtocol,
  Clock,
  connectedServerAndClient,
  FakeTransport,
  type IOPump,
} from "../../testing/mod.ts";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Records every event, with a name, into a shared log. */
class Logged extends Protocol {
  received = "";
  constructor(readonly name: string, readonly log: string[]) {
    super();
  }
  override connectionMade(): void {
    this.log.push(`${this.name} made`);
  }
  override dataReceived(data: Uint8Array): void {
    this.received += decode(data);
    this.log.push(`${this.name} got ${decode(data)}`);
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.log.push(`${this.name} lost ${(reason.value as Error).name}`);
  }
}

class HalfCloseable extends Logged {
  readConnectionLost(): void {
    this.log.push(`${this.name} read lost`);
  }
  writeConnectionLost(): void {
    this.log.push(`${this.name} write lost`);
  }
}

function connect(server: Logged, client: Logged, greet = true): IOPump<Logged, Logged> {
  return connectedServerAndClient(() => server, () => client, { greet }).pump;
}

/** Two connected Logged protocols sharing one log. */
function pair(): { log: string[]; server: Logged; client: Logged; pump: IOPump<Logged, Logged> } {
  const log: string[] = [];
  const server = new Logged("server", log);
  const client = new Logged("client", log);
  return { log, server, client, pump: connect(server, client) };
}

Deno.test("connectedServerAndClient() connects the server, then the client", () => {
  const log: string[] = [];
  const { client, server, pump } = connectedServerAndClient(
    () => new Logged("server", log),
    () => new Logged("client", log),
  );
  assert.deepEqual(log, ["server made", "client made"]);
  assert.ok(client.transport instanceof FakeTransport);
  assert.equal(pump.client, client);
  assert.equal(pump.server, server);
  assert.equal(pump.serverIO.isServer, true);
  assert.equal(pump.clientIO.isServer, false);
  assert.equal(String(pump.clientIO), "FakeTransport<C,Logged>");
});

Deno.test("connectedServerAndClient() takes classes, functions and factories", () => {
  class Server extends Protocol {}
  const factory = new ClientFactory<AccumulatingProtocol>();
  factory.protocol = AccumulatingProtocol;
  const { client, server } = connectedServerAndClient(Server, factory);
  assert.ok(server instanceof Server);
  assert.ok(client instanceof AccumulatingProtocol);
  assert.equal(client.factory, factory);
  assert.equal(client.made, true);

  function makeServer(): Protocol {
    return new Server();
  }
  assert.ok(connectedServerAndClient(makeServer, Protocol).server instanceof Server);
});

Deno.test("connectedServerAndClient() gives each factory the other side's address", () => {
  const seen: unknown[] = [];
  const factory = (name: string) => ({
    buildProtocol(addr: unknown) {
      seen.push([name, addr]);
      return new Protocol();
    },
  });
  connectedServerAndClient(factory("server"), factory("client"));
  assert.deepEqual(seen, [
    ["client", { type: "TCP", host: "10.0.0.1", port: 12345 }],
    ["server", { type: "TCP", host: "192.168.1.1", port: 54321 }],
  ]);
});

Deno.test("connectedServerAndClient() reports a factory that builds nothing", () => {
  assert.throws(
    () => connectedServerAndClient({ buildProtocol: () => null }, Protocol),
    /^Error: Cannot connect the server: its factory's buildProtocol\(\) returned null$/,
  );
});

Deno.test("connectedServerAndClient() gives each side its addresses", async (t) => {
  await t.step("by default", () => {
    const { client, server } = connectedServerAndClient(Protocol, Protocol);
    const serverAddress = { type: "TCP", host: "10.0.0.1", port: 12345 };
    const clientAddress = { type: "TCP", host: "192.168.1.1", port: 54321 };
    assert.deepEqual(server.transport!.getHost(), serverAddress);
    assert.deepEqual(server.transport!.getPeer(), clientAddress);
    assert.deepEqual(client.transport!.getHost(), clientAddress);
    assert.deepEqual(client.transport!.getPeer(), serverAddress);
  });

  await t.step("as options", () => {
    const serverAddress = { type: "UNIX", path: "/run/s.sock" } as const;
    const clientAddress = { type: "UNIX", path: "" } as const;
    const { client } = connectedServerAndClient(Protocol, Protocol, {
      serverAddress,
      clientAddress,
    });
    assert.equal(client.transport!.getPeer(), serverAddress);
    assert.equal(client.transport!.getHost(), clientAddress);
  });
});

Deno.test("connectedServerAndClient() flushes the greetings unless told not to", async (t) => {
  class Greeter extends Protocol {
    override connectionMade(): void {
      this.transport!.write("220 hello\r\n");
    }
  }

  await t.step("greet (the default)", () => {
    const { client } = connectedServerAndClient(Greeter, AccumulatingProtocol);
    assert.equal(client.dataString(), "220 hello\r\n");
  });

  await t.step("greet: false", () => {
    const { client, pump } = connectedServerAndClient(Greeter, AccumulatingProtocol, {
      greet: false,
    });
    assert.equal(client.dataString(), "");
    assert.equal(pump.flush(), true);
    assert.equal(client.dataString(), "220 hello\r\n");
  });
});

Deno.test("IOPump.pump() moves one round of bytes each way", () => {
  const { client, server, pump } = connectedServerAndClient(
    AccumulatingProtocol,
    AccumulatingProtocol,
  );
  assert.equal(pump.pump(), false);
  client.transport!.write("up");
  server.transport!.writeSequence(["do", encode("wn")]);
  assert.equal(server.dataString(), "");
  assert.equal(pump.pump(), true);
  assert.equal(server.dataString(), "up");
  assert.equal(client.dataString(), "down");
  assert.equal(pump.pump(), false);
});

Deno.test("IOPump.flush() runs a conversation to its end", () => {
  // Counts down: each side answers n with n - 1, until 0.
  class Countdown extends Protocol {
    heard: number[] = [];
    override dataReceived(data: Uint8Array): void {
      const n = Number(decode(data));
      this.heard.push(n);
      if (n > 0) this.transport!.write(String(n - 1));
    }
  }
  const { client, server, pump } = connectedServerAndClient(Countdown, Countdown);
  client.transport!.write("5");
  assert.equal(pump.flush(), true);
  assert.deepEqual(server.heard, [5, 3, 1]);
  assert.deepEqual(client.heard, [4, 2, 0]);
  assert.equal(pump.flush(), false);
});

Deno.test("IOPump.flush() gives up after 1000 busy rounds", () => {
  class PingPong extends Protocol {
    rounds = 0;
    override dataReceived(data: Uint8Array): void {
      this.rounds++;
      this.transport!.write(data);
    }
  }
  const { client, server, pump } = connectedServerAndClient(PingPong, PingPong);
  client.transport!.write("ball");
  assert.throws(
    () => pump.flush(),
    /^Error: Too long: the connection was still busy after 1000 rounds$/,
  );
  assert.equal(client.rounds + server.rounds, 1000);
});

Deno.test("FakeTransport.write() copies its data and checks its type", () => {
  const { client, server, pump } = connectedServerAndClient(AccumulatingProtocol, Protocol);
  const buffer = encode("abc");
  client.transport!.write(buffer);
  buffer[0] = 0x7a;
  assert.throws(
    () => client.transport!.write(null as unknown as string),
    /^TypeError: Data must be a Uint8Array or a string, not null$/,
  );
  pump.flush();
  assert.equal(server.dataString(), "abc");
});

Deno.test("loseConnection() closes after the queue is delivered, peer first", () => {
  const { log, server, pump } = pair();
  server.transport!.write("bye");
  server.transport!.loseConnection();
  server.transport!.write(" now"); // still sent: the queue is flushed first
  assert.equal(server.transport!.disconnecting, true);
  assert.equal(pump.pump(), true);
  assert.deepEqual(log.slice(2), ["client got bye now"]);
  assert.equal(pump.pump(), true);
  assert.deepEqual(log.slice(3), ["client lost ConnectionDone"]);
  assert.equal(pump.pump(), true);
  assert.deepEqual(log.slice(4), ["server lost ConnectionDone"]);
  assert.equal(pump.pump(), false);
  assert.equal((server.transport as FakeTransport).disconnected, true);
});

Deno.test("a client's loseConnection() reaches the server, then the client", () => {
  const { log, client, pump } = pair();
  client.transport!.loseConnection();
  pump.flush();
  assert.deepEqual(log.slice(2), ["server lost ConnectionDone", "client lost ConnectionDone"]);
});

Deno.test("a closing side no longer receives, and writes after the end are dropped", () => {
  const { log, client, server, pump } = pair();
  client.transport!.loseConnection();
  server.transport!.write("too late");
  pump.flush();
  assert.equal(client.received, "");
  assert.deepEqual(log.slice(2), ["server lost ConnectionDone", "client lost ConnectionDone"]);
  server.transport!.write("after");
  client.transport!.write("after");
  assert.equal(pump.flush(), false);
  assert.equal(server.received + client.received, "");
});

Deno.test("abortConnection() drops the queue: ConnectionLost at the peer, then ConnectionAborted", () => {
  const { log, server, pump } = pair();
  server.transport!.write("never sent");
  server.transport!.abortConnection();
  server.transport!.write("nor this");
  assert.equal(pump.flush(), true);
  assert.deepEqual(log.slice(2), ["client lost ConnectionLost", "server lost ConnectionAborted"]);
});

Deno.test("loseWriteConnection() half-closes a peer that supports it", () => {
  const log: string[] = [];
  const server = new HalfCloseable("server", log);
  const client = new HalfCloseable("client", log);
  const pump = connect(server, client, true);
  client.transport!.write("request");
  client.transport!.loseWriteConnection();
  client.transport!.write("dropped");
  pump.flush();
  assert.deepEqual(log.slice(2), ["server got request", "client write lost", "server read lost"]);
  server.transport!.write("response");
  server.transport!.loseConnection();
  pump.flush();
  assert.deepEqual(log.slice(5), [
    "client got response",
    "client lost ConnectionDone",
    "server lost ConnectionDone",
  ]);
});

Deno.test("loseWriteConnection() closes a peer without half-close support", () => {
  const log: string[] = [];
  const server = new Logged("server", log);
  const client = new HalfCloseable("client", log);
  const pump = connect(server, client, true);
  client.transport!.loseWriteConnection();
  pump.flush();
  assert.deepEqual(log.slice(2), [
    "client write lost",
    "client lost ConnectionDone",
    "server lost ConnectionDone",
  ]);
});

Deno.test("FakeTransport.pauseProducing() holds the peer's data back", () => {
  const { client, server, pump } = connectedServerAndClient(
    AccumulatingProtocol,
    AccumulatingProtocol,
  );
  server.transport!.pauseProducing();
  client.transport!.write("held");
  server.transport!.write("free");
  assert.equal(pump.flush(), true);
  assert.equal(server.dataString(), "");
  assert.equal(client.dataString(), "free");
  server.transport!.resumeProducing();
  assert.equal(pump.flush(), true);
  assert.equal(server.dataString(), "held");
});

Deno.test("FakeTransport resumes a pull producer at registration and each idle round", () => {
  class Lines extends Protocol implements PullProducer {
    sent = 0;
    override connectionMade(): void {
      this.transport!.registerProducer(this, false);
    }
    resumeProducing(): void {
      this.sent++;
      if (this.sent === 3) {
        this.transport!.unregisterProducer();
        this.transport!.loseConnection();
      }
      this.transport!.write(`line ${this.sent}\n`);
    }
    stopProducing(): void {}
  }
  const { client, server } = connectedServerAndClient(Lines, AccumulatingProtocol);
  assert.equal(server.sent, 3);
  assert.equal(client.dataString(), "line 1\nline 2\nline 3\n");
  assert.equal(client.closed, true);
});

Deno.test("loseConnection() waits for a pull producer to unregister", () => {
  class Stalled extends Protocol implements PullProducer {
    resumed = 0;
    resumeProducing(): void {
      this.resumed++;
    }
    stopProducing(): void {}
  }
  const { client, server, pump } = connectedServerAndClient(Stalled, AccumulatingProtocol);
  server.transport!.registerProducer(server, false);
  server.transport!.loseConnection();
  assert.equal(pump.flush(), false);
  assert.equal(client.closed, false);
  assert.equal(server.resumed, 2); // at registration, then in the one idle round
  server.transport!.unregisterProducer();
  assert.equal(pump.flush(), true);
  assert.equal(client.closed, true);
});

Deno.test("FakeTransport pauses a push producer over bufferSize, resumes it once drained", () => {
  class Events implements PushProducer {
    events: string[] = [];
    pauseProducing(): void {
      this.events.push("pause");
    }
    resumeProducing(): void {
      this.events.push("resume");
    }
    stopProducing(): void {
      this.events.push("stop");
    }
  }
  const { client, server, pump } = connectedServerAndClient(Protocol, AccumulatingProtocol);
  const transport = server.transport as FakeTransport;
  transport.bufferSize = 10;
  const producer = new Events();
  transport.registerProducer(producer, true);
  assert.deepEqual(producer.events, []);
  transport.write("0123456789");
  assert.deepEqual(producer.events, []);
  transport.write("!");
  transport.write("?");
  assert.deepEqual(producer.events, ["pause"]);
  pump.pump();
  assert.deepEqual(producer.events, ["pause", "resume"]);
  assert.equal(client.dataString(), "0123456789!?");
  transport.loseConnection(); // a push producer does not hold the close back
  pump.flush();
  assert.deepEqual(producer.events, ["pause", "resume", "stop"]);
  assert.equal(transport.producer, null);
});

Deno.test("FakeTransport.registerProducer() refuses a second producer", () => {
  const { server } = connectedServerAndClient(Protocol, Protocol);
  const producer = { resumeProducing() {}, stopProducing() {} };
  server.transport!.registerProducer(producer, true);
  assert.throws(
    () => server.transport!.registerProducer(producer, true),
    /^Error: Cannot register producer Object: producer Object is still registered$/,
  );
});

Deno.test("FakeTransport.registerProducer() stops a producer on a lost connection", () => {
  const { server, pump } = connectedServerAndClient(Protocol, Protocol);
  server.transport!.loseConnection();
  pump.flush();
  const events: string[] = [];
  server.transport!.registerProducer({
    resumeProducing: () => void events.push("resume"),
    stopProducing: () => void events.push("stop"),
  }, false);
  assert.deepEqual(events, ["stop"]);
});

Deno.test("FakeTransport.stopProducing() closes the connection", () => {
  const { client, server, pump } = connectedServerAndClient(Protocol, AccumulatingProtocol);
  server.transport!.stopProducing();
  pump.flush();
  assert.equal(client.closed, true);
});

Deno.test("FakeTransport's TCP options do nothing", () => {
  const { server } = connectedServerAndClient(Protocol, Protocol);
  const transport = server.transport as FakeTransport;
  transport.setTcpNoDelay(true);
  transport.setTcpKeepAlive(true);
  assert.equal(transport.disconnecting, false);
});

Deno.test("IOPump advances its clock by 0 each round", () => {
  class Delayed extends Protocol {
    clock: Clock | null = null;
    override dataReceived(data: Uint8Array): void {
      this.clock!.callLater(0, () => this.transport!.write(data));
    }
  }
  const clock = new Clock();
  const server = new Delayed();
  server.clock = clock;
  const { client, pump } = connectedServerAndClient(() => server, AccumulatingProtocol, {
    clock,
  });
  assert.equal(pump.clock, clock);
  client.transport!.write("later");
  pump.flush();
  assert.equal(client.dataString(), "later");
  assert.equal(clock.seconds(), 0);
  clock.callLater(1, () => {});
  pump.flush();
  assert.equal(clock.getDelayedCalls().length, 1);
  clock.advance(1);
});

Deno.test("an error in a protocol propagates out of pump()", () => {
  class Broken extends Protocol {
    override dataReceived(_data: Uint8Array): void {
      throw new RangeError("cannot parse");
    }
  }
  const { client, pump } = connectedServerAndClient(Broken, Protocol);
  client.transport!.write("x");
  assert.throws(() => pump.pump(), /^RangeError: cannot parse$/);
});

Deno.test("connectedServerAndClient() works with Factory.forProtocol", () => {
  const factory = Factory.forProtocol(AccumulatingProtocol);
  const { server, pump } = connectedServerAndClient(factory, Protocol);
  const accumulating = server as AccumulatingProtocol;
  pump.clientIO.write("via factory");
  pump.flush();
  assert.equal(accumulating.dataString(), "via factory");
  assert.equal(accumulating.factory, factory);
});
