import assert from "node:assert/strict";
import { Failure } from "../../defer/failure.ts";
import { Clock } from "../../reactor/clock.ts";
import { ConnectionDone } from "../../reactor/connection_errors.ts";
import {
  type HAProxyProtocolWrapper,
  HAProxyWrappingFactory,
  type HAProxyWrappingFactoryOptions,
} from "../../reactor/haproxy_wrapping_factory.ts";
import type { Address, FactoryLike, ProtocolLike, Transport } from "../../reactor/interfaces.ts";
import { type LogEvent, setLogLevel, setLogSink } from "../../reactor/log.ts";
import { StringTransport } from "../../testing/string_transport.ts";
import { concat, splits, text, u16, v2 } from "./_proxy_headers.ts";

const BALANCER: Address = { type: "TCP", host: "127.0.0.1", port: 50000 };
const BACKEND: Address = { type: "TCP", host: "127.0.0.1", port: 8080 };
const V1 = text("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n");
const CLIENT: Address = { type: "TCP", host: "192.0.2.7", port: 56324 };
const FRONTEND: Address = { type: "TCP", host: "198.51.100.1", port: 443 };
const decoder = new TextDecoder();

/** Records what happens to it, and what its transport says at `connectionMade`. */
class Probe implements ProtocolLike {
  events: string[] = [];
  transport: Transport | null = null;
  peerAtStart: Address | null = null;
  hostAtStart: Address | null = null;
  data = "";
  closeOnConnect = false;
  makeConnection(transport: Transport): void {
    this.transport = transport;
    this.peerAtStart = transport.getPeer();
    this.hostAtStart = transport.getHost();
    this.events.push("connectionMade");
    if (this.closeOnConnect) transport.loseConnection();
  }
  dataReceived(data: Uint8Array): void {
    this.data += decoder.decode(data);
    this.events.push("dataReceived");
  }
  connectionLost(reason: Failure): void {
    this.events.push(`connectionLost ${reason.type?.name}`);
  }
}

class ProbeFactory implements FactoryLike {
  built: Array<[Address, Probe]> = [];
  refuse = false;
  fail = false;
  started = 0;
  stopped = 0;
  buildProtocol(addr: Address): ProtocolLike | null {
    if (this.fail) throw new Error("no protocol today");
    if (this.refuse) return null;
    const probe = new Probe();
    this.built.push([addr, probe]);
    return probe;
  }
  doStart(): void {
    this.started++;
  }
  doStop(): void {
    this.stopped++;
  }
}

function setUp(options: HAProxyWrappingFactoryOptions = {}) {
  const clock = new Clock();
  const wrapped = new ProbeFactory();
  const factory = new HAProxyWrappingFactory(wrapped, { clock, ...options });
  const wrapper = factory.buildProtocol(BALANCER);
  const transport = new StringTransport({ peerAddress: BALANCER, hostAddress: BACKEND });
  wrapper.makeConnection(transport);
  const events: LogEvent[] = [];
  const before = setLogSink((_, event) => events.push(event));
  const restore = (): void => {
    setLogSink(before);
  };
  return { clock, wrapped, factory, wrapper, transport, events, restore };
}

Deno.test("HAProxyWrappingFactory builds and connects the protocol with the header's addresses", () => {
  const { clock, wrapped, wrapper, transport, restore } = setUp();
  try {
    assert.equal(wrapped.built.length, 0, "no protocol before the header");
    wrapper.dataReceived(V1);
    assert.equal(wrapped.built.length, 1);
    const [addr, probe] = wrapped.built[0];
    assert.deepEqual(addr, CLIENT);
    assert.deepEqual(probe.peerAtStart, CLIENT);
    assert.deepEqual(probe.hostAtStart, FRONTEND);
    assert.equal(probe.transport, wrapper);
    assert.equal(wrapper.proxyInfo!.version, 1);
    assert.equal(clock.getDelayedCalls().length, 0, "the timeout is cancelled");
    wrapper.dataReceived(text("hello"));
    probe.transport!.write("hi");
    assert.equal(transport.valueString(), "hi");
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    assert.deepEqual(probe.events, [
      "connectionMade",
      "dataReceived",
      "connectionLost ConnectionDone",
    ]);
    assert.equal(wrapper.wrappedProtocol, null);
  } finally {
    restore();
  }
});

Deno.test("HAProxyWrappingFactory gives bytes after the header to the protocol, in every split", () => {
  const stream = concat(V1, text("GET / HTTP/1.0\r\n\r\n"));
  for (const chunks of splits(stream)) {
    const { wrapped, wrapper, restore } = setUp();
    try {
      for (const chunk of chunks) wrapper.dataReceived(chunk);
      assert.equal(wrapped.built.length, 1);
      const probe = wrapped.built[0][1];
      assert.deepEqual(probe.peerAtStart, CLIENT);
      assert.equal(probe.data, "GET / HTTP/1.0\r\n\r\n");
      assert.equal(probe.events[0], "connectionMade");
    } finally {
      restore();
    }
  }
});

