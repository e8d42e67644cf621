// Request bodies from producers: framing (Content-Length or chunked), flow
// control from the socket, wrong lengths, failures, early responses and
// Expect: 100-continue, on a memory reactor (exact bytes, clock) and
// against Deno.serve and raw servers.
import assert from "node:assert/strict";
import { Deferred, type Failure } from "../../../defer/mod.ts";
import {
  Agent,
  type BodyProducer,
  FileBodyProducer,
  readBody,
  RequestGenerationFailed,
  RequestTransmissionFailed,
  type Response as HTTPResponse,
  UNKNOWN_LENGTH,
  WrongBodyLength,
} from "../../../protocols/mod.ts";
import type { Consumer, PushProducer } from "../../../reactor/mod.ts";
import { MemoryReactorClock } from "../../../testing/mod.ts";
import { bounded, connectLast, withRawServer, withServer } from "./_fakes.ts";
import { peakRSSGrowth } from "../../_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A producer driven by hand: it writes what the test tells it to. */
class ManualProducer implements BodyProducer {
  consumer: Consumer | null = null;
  readonly finished = new Deferred<unknown>();
  calls: string[] = [];
  constructor(readonly length: number | typeof UNKNOWN_LENGTH) {}
  startProducing(consumer: Consumer): Deferred<unknown> {
    this.calls.push("start");
    this.consumer = consumer;
    return this.finished;
  }
  pauseProducing(): void {
    this.calls.push("pause");
  }
  resumeProducing(): void {
    this.calls.push("resume");
  }
  stopProducing(): void {
    this.calls.push("stop");
  }
}

function request(
  body: BodyProducer | string,
  headers: Record<string, string> = {},
  pool = false,
) {
  const memory = new MemoryReactorClock();
  const agent = new Agent(memory, { pool });
  let response: HTTPResponse | undefined;
  let failure: Failure | undefined;
  agent.request("PUT", "http://example.com/up", headers, body).addCallbacks((r) => {
    response = r;
  }, (f) => {
    failure = f;
  });
  const { transport, protocol } = connectLast(memory);
  return {
    memory,
    agent,
    transport,
    protocol,
    receive: (text: string) => protocol.dataReceived(encoder.encode(text)),
    get response() {
      return response;
    },
    get failure() {
      return failure;
    },
  };
}

const bodyOf = (wire: string): string => wire.slice(wire.indexOf("\r\n\r\n") + 4);

Deno.test("Agent sends a producer of known length with Content-Length, paused by the socket", () => {
  const producer = new ManualProducer(7);
  const r = request(producer, {}, true);
  const wire = r.transport.valueString();
  assert.match(wire, /\r\nContent-Length: 7\r\n/);
  assert.doesNotMatch(wire, /Transfer-Encoding/i);
  assert.deepEqual(producer.calls, ["start"]);
  producer.consumer!.write("abc");
  // The socket's buffer fills, then drains: the transport drives the registration.
  const registered = r.transport.producer as PushProducer;
  assert.equal(r.transport.streaming, true);
  registered.pauseProducing();
  registered.resumeProducing();
  assert.deepEqual(producer.calls, ["start", "pause", "resume"]);
  producer.consumer!.write(encoder.encode("defg"));
  producer.finished.callback(undefined);
  assert.equal(r.transport.producer, null);
  assert.equal(bodyOf(r.transport.valueString()), "abcdefg");
  r.receive("HTTP/1.1 204 No Content\r\n\r\n");
  assert.equal(r.response?.code, 204);
  assert.equal(r.transport.disconnecting, false); // the whole request was sent: reusable
  r.agent.pool.closeCachedConnections();
});

Deno.test("Agent sends a producer of unknown length chunked", () => {
  const producer = new ManualProducer(UNKNOWN_LENGTH);
  const r = request(producer);
  assert.match(r.transport.valueString(), /\r\nTransfer-Encoding: chunked\r\n/);
  assert.doesNotMatch(r.transport.valueString(), /Content-Length/i);
  producer.consumer!.write("ab");
  producer.consumer!.write(""); // an empty piece must not end the body
  producer.consumer!.write("0123456789abcdef!");
  producer.finished.callback(undefined);
  assert.equal(
    bodyOf(r.transport.valueString()),
    "2\r\nab\r\n11\r\n0123456789abcdef!\r\n0\r\n\r\n",
  );
});

