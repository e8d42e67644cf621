import assert from "node:assert/strict";
import type { Failure } from "../../defer/mod.ts";
import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
} from "../../reactor/connection_errors.ts";
import type { Connector, PushProducer, Transport } from "../../reactor/interfaces.ts";
import { connectTCP, listenTCP, type TCPPort } from "../../reactor/tcp.ts";
import { setLogSink } from "../../reactor/log.ts";
import { within } from "../_helpers.ts";

const LOOPBACK = { interface: "127.0.0.1" };

class Recorder {
  transport: Transport | null = null;
  chunks: Uint8Array[] = [];
  received = 0;
  // Promises, not Deferreds: a Failure given to callback() would take the errback path.
  #made = Promise.withResolvers<Transport>();
  #lost = Promise.withResolvers<Failure>();
  made: Promise<Transport> = this.#made.promise;
  lost: Promise<Failure> = this.#lost.promise;
  makeConnection(t: Transport): void {
    this.transport = t;
    this.connectionMade();
    this.#made.resolve(t);
  }
  connectionMade(): void {}
  dataReceived(data: Uint8Array): void {
    this.chunks.push(data);
    this.received += data.length;
  }
  connectionLost(reason: Failure): void {
    this.#lost.resolve(reason);
  }
  text(): string {
    const all = new Uint8Array(this.received);
    let off = 0;
    for (const c of this.chunks) {
      all.set(c, off);
      off += c.length;
    }
    return new TextDecoder().decode(all);
  }
}

class Echo extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport!.write(data);
  }
}

function serverFactory<P>(make: () => P | null) {
  const built: P[] = [];
  return {
    built,
    started: 0,
    stopped: 0,
    buildProtocol() {
      const p = make();
      if (p !== null) built.push(p);
      return p as never;
    },
    doStart() {
      this.started++;
    },
    doStop() {
      this.stopped++;
    },
  };
}

function clientFactory(protocol: Recorder | null) {
  const events: string[] = [];
  const failed = Promise.withResolvers<Failure>();
  const connectors: Connector[] = [];
  return {
    events,
    failed: failed.promise,
    connectors,
    buildProtocol: () => protocol as never,
    doStart() {},
    doStop() {},
    startedConnecting(c: Connector) {
      connectors.push(c);
      events.push("started");
    },
    clientConnectionFailed(c: Connector, reason: Failure) {
      connectors.push(c);
      events.push("failed");
      failed.resolve(reason);
    },
    clientConnectionLost(c: Connector) {
      connectors.push(c);
      events.push("lost");
    },
  };
}

function portOf(port: TCPPort): number {
  return port.getHost().port;
}

Deno.test("listenTCP binds at once and reports the real port for port 0", async () => {
  const factory = serverFactory(() => new Echo());
  const port = listenTCP(0, factory, LOOPBACK);
  try {
    assert.equal(port.getHost().type, "TCP");
    assert.equal(port.getHost().host, "127.0.0.1");
    assert.ok(portOf(port) > 0);
    assert.equal(factory.started, 1);
  } finally {
    await port.stopListening();
  }
  assert.equal(factory.stopped, 1);
});

Deno.test("TCP transport echoes and closes cleanly with ConnectionDone on both sides", async () => {
  const server = serverFactory(() => new Echo());
  const port = listenTCP(0, server, LOOPBACK);
  const client = new Recorder();
  client.connectionMade = () => client.transport!.write("hello, torsion");
  const cf = clientFactory(client);
  try {
    connectTCP("127.0.0.1", portOf(port), cf);
    await within(5, client.made, "the connection");
    while (client.received < 14) await new Promise((r) => setTimeout(r, 1));
    assert.equal(client.text(), "hello, torsion");
    assert.equal(client.transport!.getPeer().type, "TCP");
    client.transport!.loseConnection();
    const reason = await within(5, client.lost, "connectionLost");
    assert.ok(reason.value instanceof ConnectionDone);
    const serverReason = await within(5, server.built[0].lost, "server connectionLost");
    assert.ok(serverReason.value instanceof ConnectionDone);
    assert.deepEqual(cf.events, ["started", "lost"]);
    assert.equal(cf.connectors[0], cf.connectors[1], "the same connector is passed to each");
  } finally {
    await port.stopListening();
  }
});

