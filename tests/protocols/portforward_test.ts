import assert from "node:assert/strict";
import type { Failure } from "../../defer/failure.ts";
import { ConnectionDone } from "../../reactor/connection_errors.ts";
import { reactor } from "../../reactor/deno_reactor.ts";
import type { PushProducer, Transport } from "../../reactor/interfaces.ts";
import { setLogSink } from "../../reactor/log.ts";
import { ProxyFactory } from "../../protocols/portforward.ts";
import { within } from "../_helpers.ts";

const LOOPBACK = { interface: "127.0.0.1" };

/** The destination: records bytes, optionally echoes, can stop reading. */
class Sink {
  transport: Transport | null = null;
  received = 0;
  chunks: Uint8Array[] = [];
  keep = true;
  echo = false;
  made = Promise.withResolvers<void>();
  lost = Promise.withResolvers<Failure>();
  makeConnection(t: Transport): void {
    this.transport = t;
    this.made.resolve();
  }
  dataReceived(data: Uint8Array): void {
    this.received += data.length;
    if (this.keep) this.chunks.push(data);
    if (this.echo) this.transport!.write(data);
  }
  connectionLost(reason: Failure): void {
    this.lost.resolve(reason);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.received);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function sinkFactory(sinks: Sink[], configure: (s: Sink) => void = () => {}) {
  return {
    buildProtocol: () => {
      const s = new Sink();
      configure(s);
      sinks.push(s);
      return s;
    },
    doStart() {},
    doStop() {},
  };
}

/** A destination server and a proxy to it; `close()` stops both. */
function setup(configure?: (s: Sink) => void) {
  const sinks: Sink[] = [];
  const destination = reactor.listenTCP(0, sinkFactory(sinks, configure), LOOPBACK);
  const proxy = reactor.listenTCP(
    0,
    new ProxyFactory("127.0.0.1", destination.getHost().port, { timeout: 5 }),
    LOOPBACK,
  );
  return {
    sinks,
    proxyPort: proxy.getHost().port,
    async close(): Promise<void> {
      await proxy.stopListening();
      await destination.stopListening();
    },
  };
}

async function connect(port: number): Promise<Deno.TcpConn> {
  return await Deno.connect({ hostname: "127.0.0.1", port });
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

async function readUntil(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const got = await conn.read(out.subarray(at));
    if (got === null) break;
    at += got;
  }
  return out.subarray(0, at);
}

function pattern(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return out;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return a.findIndex((byte, i) => b[i] !== byte);
}

Deno.test("ProxyFactory forwards bytes both ways", async () => {
  const s = setup((sink) => (sink.echo = true));
  const conn = await connect(s.proxyPort);
  try {
    await writeAll(conn, new TextEncoder().encode("hello through the proxy"));
    const back = await within(5, readUntil(conn, 23), "the echo");
    assert.equal(new TextDecoder().decode(back), "hello through the proxy");
  } finally {
    conn.close();
    await within(5, s.sinks[0].lost.promise, "the destination to close");
    await s.close();
  }
});

Deno.test("ProxyFactory: 60 MiB from the client arrive whole and in order", async () => {
  const s = setup();
  const data = pattern(60 * 1024 * 1024);
  const conn = await connect(s.proxyPort);
  await writeAll(conn, data);
  conn.close();
  const sink = await within(
    5,
    (async () => {
      while (s.sinks.length === 0) await new Promise((r) => setTimeout(r, 5));
      return s.sinks[0];
    })(),
    "the destination connection",
  );
  const reason = await within(30, sink.lost.promise, "the destination to close");
  assert.ok(reason.check(ConnectionDone));
  assert.equal(sink.received, data.length);
  assert.equal(firstDifference(sink.bytes(), data), -1);
  await s.close();
});

Deno.test("ProxyFactory: the destination closing closes the client after its data", async () => {
  const data = pattern(8 * 1024 * 1024, 3);
  const s = setup((sink) => {
    sink.makeConnection = (t: Transport) => {
      Sink.prototype.makeConnection.call(sink, t);
      t.write(data);
      t.loseConnection();
    };
  });
  const conn = await connect(s.proxyPort);
  try {
    const got = await within(30, readUntil(conn, data.length + 1), "the data and the close");
    assert.equal(got.length, data.length, "everything, then end of stream");
    assert.equal(firstDifference(got, data), -1);
  } finally {
    conn.close();
    await s.close();
  }
});

Deno.test("ProxyFactory: a refused destination closes the client", async () => {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = free.addr.port;
  free.close();
  const logged: string[] = [];
  const before = setLogSink((text) => logged.push(text));
  const proxy = reactor.listenTCP(0, new ProxyFactory("127.0.0.1", deadPort), LOOPBACK);
  try {
    const conn = await connect(proxy.getHost().port);
    const got = await within(5, readUntil(conn, 1), "the close");
    assert.equal(got.length, 0);
    conn.close();
    assert.match(logged.join("\n"), /\[warn\] portforward: could not connect to 127\.0\.0\.1:\d+/);
  } finally {
    setLogSink(before);
    await proxy.stopListening();
  }
});

Deno.test("ProxyFactory: a client that leaves while connecting leaves nothing behind", async () => {
  // A destination that accepts slowly: a listener nobody accepts from.
  const s = setup();
  const conn = await connect(s.proxyPort);
  conn.close();
  await new Promise((r) => setTimeout(r, 100));
  for (const sink of s.sinks) await within(5, sink.lost.promise, "the destination to close");
  await s.close();
});

Deno.test("ProxyFactory: backpressure holds a fast client to a destination that stops reading", async () => {
  let sinkTransport: (Transport & PushProducer) | null = null;
  const s = setup((sink) => {
    sink.keep = false;
    sink.made.promise.then(() => {
      sinkTransport = sink.transport as Transport & PushProducer;
      sinkTransport.pauseProducing();
    });
  });
  const total = 256 * 1024 * 1024;
  const chunk = new Uint8Array(1024 * 1024).fill(0x61);
  const conn = await connect(s.proxyPort);
  const rss0 = Deno.memoryUsage().rss;
  let sent = 0;
  let stalled = false;
  const writer = (async () => {
    while (sent < total) {
      const n = await conn.write(chunk.subarray(0, Math.min(chunk.length, total - sent)));
      sent += n;
    }
  })();
  // Wait until the writes stop making progress: the proxy stopped reading.
  let last = -1;
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 25));
    if (sent === last && sent > 0) {
      stalled = true;
      break;
    }
    last = sent;
  }
  const growth = Deno.memoryUsage().rss - rss0;
  assert.ok(stalled, `the client kept writing: ${sent} bytes`);
  assert.ok(sent < total / 2, `the client stalled only after ${sent} bytes`);
  assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${growth} bytes`);
  // Let the destination read again: everything arrives.
  sinkTransport!.resumeProducing();
  await within(60, writer, "the client to finish writing");
  conn.close();
  const sink = s.sinks[0];
  await within(60, sink.lost.promise, "the destination to close");
  assert.equal(sink.received, total);
  await s.close();
});

Deno.test("ProxyFactory: a destination aborting mid-stream ends the client's connection", async () => {
  const s = setup((sink) => (sink.keep = false));
  const conn = await connect(s.proxyPort);
  const chunk = new Uint8Array(64 * 1024).fill(0x62);
  let writeError: unknown;
  const writer = (async () => {
    try {
      for (let i = 0; i < 4096; i++) await writeAll(conn, chunk);
    } catch (error) {
      writeError = error;
    }
  })();
  try {
    // Once some data has gone through, the destination drops the connection abruptly.
    while (s.sinks.length === 0 || s.sinks[0].received < 1024 * 1024) {
      await within(10, new Promise((r) => setTimeout(r, 5)), "data to flow");
    }
    s.sinks[0].transport!.abortConnection();
    await within(5, s.sinks[0].lost.promise, "the destination to close");
    // The client sees its connection end: end of stream or an error, not a hang.
    const got = await within(10, readUntil(conn, 1).catch(() => new Uint8Array(0)), "the end");
    assert.equal(got.length, 0);
    await within(10, writer, "the client's writes to stop");
    assert.ok(writeError !== undefined, "writing to a closed proxy connection fails");
  } finally {
    conn.close();
    await s.close();
  }
});

Deno.test("ProxyFactory rejects a bad port", () => {
  assert.throws(() => new ProxyFactory("h", 0), RangeError);
  assert.throws(() => new ProxyFactory("h", 70000), RangeError);
});
