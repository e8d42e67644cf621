import assert from "node:assert/strict";
import type { Failure } from "../../defer/mod.ts";
import { ConnectionDone } from "../../reactor/connection_errors.ts";
import type { ProtocolLike, Transport } from "../../reactor/interfaces.ts";
import { listenTCP } from "../../reactor/tcp.ts";
import { type LogEvent, setLogSink } from "../../reactor/log.ts";
import { within } from "../_helpers.ts";

/** Keeps every chunk it is given, uncopied, as a write queue would. */
class Keeper {
  transport: Transport | null = null;
  chunks: Uint8Array[] = [];
  #lost = Promise.withResolvers<Failure>();
  lost: Promise<Failure> = this.#lost.promise;
  makeConnection(t: Transport): void {
    this.transport = t;
  }
  dataReceived(data: Uint8Array): void {
    this.chunks.push(data);
  }
  connectionLost(reason: Failure): void {
    this.#lost.resolve(reason);
  }
}

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`message ${i} ${"x".repeat(i % 50)};`);
}

Deno.test("StreamTransport: chunks given to dataReceived are never overwritten by later reads", async () => {
  const keeper = new Keeper();
  const port = listenTCP(0, { buildProtocol: () => keeper, doStart() {}, doStop() {} }, {
    interface: "127.0.0.1",
  });
  const expected: Uint8Array[] = [];
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: port.getHost().port });
    try {
      // Small writes, each awaited, so the server sees many small reads.
      for (let i = 0; i < 2000; i++) {
        const m = message(i);
        expected.push(m);
        for (let done = 0; done < m.length;) done += await conn.write(m.subarray(done));
        if (i % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      // Then a burst big enough to fill whole buffers and grow them.
      const big = new Uint8Array(512 * 1024).map((_, i) => (i * 7) & 0xff);
      expected.push(big);
      for (let done = 0; done < big.length;) done += await conn.write(big.subarray(done));
    } finally {
      conn.close();
    }
    const reason = await within(10, keeper.lost, "the connection to end");
    assert.ok(reason.check(ConnectionDone));
  } finally {
    await port.stopListening();
  }
  const total = expected.reduce((n, m) => n + m.length, 0);
  const want = new Uint8Array(total);
  let at = 0;
  for (const m of expected) {
    want.set(m, at);
    at += m.length;
  }
  const got = new Uint8Array(keeper.chunks.reduce((n, c) => n + c.length, 0));
  at = 0;
  for (const c of keeper.chunks) {
    got.set(c, at);
    at += c.length;
  }
  assert.equal(got.length, want.length);
  // The first difference, not a diff of two large arrays.
  const firstDifference = want.findIndex((byte, i) => got[i] !== byte);
  assert.equal(firstDifference, -1, "every kept chunk still holds what was read into it");
  // Small reads share a buffer rather than each being copied into its own.
  const buffers = new Set(keeper.chunks.map((c) => c.buffer));
  assert.ok(
    buffers.size < keeper.chunks.length,
    `${keeper.chunks.length} chunks in ${buffers.size} buffers`,
  );
});

/** A protocol that writes what `write` gives it as soon as it is connected. */
function writerFactory(write: (t: Transport) => void) {
  const lost = Promise.withResolvers<Failure>();
  const made = Promise.withResolvers<Transport>();
  return {
    lost: lost.promise,
    made: made.promise,
    buildProtocol: () => ({
      makeConnection(t: Transport) {
        write(t);
        made.resolve(t);
      },
      dataReceived() {},
      connectionLost: (reason: Failure) => lost.resolve(reason),
    }),
    doStart() {},
    doStop() {},
  };
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    parts.push(buffer.slice(0, n));
  }
  const all = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