Deno.test("Agent fails a request whose producer writes the wrong number of bytes", async (t) => {
  await t.step("too many: the excess is not sent", () => {
    const producer = new ManualProducer(3);
    const r = request(producer);
    producer.consumer!.write("ab");
    producer.consumer!.write("cd");
    assert.deepEqual(producer.calls, ["start", "stop"]);
    assert.equal(bodyOf(r.transport.valueString()), "ab");
    const error = r.failure?.value;
    assert.ok(error instanceof RequestGenerationFailed);
    const wrong = error.reasons[0].value;
    assert.ok(wrong instanceof WrongBodyLength);
    assert.equal(wrong.expected, 3);
    assert.equal(wrong.written, 4);
    assert.equal(r.transport.disconnected, true);
    assert.equal(r.transport.producer, null);
    // A buggy producer writing on is told so.
    assert.throws(() => producer.consumer!.write("e"), { name: "ExcessWrite" });
  });
  await t.step("too few", () => {
    const producer = new ManualProducer(3);
    const r = request(producer);
    producer.consumer!.write("ab");
    producer.finished.callback(undefined);
    const error = r.failure?.value;
    assert.ok(error instanceof RequestGenerationFailed);
    assert.match(error.message, /wrote 2 bytes, but declared 3: too few/);
    assert.equal(r.transport.disconnected, true);
  });
});

Deno.test("Agent fails a request whose producer fails, or throws", async (t) => {
  await t.step("its Deferred fails", () => {
    const producer = new ManualProducer(UNKNOWN_LENGTH);
    const r = request(producer);
    producer.consumer!.write("partial");
    producer.finished.errback(new Error("disk on fire"));
    const error = r.failure?.value;
    assert.ok(error instanceof RequestGenerationFailed);
    assert.equal(error.reasons[0].getErrorMessage(), "disk on fire");
    // The last chunk was not sent: the server sees a broken body, not a short one.
    assert.doesNotMatch(r.transport.valueString(), /0\r\n\r\n$/);
    assert.equal(r.transport.disconnected, true);
  });
  await t.step("startProducing throws", () => {
    const producer = new ManualProducer(1);
    producer.startProducing = () => {
      throw new Error("no");
    };
    const r = request(producer);
    assert.ok(r.failure?.value instanceof RequestGenerationFailed);
    assert.deepEqual(producer.calls, ["stop"]);
  });
});

Deno.test("Agent fails with RequestTransmissionFailed when the connection goes mid-body", () => {
  const producer = new ManualProducer(100);
  const r = request(producer);
  producer.consumer!.write("some");
  r.transport.loseConnection();
  assert.ok(r.failure?.value instanceof RequestTransmissionFailed);
  assert.deepEqual(producer.calls, ["start", "stop"]);
});

Deno.test("Agent stops the producer on an early error response, and closes after it", () => {
  const producer = new ManualProducer(1000);
  const r = request(producer, {}, true);
  producer.consumer!.write("x".repeat(10));
  r.receive("HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\n");
  assert.equal(r.response?.code, 413);
  assert.deepEqual(producer.calls, ["start", "stop"]);
  assert.equal(r.transport.producer, null);
  let body = "";
  readBody(r.response!).addCallback((b) => {
    body = decoder.decode(b);
  });
  r.receive("big!");
  assert.equal(body, "big!");
  // The server waits for 990 more bytes: the connection cannot be reused.
  assert.equal(r.transport.disconnecting, true);
});

Deno.test("Agent keeps sending after an early 2xx response head", () => {
  const producer = new ManualProducer(6);
  const r = request(producer, {}, true);
  producer.consumer!.write("abc");
  r.receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
  assert.equal(r.response?.code, 200);
  assert.deepEqual(producer.calls, ["start"]);
  producer.consumer!.write("def");
  producer.finished.callback(undefined);
  r.receive("3\r\ndef\r\n0\r\n\r\n");
  let body = "";
  readBody(r.response!).addCallback((b) => {
    body = decoder.decode(b);
  });
  assert.equal(body, "abcdef");
  assert.equal(r.transport.disconnecting, false);
  r.agent.pool.closeCachedConnections();
});

