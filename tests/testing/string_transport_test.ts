import assert from "node:assert/strict";
import type { Failure } from "../../defer/failure.ts";
import { ConnectionAborted, ConnectionDone } from "../../reactor/connection_errors.ts";
import type { PushProducer, TCPTransport, UNIXAddress } from "../../reactor/interfaces.ts";
import { Protocol } from "../../protocols/protocol.ts";
import { StringTransport, StringTransportWithDisconnection } from "../../testing/mod.ts";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

class Producer implements PushProducer {
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

class Recorder extends Protocol {
  reasons: Failure[] = [];
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.reasons.push(reason);
  }
}

Deno.test("StringTransport records writes of bytes and strings", () => {
  const t = new StringTransport();
  t.write(encode("abc"));
  t.write("déf");
  t.writeSequence(["g", encode("h"), ""]);
  assert.deepEqual(t.value(), encode("abcdéfgh"));
  assert.equal(t.valueString(), "abcdéfgh");
});

Deno.test("StringTransport copies what is written", () => {
  const t = new StringTransport();
  const buffer = encode("abc");
  t.write(buffer);
  buffer[0] = 0x7a;
  assert.equal(t.valueString(), "abc");
});

Deno.test("StringTransport.clear() forgets what was written", () => {
  const t = new StringTransport();
  t.write("one");
  t.clear();
  assert.equal(t.value().length, 0);
  t.write("two");
  assert.equal(t.valueString(), "two");
});

Deno.test("StringTransport.write() rejects what is neither bytes nor a string", () => {
  const t = new StringTransport();
  assert.throws(
    () => t.write(42 as unknown as string),
    (e: unknown) =>
      e instanceof TypeError && e.message === "Data must be a Uint8Array or a string, not number",
  );
  assert.throws(
    () => t.writeSequence(["ok", [1, 2] as unknown as string]),
    /Data must be a Uint8Array or a string, not Array/,
  );
  assert.equal(t.valueString(), "");
});

Deno.test("StringTransport.loseConnection() only sets disconnecting", () => {
  const t = new StringTransport();
  assert.equal(t.disconnecting, false);
  t.loseConnection();
  assert.equal(t.disconnecting, true);
  assert.equal(t.disconnected, false);
  assert.equal(t.connected, true);
  t.write("after");
  assert.equal(t.valueString(), "after");
});

Deno.test("StringTransport.abortConnection() sets disconnected and disconnecting", () => {
  const t = new StringTransport();
  t.abortConnection();
  assert.equal(t.disconnected, true);
  assert.equal(t.disconnecting, true);
});

Deno.test("StringTransport records half-close and TCP options", () => {
  const t = new StringTransport();
  assert.deepEqual([t.writeDisconnecting, t.tcpNoDelay, t.tcpKeepAlive], [false, null, null]);
  t.loseWriteConnection();
  t.setTcpNoDelay(true);
  t.setTcpKeepAlive(false);
  assert.deepEqual([t.writeDisconnecting, t.tcpNoDelay, t.tcpKeepAlive], [true, true, false]);
});

Deno.test("StringTransport has Twisted's default addresses", () => {
  const t: TCPTransport = new StringTransport();
  assert.deepEqual(t.getHost(), { type: "TCP", host: "10.0.0.1", port: 12345 });
  assert.deepEqual(t.getPeer(), { type: "TCP", host: "192.168.1.1", port: 54321 });
});

Deno.test("StringTransport takes its addresses as options", () => {
  const host: UNIXAddress = { type: "UNIX", path: "/run/server.sock" };
  const peer: UNIXAddress = { type: "UNIX", path: "" };
  const t = new StringTransport({ hostAddress: host, peerAddress: peer });
  const h: UNIXAddress = t.getHost();
  assert.equal(h.path, "/run/server.sock");
  assert.equal(t.getPeer(), peer);
});