Deno.test("StreamTransport: small writes staged behind a write in flight arrive whole and in order", async () => {
  const encoder = new TextEncoder();
  const expected: Uint8Array[] = [];
  const big = new Uint8Array(300 * 1024).map((_, i) => (i * 13) & 0xff);
  const factory = writerFactory((t) => {
    const put = (data: Uint8Array | string) => {
      t.write(data);
      expected.push(typeof data === "string" ? encoder.encode(data) : data.slice());
    };
    put(big); // in flight: everything below is staged or queued behind it
    for (let i = 0; i < 20_000; i++) {
      switch (i % 5) {
        case 0:
          put(`line ${i}: héllo ☃ 😀\r\n`); // multi-byte UTF-8
          break;
        case 1:
          put(new Uint8Array([i & 0xff, (i >> 8) & 0xff, 0, 255]));
          break;
        case 2:
          put("x".repeat(4096)); // the largest staged string: up to 12 KiB of room asked
          break;
        case 3:
          put(new Uint8Array(5000).fill(i & 0xff)); // too big to stage: queued as given
          break;
        default:
          t.writeSequence(["a", new Uint8Array([1, 2]), "\ud800"]); // a lone surrogate too
          expected.push(encoder.encode("a"), new Uint8Array([1, 2]), encoder.encode("\ud800"));
      }
    }
    t.loseConnection();
  });
  const port = listenTCP(0, factory, { interface: "127.0.0.1" });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: port.getHost().port });
    let got: Uint8Array;
    try {
      got = await within(20, readAll(conn), "everything written");
    } finally {
      conn.close();
    }
    await within(5, factory.lost, "the connection to end");
    const want = new Uint8Array(expected.reduce((sum, p) => sum + p.length, 0));
    let at = 0;
    for (const p of expected) {
      want.set(p, at);
      at += p.length;
    }
    assert.equal(got.length, want.length);
    assert.ok(got.every((byte, i) => byte === want[i]), "the bytes differ");
  } finally {
    await port.stopListening();
  }
});

Deno.test("StreamTransport: a million 25-byte writes to a peer that does not read cost their size, not 500 bytes each", async () => {
  const line = "0123456789012345678901234"; // 25 bytes
  const count = 1_000_000;
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "run with --v8-flags=--expose-gc");
  gc();
  const before = Deno.memoryUsage().rss;
  let after = 0;
  const factory = writerFactory((t) => {
    for (let i = 0; i < count; i++) t.write(line);
  });
  const port = listenTCP(0, factory, { interface: "127.0.0.1" });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: port.getHost().port });
    try {
      const transport = await within(10, factory.made, "the connection");
      gc();
      after = Deno.memoryUsage().rss;
      transport.abortConnection();
    } finally {
      conn.close();
    }
    await within(5, factory.lost, "the connection to end");
  } finally {
    await port.stopListening();
  }
  const grown = (after - before) / 2 ** 20;
  // 25 MB of text; each write in its own buffer took about 500 MiB.
  assert.ok(grown < 100, `RSS grew by ${grown.toFixed(1)} MiB`);
});

Deno.test("StreamTransport: an exception in dataReceived goes to the log, with level and namespace", async () => {
  const events: LogEvent[] = [];
  const sink = setLogSink((_text, event) => events.push(event));
  const lost = Promise.withResolvers<Failure>();
  const port = listenTCP(0, {
    buildProtocol: () => ({
      makeConnection() {},
      dataReceived() {
        throw new RangeError("bad input");
      },
      connectionLost: (reason: Failure) => lost.resolve(reason),
    }),
    doStart() {},
    doStop() {},
  }, { interface: "127.0.0.1" });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: port.getHost().port });
    try {
      await conn.write(new Uint8Array([1]));
      const reason = await within(5, lost.promise, "the connection to close");
      assert.ok(reason.check(RangeError));
    } finally {
      conn.close();
    }
  } finally {
    setLogSink(sink);
    await port.stopListening();
  }
  assert.equal(events.length, 1);
  assert.equal(events[0].level, "error");
  assert.equal(events[0].namespace, "reactor");
  assert.match(
    events[0].message,
    /^Unhandled error in Object\.dataReceived\(\) on the connection with 127\.0\.0\.1:\d+$/,
  );
  assert.ok(events[0].error instanceof RangeError);
});

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/** Sends `data` on `conn` and shuts down its write side, while reading it all. */
async function exchange(conn: Deno.Conn, data: Uint8Array): Promise<Uint8Array> {
  const reading = readAll(conn);
  for (let done = 0; done < data.length;) done += await conn.write(data.subarray(done));
  await conn.closeWrite();
  return await reading;
}