Deno.test("Agent closes a connection whose response ended before its body was sent", () => {
  const producer = new ManualProducer(6);
  const r = request(producer, {}, true);
  r.receive("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
  readBody(r.response!);
  r.receive("ok");
  assert.deepEqual(producer.calls, ["start", "stop"]);
  assert.equal(r.transport.disconnecting, true);
});

Deno.test("Agent with Expect: 100-continue waits for 100 Continue", async (t) => {
  await t.step("then sends the body", () => {
    const producer = new ManualProducer(4);
    const r = request(producer, { Expect: "100-continue" });
    assert.match(r.transport.valueString(), /\r\nExpect: 100-continue\r\n.*\r\n\r\n$/s);
    assert.deepEqual(producer.calls, []);
    r.receive("HTTP/1.1 100 Continue\r\n\r\n");
    assert.deepEqual(producer.calls, ["start"]);
    assert.equal(r.memory.getDelayedCalls().length, 0);
    producer.consumer!.write("data");
    producer.finished.callback(undefined);
    assert.equal(bodyOf(r.transport.valueString()), "data");
  });
  await t.step("for a second by default, then sends the body anyway", () => {
    const r = request("bytes", { expect: "100-Continue" });
    assert.equal(bodyOf(r.transport.valueString()), "");
    r.memory.advance(0.999);
    assert.equal(bodyOf(r.transport.valueString()), "");
    r.memory.advance(0.001);
    assert.equal(bodyOf(r.transport.valueString()), "bytes");
    // A late 100 Continue changes nothing.
    r.receive("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert.equal(r.response?.code, 200);
    assert.equal(bodyOf(r.transport.valueString()), "bytes");
  });
  await t.step("and does not send the body after a final response", () => {
    const producer = new ManualProducer(4);
    const r = request(producer, { Expect: "100-continue" }, true);
    r.receive("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
    assert.equal(r.response?.code, 417);
    assert.deepEqual(producer.calls, ["stop"]);
    assert.equal(r.memory.getDelayedCalls().length, 0);
    assert.equal(bodyOf(r.transport.valueString()), "");
    // The server may still expect the body: not reused.
    assert.equal(r.transport.disconnecting, true);
  });
  await t.step("the wait is the agent's expectContinueTimeout", () => {
    const memory = new MemoryReactorClock();
    const agent = new Agent(memory, { expectContinueTimeout: 5 });
    agent.request("POST", "http://example.com/", { Expect: "100-continue" }, "x");
    const { transport } = connectLast(memory);
    memory.advance(4.9);
    assert.equal(bodyOf(transport.valueString()), "");
    memory.advance(0.1);
    assert.equal(bodyOf(transport.valueString()), "x");
    assert.throws(() => new Agent(memory, { expectContinueTimeout: -1 }), RangeError);
  });
  await t.step("a lost connection cancels the wait", () => {
    const r = request("x", { Expect: "100-continue" });
    r.transport.loseConnection();
    assert.equal(r.memory.getDelayedCalls().length, 0);
    assert.ok(r.failure !== undefined);
  });
});

Deno.test("Agent rejects a body producer with a bad length", () => {
  const agent = new Agent(new MemoryReactorClock());
  for (const length of [-1, 1.5, NaN, "7"]) {
    const producer = new ManualProducer(length as number);
    assert.throws(() => agent.request("PUT", "http://example.com/", {}, producer), RangeError);
  }
  assert.throws(() => agent.request("PUT", "http://example.com/", {}, {} as never), TypeError);
});

// --- Against real servers ---------------------------------------------------------

Deno.test(
  "Agent uploads a file, a stream and bytes with FileBodyProducer to Deno.serve",
  bounded(() =>
    withServer(async (request) => {
      const body = new Uint8Array(await request.arrayBuffer());
      let sum = 0;
      for (const byte of body) sum = (sum + byte) % 65521;
      return new Response(
        `${body.length} ${sum} ${request.headers.get("content-length")} ${
          request.headers.get("transfer-encoding")
        }`,
      );
    }, async (base) => {
      const data = new Uint8Array(1_000_003);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
      let sum = 0;
      for (const byte of data) sum = (sum + byte) % 65521;
      const path = await Deno.makeTempFile({ prefix: "torsion-upload-" });
      try {
        await Deno.writeFile(path, data);
        const agent = new Agent();
        const send = async (body: FileBodyProducer) =>
          decoder.decode(await readBody(await agent.request("PUT", `${base}/`, {}, body)));
        assert.equal(
          await send(new FileBodyProducer(await Deno.open(path))),
          `1000003 ${sum} 1000003 null`,
        );
        assert.equal(
          await send(new FileBodyProducer((await Deno.open(path)).readable)),
          `1000003 ${sum} null chunked`,
        );
        assert.equal(await send(new FileBodyProducer(data)), `1000003 ${sum} 1000003 null`);
      } finally {
        await Deno.remove(path);
      }
    })
  ),
);

Deno.test(
  "Agent's Expect: 100-continue gets Deno.serve's 100 Continue",
  bounded(() =>
    withServer(async (request) => {
      return new Response(`${request.headers.get("expect")} ${await request.text()}`);
    }, async (base) => {
      // A wait longer than the test: only the server's 100 Continue sends the body.
      const agent = new Agent(undefined, { expectContinueTimeout: 60 });
      const response = await agent.request(
        "POST",
        `${base}/`,
        { Expect: "100-continue" },
        new FileBodyProducer("hello"),
      );
      assert.equal(decoder.decode(await readBody(response)), "100-continue hello");
    })
  ),
);

Deno.test(
  "Agent stops an endless upload when Deno.serve answers 413 without reading it",
  bounded(() =>
    withServer(() => new Response("too big", { status: 413 }), async (base) => {
      let stopped = false;
      let written = 0;
      const piece = new Uint8Array(65536);
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          written += piece.length;
          controller.enqueue(piece);
        },
        cancel() {
          stopped = true;
        },
      });
      const response = await new Agent().request(
        "PUT",
        `${base}/`,
        {},
        new FileBodyProducer(endless),
      );
      assert.equal(response.code, 413);
      assert.equal(decoder.decode(await readBody(response)), "too big");
      assert.equal(stopped, true);
      assert.ok(written < 64 * 2 ** 20, `${written} bytes were produced`);
    })
  ),
);