Deno.test("TCP transport delivers 60 MiB written before loseConnection, whole", async () => {
  const size = 60 * 1024 * 1024;
  const sender = new Recorder();
  sender.connectionMade = () => {
    const chunk = new Uint8Array(1024 * 1024).fill(7);
    for (let i = 0; i < 60; i++) sender.transport!.write(chunk);
    sender.transport!.loseConnection();
  };
  const server = serverFactory(() => sender);
  const port = listenTCP(0, server, LOOPBACK);
  const receiver = new Recorder();
  try {
    connectTCP("127.0.0.1", portOf(port), clientFactory(receiver));
    const reason = await within(60, receiver.lost, "all 60 MiB");
    assert.equal(receiver.received, size);
    assert.ok(reason.value instanceof ConnectionDone);
    assert.ok((await sender.lost).value instanceof ConnectionDone);
  } finally {
    await port.stopListening();
  }
});

Deno.test("connectTCP to a closed port fails with ConnectionRefusedError", async () => {
  const port = listenTCP(0, serverFactory(() => new Echo()), LOOPBACK);
  const dead = portOf(port);
  await port.stopListening();
  const cf = clientFactory(new Recorder());
  connectTCP("127.0.0.1", dead, cf);
  const reason = await within(5, cf.failed, "the refusal");
  assert.ok(reason.value instanceof ConnectionRefusedError, String(reason.value));
  assert.deepEqual(cf.events, ["started", "failed"]);
});

Deno.test("buildProtocol returning null refuses the connection", async () => {
  const port = listenTCP(0, serverFactory(() => null), LOOPBACK);
  const client = new Recorder();
  try {
    connectTCP("127.0.0.1", portOf(port), clientFactory(client));
    const reason = await within(5, client.lost, "the refused connection to close");
    assert.ok(reason.value instanceof ConnectionDone || reason.value instanceof ConnectionLost);
    assert.equal(client.received, 0);
  } finally {
    await port.stopListening();
  }
});

Deno.test("a connection reset before it is accepted is skipped quietly; the port carries on", async () => {
  const accepted: Recorder[] = [];
  const port = listenTCP(
    0,
    serverFactory(() => {
      const r = new Recorder();
      accepted.push(r);
      return r;
    }),
    LOOPBACK,
  );
  const lines: string[] = [];
  const before = setLogSink((text) => lines.push(text));
  try {
    // The client connects and resets (SO_LINGER 0) while this thread is
    // blocked, so the reset connection is waiting in the accept queue.
    const reset = new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        "import socket, struct, sys; s = socket.create_connection(('127.0.0.1', int(sys.argv[1])));" +
        " s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close()",
        String(portOf(port)),
      ],
    }).outputSync();
    assert.ok(reset.success, new TextDecoder().decode(reset.stderr));
    const client = new Recorder();
    connectTCP("127.0.0.1", portOf(port), clientFactory(client));
    await within(5, client.made, "the next connection");
    await within(
      5,
      (async () => {
        while (!accepted.some((r) => r.transport !== null)) {
          await new Promise((r) => setTimeout(r, 5));
        }
      })(),
      "the server side of the next connection",
    );
    client.transport!.loseConnection();
    await within(5, client.lost, "the close");
    assert.deepEqual(lines.filter((line) => line.includes("[error]")), []);
  } finally {
    setLogSink(before);
    await port.stopListening();
  }
});