Deno.test("HAProxyWrappingFactory keeps the real addresses for LOCAL and UNKNOWN", () => {
  for (const header of [v2(0x20, 0x00), text("PROXY UNKNOWN\r\n"), v2(0x21, 0x00)]) {
    const { wrapped, wrapper, restore } = setUp();
    try {
      wrapper.dataReceived(header);
      const [addr, probe] = wrapped.built[0];
      assert.deepEqual(addr, BALANCER);
      assert.deepEqual(probe.peerAtStart, BALANCER);
      assert.deepEqual(probe.hostAtStart, BACKEND);
    } finally {
      restore();
    }
  }
});

Deno.test("HAProxyWrappingFactory reads a v2 header's IPv4 addresses", () => {
  const { wrapped, wrapper, restore } = setUp();
  try {
    wrapper.dataReceived(
      v2(0x21, 0x11, [127, 0, 0, 2, 127, 0, 0, 1, ...u16(40000), ...u16(8080)]),
    );
    assert.deepEqual(wrapped.built[0][1].peerAtStart, {
      type: "TCP",
      host: "127.0.0.2",
      port: 40000,
    });
  } finally {
    restore();
  }
});

Deno.test("HAProxyWrappingFactory drops a connection without a valid header, with an error logged", async (t) => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["no header", text("GET / HTTP/1.1\r\n"), /Expected a PROXY protocol header, not "GET/],
    ["a malformed v1 header", text("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), /4 fields after/],
    ["an oversized v1 header", text(`PROXY ${"1".repeat(200)}`), /No CRLF within the 107/],
    ["an oversized v2 header", v2(0x20, 0, new Uint8Array(5000)), /longer than the limit of 4096/],
  ];
  for (const [name, bytes, message] of cases) {
    await t.step(name, () => {
      const { wrapped, wrapper, transport, events, clock, restore } = setUp();
      try {
        wrapper.dataReceived(bytes);
        wrapper.dataReceived(text("more bytes are ignored"));
        assert.equal(wrapped.built.length, 0);
        assert.ok(transport.disconnected, "aborted");
        assert.equal(events.length, 1);
        assert.equal(events[0].level, "error");
        assert.equal(events[0].namespace, "haproxy");
        assert.match(events[0].message, /^Dropping the connection from 127\.0\.0\.1:50000: /);
        assert.match(events[0].message, message);
        assert.equal(clock.getDelayedCalls().length, 0);
        wrapper.connectionLost(new Failure(new ConnectionDone()));
        assert.equal(events.length, 1, "nothing more is logged");
      } finally {
        restore();
      }
    });
  }
});

Deno.test("HAProxyWrappingFactory drops a connection whose header is late, on the injected clock", () => {
  const { wrapped, wrapper, transport, events, clock, restore } = setUp({ timeout: 5 });
  try {
    wrapper.dataReceived(V1.subarray(0, 10));
    clock.advance(4.9);
    assert.equal(transport.disconnected, false);
    clock.advance(0.1);
    assert.ok(transport.disconnected);
    assert.equal(events.length, 1);
    assert.match(events[0].message, /: PROXY header timed out after 5 seconds$/);
    wrapper.dataReceived(V1.subarray(10));
    assert.equal(wrapped.built.length, 0);
  } finally {
    restore();
  }
});

Deno.test("HAProxyWrappingFactory waits for ever with an infinite timeout", () => {
  const { wrapper, transport, clock, restore } = setUp({ timeout: Infinity });
  try {
    assert.equal(clock.getDelayedCalls().length, 0);
    wrapper.dataReceived(V1.subarray(0, 10));
    clock.advance(1e9);
    assert.equal(transport.disconnected, false);
  } finally {
    restore();
  }
});

Deno.test("HAProxyWrappingFactory logs a connection closed before its header", () => {
  const { wrapped, wrapper, events, clock, restore } = setUp();
  try {
    wrapper.dataReceived(V1.subarray(0, 10));
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(wrapped.built.length, 0);
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.equal(events.length, 1);
    assert.equal(events[0].level, "warn");
    assert.equal(
      events[0].message,
      "Connection from 127.0.0.1:50000 closed before its PROXY header was complete",
    );
  } finally {
    restore();
  }
  const { wrapper: silent, events: quiet, restore: restore2 } = setUp();
  const level = setLogLevel("debug");
  try {
    silent.dataReceived(new Uint8Array(0));
    silent.connectionLost(new Failure(new ConnectionDone()));
    assert.deepEqual(quiet.map((e) => [e.level, e.message]), [[
      "debug",
      "Connection from 127.0.0.1:50000 closed before sending a PROXY header",
    ]]);
  } finally {
    setLogLevel(level);
    restore2();
  }
});

Deno.test("HAProxyWrappingFactory closes when the wrapped factory refuses or fails", () => {
  {
    const { wrapped, wrapper, transport, events, restore } = setUp();
    try {
      wrapped.refuse = true;
      wrapper.dataReceived(concat(V1, text("data")));
      assert.ok(transport.disconnecting);
      assert.equal(events.length, 0, "a refusal is not an error");
    } finally {
      restore();
    }
  }
  {
    const { wrapped, wrapper, transport, events, restore } = setUp();
    try {
      wrapped.fail = true;
      wrapper.dataReceived(V1);
      assert.ok(transport.disconnecting);
      assert.equal(events.length, 1);
      assert.equal(
        events[0].message,
        "Unhandled error in ProbeFactory.buildProtocol() for 192.0.2.7:56324",
      );
    } finally {
      restore();
    }
  }
});

Deno.test("HAProxyWrappingFactory keeps the bytes after the header from a protocol that closed", () => {
  const clock = new Clock();
  const probe = new Probe();
  probe.closeOnConnect = true;
  const factory = new HAProxyWrappingFactory(
    { buildProtocol: () => probe, doStart() {}, doStop() {} },
    { clock },
  );
  const wrapper = factory.buildProtocol(BALANCER);
  const transport = new StringTransport({ peerAddress: BALANCER });
  wrapper.makeConnection(transport);
  wrapper.dataReceived(concat(V1, text("data")));
  assert.deepEqual(probe.events, ["connectionMade"]);
  assert.ok(wrapper.disconnecting);
});

Deno.test("HAProxyProtocolWrapper offers half-close only when the protocol takes part", () => {
  const { wrapped, wrapper, restore } = setUp();
  try {
    assert.equal(typeof wrapper.readConnectionLost, "undefined", "not before the header");
    wrapper.dataReceived(V1);
    assert.equal(typeof wrapper.readConnectionLost, "undefined");
    assert.ok(wrapped.built[0][1] instanceof Probe);
  } finally {
    restore();
  }
  const calls: string[] = [];
  const halfClosing: ProtocolLike = {
    makeConnection() {},
    dataReceived() {},
    connectionLost() {},
    readConnectionLost: () => calls.push("read"),
    writeConnectionLost: () => calls.push("write"),
  };
  const factory = new HAProxyWrappingFactory(
    { buildProtocol: () => halfClosing, doStart() {}, doStop() {} },
    { clock: new Clock() },
  );
  const wrapper2 = factory.buildProtocol(BALANCER);
  wrapper2.makeConnection(new StringTransport());
  wrapper2.dataReceived(V1);
  wrapper2.readConnectionLost!();
  wrapper2.writeConnectionLost!();
  assert.deepEqual(calls, ["read", "write"]);
});

Deno.test("HAProxyProtocolWrapper relays the transport's calls", () => {
  const { wrapped, wrapper, transport, restore } = setUp();
  try {
    wrapper.dataReceived(V1);
    const t = wrapped.built[0][1].transport as HAProxyProtocolWrapper;
    t.writeSequence(["a", "b"]);
    t.setTcpNoDelay(true);
    t.setTcpKeepAlive(true);
    t.pauseProducing();
    assert.equal(transport.producerState, "paused");
    t.resumeProducing();
    const producer = { resumeProducing() {}, pauseProducing() {}, stopProducing() {} };
    t.registerProducer(producer, true);
    assert.equal(transport.producer, producer);
    t.unregisterProducer();
    t.loseWriteConnection();
    assert.ok(transport.writeDisconnecting);
    assert.equal(t.disconnecting, false);
    t.loseConnection();
    assert.ok(t.disconnecting);
    assert.equal(transport.valueString(), "ab");
    assert.equal(transport.tcpNoDelay, true);
    assert.equal(transport.tcpKeepAlive, true);
  } finally {
    restore();
  }
});

Deno.test("HAProxyWrappingFactory relays start and stop, names itself, and checks its options", () => {
  const wrapped = new ProbeFactory();
  const factory = new HAProxyWrappingFactory(wrapped);
  factory.doStart();
  factory.doStop();
  assert.deepEqual([wrapped.started, wrapped.stopped], [1, 1]);
  assert.equal(factory.logPrefix(), "ProbeFactory (PROXY)");
  assert.equal(factory.timeout, 10);
  assert.equal(factory.maxHeaderLength, 4096);
  const wrapper = factory.buildProtocol(BALANCER);
  assert.equal(wrapper.logPrefix(), "header (PROXY)");
  assert.throws(() => new HAProxyWrappingFactory(wrapped, { timeout: 0 }), RangeError);
  assert.throws(() => new HAProxyWrappingFactory(wrapped, { timeout: NaN }), RangeError);
  assert.throws(() => new HAProxyWrappingFactory(wrapped, { maxHeaderLength: 10 }), RangeError);
});