Deno.test(
  "Agent pauses a producer while the server does not read, and resumes it",
  bounded(async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await withRawServer(async (conn) => {
      await released;
      const buffer = new Uint8Array(65536);
      let data = "";
      while (!data.endsWith("0\r\n\r\n")) {
        const n = await conn.read(buffer);
        if (n === null) return;
        data = data.slice(-16) + decoder.decode(buffer.subarray(0, n));
      }
      const reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      await conn.write(encoder.encode(reply));
    }, async (server) => {
      const total = 64 * 2 ** 20;
      let written = 0;
      let pauses = 0;
      let paused = false;
      let pausedAt = 0;
      const finished = new Deferred<unknown>();
      let consumer: Consumer;
      const piece = new Uint8Array(65536);
      const produce = () => {
        while (!paused && written < total) {
          written += piece.length;
          consumer.write(piece);
        }
        if (written >= total && !finished.called) finished.callback(undefined);
      };
      const producer: BodyProducer = {
        length: UNKNOWN_LENGTH,
        startProducing(c) {
          consumer = c;
          queueMicrotask(produce);
          return finished;
        },
        pauseProducing() {
          pauses++;
          paused = true;
          pausedAt = written;
        },
        resumeProducing() {
          paused = false;
          produce();
        },
        stopProducing() {},
      };
      const d = new Agent().request("PUT", server.url, {}, producer);
      // Not read by the server: the producer must stop well short of the whole body.
      while (pauses === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(paused);
      assert.ok(written < total / 2, `${written} bytes written while the server did not read`);
      assert.equal(written, pausedAt);
      release();
      const response = await d;
      assert.equal(decoder.decode(await readBody(response)), "ok");
      assert.equal(written, total);
      assert.ok(pauses > 1);
    });
  }),
);

Deno.test(
  "Agent uploads 256 MiB with RSS growth well under 96 MiB",
  bounded(() =>
    withServer(async (request) => {
      let count = 0;
      for await (const chunk of request.body!) count += chunk.length;
      return new Response(String(count));
    }, async (base) => {
      const size = 256 * 2 ** 20;
      const piece = new Uint8Array(65536);
      let produced = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (produced >= size) return controller.close();
          produced += piece.length;
          controller.enqueue(piece);
        },
      });
      const growth = await peakRSSGrowth(async () => {
        const response = await new Agent().request(
          "PUT",
          `${base}/`,
          {},
          new FileBodyProducer(stream, { length: size }),
        );
        assert.equal(decoder.decode(await readBody(response)), String(size));
      });
      assert.ok(growth < 96, `RSS grew by ${growth.toFixed(1)} MiB`);
    }), 60),
);

Deno.test(
  "Agent reports a raw server's early 413 and stops the body",
  bounded(() =>
    withRawServer(async (conn) => {
      // The head only: the body is refused unread.
      const buffer = new Uint8Array(4096);
      let head = "";
      while (!head.includes("\r\n\r\n")) {
        const n = await conn.read(buffer);
        if (n === null) return;
        head += decoder.decode(buffer.subarray(0, n));
      }
      await conn.write(
        encoder.encode("HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
      );
    }, async (server) => {
      const producer = new ManualProducer(10 * 2 ** 20);
      const d = new Agent().request("PUT", server.url, {}, producer);
      const response = await d;
      assert.equal(response.code, 413);
      assert.deepEqual(producer.calls, ["start", "stop"]);
      await readBody(response);
    })
  ),
);