Deno.test("an exception in dataReceived closes that connection with the error; the port carries on", async () => {
  class Boom extends Recorder {
    override dataReceived(): void {
      throw new RangeError("bad input");
    }
  }
  const server = serverFactory(() => new Boom());
  const port = listenTCP(0, server, LOOPBACK);
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const first = new Recorder();
    first.connectionMade = () => first.transport!.write("x");
    connectTCP("127.0.0.1", portOf(port), clientFactory(first));
    await within(5, first.lost, "the first connection to close");
    const reason = await within(5, server.built[0].lost, "the server side to close");
    assert.ok(reason.value instanceof RangeError);
    assert.equal(errors.length > 0, true, "the error is logged");

    const second = new Recorder();
    connectTCP("127.0.0.1", portOf(port), clientFactory(second));
    await within(5, second.made, "a second connection");
    second.transport!.loseConnection();
    await within(5, second.lost, "the second connection to close");
  } finally {
    console.error = originalError;
    await port.stopListening();
  }
});

Deno.test("abortConnection reports ConnectionAborted on a later turn, and writes after it are dropped", async () => {
  const port = listenTCP(0, serverFactory(() => new Echo()), LOOPBACK);
  const client = new Recorder();
  try {
    connectTCP("127.0.0.1", portOf(port), clientFactory(client));
    await within(5, client.made, "the connection");
    let lostSynchronously = false;
    client.lost.then(() => (lostSynchronously = true));
    client.transport!.abortConnection();
    assert.equal(lostSynchronously, false, "connectionLost must not run re-entrantly");
    client.transport!.write("dropped"); // must not throw
    const reason = await within(5, client.lost, "connectionLost");
    assert.ok(reason.value instanceof ConnectionAborted);
  } finally {
    await port.stopListening();
  }
});

Deno.test("a streaming producer is paused past bufferSize and resumed when the buffer drains", async () => {
  const events: string[] = [];
  const producer: PushProducer = {
    pauseProducing: () => events.push("pause"),
    resumeProducing: () => events.push("resume"),
    stopProducing: () => events.push("stop"),
  };
  const sender = new Recorder();
  sender.connectionMade = () => {
    const t = sender.transport! as Transport & { bufferSize: number };
    t.bufferSize = 500;
    t.registerProducer(producer, true);
    t.write(new Uint8Array(1000));
    assert.deepEqual(events, ["pause"]);
  };
  const port = listenTCP(0, serverFactory(() => sender), LOOPBACK);
  const receiver = new Recorder();
  try {
    connectTCP("127.0.0.1", portOf(port), clientFactory(receiver));
    await within(5, sender.made, "the connection");
    while (events.length < 2) await new Promise((r) => setTimeout(r, 1));
    assert.deepEqual(events, ["pause", "resume"]);
    assert.throws(() => sender.transport!.registerProducer(producer, true), Error);
    sender.transport!.unregisterProducer();
    sender.transport!.loseConnection();
    await within(5, receiver.lost, "the connection to close");
    assert.equal(receiver.received, 1000);
  } finally {
    await port.stopListening();
  }
});

Deno.test("factory doStart/doStop count ports: startFactory once, stopFactory after the last", async () => {
  const factory = serverFactory(() => new Echo());
  const ports = [0, 1, 2].map(() => listenTCP(0, factory, LOOPBACK));
  assert.equal(factory.started, 3);
  await ports[0].stopListening();
  await ports[1].stopListening();
  assert.equal(factory.stopped, 2);
  await ports[2].stopListening();
  assert.equal(factory.stopped, 3);
});