Deno.test("StringTransport records one producer at a time", async (t) => {
  await t.step("registering records it and does not resume it", () => {
    const transport = new StringTransport();
    const producer = new Producer();
    transport.registerProducer(producer, true);
    assert.equal(transport.producer, producer);
    assert.equal(transport.streaming, true);
    assert.deepEqual(producer.events, []);
  });

  await t.step("a second producer throws", () => {
    const transport = new StringTransport();
    transport.registerProducer(new Producer(), false);
    assert.throws(
      () => transport.registerProducer(new Producer(), true),
      (e: unknown) =>
        e instanceof Error &&
        e.message === "Cannot register two producers: Producer is still registered",
    );
    assert.equal(transport.streaming, false);
  });

  await t.step("unregistering forgets it", () => {
    const transport = new StringTransport();
    transport.registerProducer(new Producer(), true);
    transport.unregisterProducer();
    assert.equal(transport.producer, null);
    assert.equal(transport.streaming, null);
    transport.registerProducer(new Producer(), false);
    assert.equal(transport.streaming, false);
  });

  await t.step("unregistering without a producer throws", () => {
    const transport = new StringTransport();
    assert.throws(
      () => transport.unregisterProducer(),
      /^Error: Cannot unregister a producer unless one is registered$/,
    );
  });
});

Deno.test("StringTransport records its own producer state", async (t) => {
  await t.step("pause, resume, stop", () => {
    const transport = new StringTransport();
    assert.equal(transport.producerState, "producing");
    transport.pauseProducing();
    assert.equal(transport.producerState, "paused");
    transport.resumeProducing();
    assert.equal(transport.producerState, "producing");
    transport.stopProducing();
    assert.equal(transport.producerState, "stopped");
  });

  await t.step("a stopped transport cannot be resumed or paused", () => {
    const transport = new StringTransport();
    transport.stopProducing();
    assert.throws(() => transport.resumeProducing(), /Cannot resume a stopped producer/);
    assert.throws(() => transport.pauseProducing(), /Cannot resume a stopped producer/);
    assert.equal(transport.producerState, "stopped");
  });

  await t.step("a closing transport cannot be resumed unless lenient", () => {
    const strict = new StringTransport();
    strict.loseConnection();
    assert.throws(
      () => strict.resumeProducing(),
      /Cannot resume producing after loseConnection/,
    );
    const lenient = new StringTransport({ lenient: true });
    lenient.loseConnection();
    lenient.pauseProducing();
    assert.equal(lenient.producerState, "paused");
    lenient.resumeProducing();
    assert.equal(lenient.producerState, "producing");
  });
});

Deno.test("StringTransportWithDisconnection delivers connectionLost once", () => {
  const t = new StringTransportWithDisconnection();
  const p = new Recorder();
  t.protocol = p;
  p.makeConnection(t);
  t.loseConnection();
  t.loseConnection();
  t.abortConnection();
  assert.equal(p.reasons.length, 1);
  assert.ok(p.reasons[0].value instanceof ConnectionDone);
  assert.equal(p.reasons[0].getErrorMessage(), "Bye.");
  assert.equal(p.connected, false);
  assert.equal(t.connected, false);
  assert.equal(t.disconnecting, true);
});

Deno.test("StringTransportWithDisconnection.abortConnection() gives ConnectionAborted", () => {
  const t = new StringTransportWithDisconnection();
  const p = new Recorder();
  t.protocol = p;
  p.makeConnection(t);
  t.abortConnection();
  t.loseConnection();
  assert.equal(p.reasons.length, 1);
  assert.ok(p.reasons[0].value instanceof ConnectionAborted);
  assert.equal(t.disconnected, true);
});

Deno.test("StringTransportWithDisconnection needs its protocol before closing", () => {
  const t = new StringTransportWithDisconnection();
  assert.throws(
    () => t.loseConnection(),
    /StringTransportWithDisconnection.protocol is not set: set it before closing the connection/,
  );
  assert.equal(t.connected, true);
});