function assertSameBytes(got: Uint8Array, want: Uint8Array): void {
  assert.equal(got.length, want.length);
  assert.equal(want.findIndex((byte, i) => got[i] !== byte), -1, "the bytes differ");
}

Deno.test("StreamTransport: a protocol that borrows its data reads into one reused buffer, and what it writes arrives intact", async () => {
  const buffers = new Set<ArrayBufferLike>();
  const seen: Uint8Array[] = [];
  const lost = Promise.withResolvers<Failure>();
  class Tripler {
    readonly borrowsData = true;
    transport: Transport | null = null;
    makeConnection(t: Transport): void {
      this.transport = t;
    }
    dataReceived(data: Uint8Array): void {
      buffers.add(data.buffer);
      seen.push(data.slice());
      // The first goes to the socket as it is, the read loop waiting for it;
      // the next two are behind a write in flight, so they are copied.
      this.transport!.write(data);
      this.transport!.write(data);
      this.transport!.writeSequence([data]);
    }
    connectionLost(reason: Failure): void {
      lost.resolve(reason);
    }
  }
  const port = listenTCP(0, { buildProtocol: () => new Tripler(), doStart() {}, doStop() {} }, {
    interface: "127.0.0.1",
  });
  const sent = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 31 + (i >> 12)) & 0xff);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: port.getHost().port });
    let got: Uint8Array;
    try {
      got = await within(20, exchange(conn, sent), "the echo");
    } finally {
      conn.close();
    }
    assert.ok((await within(5, lost.promise, "the connection to end")).check(ConnectionDone));
    assertSameBytes(concat(seen), sent);
    assertSameBytes(got, concat(seen.flatMap((chunk) => [chunk, chunk, chunk])));
    assert.ok(buffers.size * 2 < seen.length, `${seen.length} chunks in ${buffers.size} buffers`);
  } finally {
    await port.stopListening();
  }
});

Deno.test("StreamTransport: a borrowed chunk written to another connection is copied there", async () => {
  const sink = Promise.withResolvers<Transport>();
  class Forwarder {
    readonly borrowsData = true;
    constructor(readonly other: Transport) {}
    makeConnection(): void {}
    dataReceived(data: Uint8Array): void {
      this.other.write(data);
    }
    connectionLost(): void {
      this.other.loseConnection();
    }
  }
  // The first connection is the sink; the second forwards into it.
  const factory = {
    buildProtocol: (): ProtocolLike => ({
      makeConnection: (t: Transport) => sink.resolve(t),
      dataReceived() {},
      connectionLost() {},
    }),
    doStart() {},
    doStop() {},
  };
  const port = listenTCP(0, factory, { interface: "127.0.0.1" });
  const sent = new Uint8Array(16 * 1024 * 1024).map((_, i) => (i * 17 + (i >> 10)) & 0xff);
  try {
    const out = await Deno.connect({ hostname: "127.0.0.1", port: port.getHost().port });
    const other = await within(5, sink.promise, "the sink connection");
    factory.buildProtocol = () => new Forwarder(other);
    const into = await Deno.connect({ hostname: "127.0.0.1", port: port.getHost().port });
    try {
      // The sink is read only once everything has been sent, so its writes
      // back up: the forwarded chunks wait in its queue while the borrowing
      // connection reads on.
      await within(20, exchange(into, sent), "the upload");
      assertSameBytes(await within(20, readAll(out), "the forwarded bytes"), sent);
    } finally {
      into.close();
      out.close();
    }
  } finally {
    await port.stopListening();
  }
});