Deno.test("loseWriteConnection half-closes: the peer sees EOF and can still reply", async () => {
  const serverSide = new Recorder();
  const writeLost = Promise.withResolvers<void>();
  Object.assign(serverSide, { writeConnectionLost: () => writeLost.resolve() });
  serverSide.connectionMade = () => {
    serverSide.transport!.write("bye");
    serverSide.transport!.loseWriteConnection();
  };
  const port = listenTCP(0, serverFactory(() => serverSide), LOOPBACK);
  const client = new Recorder();
  const readLost = Promise.withResolvers<void>();
  Object.assign(client, {
    readConnectionLost: () => readLost.resolve(),
    writeConnectionLost: () => {},
  });
  try {
    connectTCP("127.0.0.1", portOf(port), clientFactory(client));
    await within(5, readLost.promise, "readConnectionLost on the client");
    await within(5, writeLost.promise, "writeConnectionLost on the server");
    // As in Twisted, writes are dropped once the write side is shut down.
    serverSide.transport!.write("dropped after half-close");
    assert.equal(client.text(), "bye");
    client.transport!.write("ack");
    while (serverSide.received < 3) await new Promise((r) => setTimeout(r, 1));
    assert.equal(serverSide.text(), "ack");
    client.transport!.loseConnection();
    await within(5, client.lost, "the client to close");
    assert.equal(client.text(), "bye");
    assert.ok(
      (await within(5, client.lost, "the client to close")).value instanceof ConnectionDone,
    );
    await within(5, serverSide.lost, "the server to close");
  } finally {
    await port.stopListening();
  }
});

Deno.test("a peer without half-close support gets connectionLost(ConnectionDone) on EOF", async () => {
  const serverSide = new Recorder();
  serverSide.connectionMade = () => serverSide.transport!.loseWriteConnection();
  const port = listenTCP(0, serverFactory(() => serverSide), LOOPBACK);
  const client = new Recorder();
  try {
    connectTCP("127.0.0.1", portOf(port), clientFactory(client));
    const reason = await within(5, client.lost, "connectionLost on the client");
    assert.ok(reason.value instanceof ConnectionDone);
    await within(5, serverSide.lost, "the server to close");
  } finally {
    await port.stopListening();
  }
});

Deno.test("backpressure: a reader that stops pauses a 1 GiB producer; memory stays bounded, nothing is lost", async () => {
  const total = 1024 * 1024 * 1024;
  const chunk = new Uint8Array(64 * 1024).fill(1);
  const state = { sent: 0, paused: false, pauses: 0 };

  class Source extends Recorder {
    override connectionMade(): void {
      const t = this.transport!;
      const producer: PushProducer = {
        pauseProducing: () => {
          state.paused = true;
          state.pauses++;
        },
        resumeProducing: () => {
          state.paused = false;
          while (!state.paused && state.sent < total) {
            state.sent += chunk.length;
            t.write(chunk);
          }
          if (state.sent >= total) {
            t.unregisterProducer();
            t.loseConnection();
          }
        },
        stopProducing: () => {},
      };
      t.registerProducer(producer, true);
      producer.resumeProducing();
    }
  }

  class Sink extends Recorder {
    override connectionMade(): void {
      this.transport!.pauseProducing(); // stop reading
    }
    override dataReceived(data: Uint8Array): void {
      this.received += data.length; // count only: keeping 1 GiB would defeat the test
    }
  }

  const port = listenTCP(0, serverFactory(() => new Source()), LOOPBACK);
  const sink = new Sink();
  try {
    const rssBefore = Deno.memoryUsage().rss;
    connectTCP("127.0.0.1", portOf(port), clientFactory(sink));
    await within(5, sink.made, "the connection");
    // Let the socket buffers fill and the producer stall.
    while (!state.paused) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 300));
    const stalledAt = state.sent;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(state.sent, stalledAt, "the producer must stay paused while nobody reads");
    assert.ok(state.paused);
    assert.equal(sink.received, 0);
    const growth = Deno.memoryUsage().rss - rssBefore;
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB`);

    sink.transport!.resumeProducing();
    const reason = await within(120, sink.lost, "1 GiB to arrive");
    assert.ok(reason.value instanceof ConnectionDone);
    assert.equal(sink.received, total);
    assert.ok(state.pauses > 1, "the producer was paused and resumed as the reader drained");
  } finally {
    await port.stopListening();
  }
});
