// ContentDecoderAgent and its decoders: Accept-Encoding, gzip/deflate/br in
// every chunking, stacked and unknown codings, corrupt data, flow control,
// and a decompression bomb bounded by readBody's maxSize.
import assert from "node:assert/strict";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { Failure } from "../../../defer/mod.ts";
import {
  Agent,
  BodyTooLargeError,
  BrotliDecoder,
  ContentDecoderAgent,
  DeflateDecoder,
  getPage,
  GzipDecoder,
  Headers,
  PartialDownloadError,
  readBody,
  Response as HTTPResponse,
  type ResponseBodyProducer,
  ResponseDone,
  ResponseFailed,
} from "../../../protocols/mod.ts";
import { bodyOf } from "../../../protocols/http/response.ts";
import {
  bounded,
  readRequest,
  readUntilEOF,
  rejection,
  withRawServer,
  withServer,
  write,
} from "./_fakes.ts";

const encoder = new TextEncoder();

/** Some text that compresses, but not to nothing. */
function sample(size: number): Uint8Array<ArrayBuffer> {
  let text = "";
  for (let i = 0; text.length < size; i++) text += `line ${i} ${(i * 7919) % 104729}\n`;
  return encoder.encode(text.slice(0, size));
}

/** A response made by hand, whose body the test feeds. */
function handMade(encoding: string | undefined, length?: number): HTTPResponse {
  const headers = new Headers();
  if (encoding !== undefined) headers.addRawHeader("Content-Encoding", encoding);
  if (length !== undefined) headers.addRawHeader("Content-Length", String(length));
  return new HTTPResponse({ version: ["HTTP", 1, 1], code: 200, phrase: "OK", headers, length });
}

/** Feeds `wire` to the response's body in pieces of `size`, then ends it. */
function feed(response: HTTPResponse, wire: Uint8Array, size: number): void {
  const body = bodyOf(response);
  for (let i = 0; i < wire.length; i += size) body.dataReceived(wire.slice(i, i + size));
  body.finish(new Failure(new ResponseDone()));
}

const codings = [
  ["gzip", GzipDecoder, gzipSync],
  ["deflate (zlib)", DeflateDecoder, deflateSync],
  ["deflate (raw)", DeflateDecoder, deflateRawSync],
  ["br", BrotliDecoder, brotliCompressSync],
] as const;

Deno.test("Content decoders give the same body in every chunking", async (t) => {
  const plain = sample(20_000);
  for (const [name, Decoder, compress] of codings) {
    const wire = new Uint8Array(compress(plain));
    await t.step(name, async () => {
      for (const size of [1, 2, 3, 7, 100, 4096, 5000, wire.length]) {
        const original = handMade(name.split(" ")[0], wire.length);
        const decoded = new Decoder(original);
        const read = readBody(decoded);
        feed(original, wire, size);
        assert.deepEqual(await read, plain, `in pieces of ${size}`);
      }
    });
  }
});

Deno.test("A decoded response has no Content-Length, no length, one coding fewer", () => {
  const original = handMade("gzip, br", 10);
  original.headers.addRawHeader("Content-Type", "text/plain");
  const decoded = new BrotliDecoder(original);
  assert.equal(decoded.length, undefined);
  assert.equal(decoded.headers.hasHeader("content-length"), false);
  assert.deepEqual(decoded.headers.getRawHeaders("content-encoding"), ["gzip"]);
  assert.deepEqual(decoded.headers.getRawHeaders("content-type"), ["text/plain"]);
  assert.deepEqual(original.headers.getRawHeaders("content-encoding"), ["gzip, br"]);
  const twice = new GzipDecoder(decoded);
  assert.equal(twice.headers.hasHeader("content-encoding"), false);
  assert.equal(twice.code, 200);
  assert.throws(() => {
    twice.deliverBody({ makeConnection() {}, dataReceived() {}, connectionLost() {} });
    twice.deliverBody({ makeConnection() {}, dataReceived() {}, connectionLost() {} });
  }, /already been delivered/);
});

Deno.test("An empty body with a Content-Encoding decodes to nothing", async () => {
  const original = handMade("gzip", 0);
  const read = readBody(new GzipDecoder(original));
  feed(original, new Uint8Array(0), 1);
  assert.equal((await read).length, 0);
});

Deno.test("Corrupt and truncated bodies fail with the decompressor's error", async (t) => {
  const wire = gzipSync(sample(5000));
  await t.step("corrupt", async () => {
    const original = handMade("gzip");
    const read = readBody(new GzipDecoder(original));
    const bad = new Uint8Array(wire);
    bad.fill(0xff, 10, 40);
    feed(original, bad, 16);
    const e = await rejection(read);
    assert.ok(e instanceof PartialDownloadError, String(e));
    assert.ok(e.reasons.length > 0);
  });
  await t.step("truncated", async () => {
    const original = handMade("gzip");
    const read = readBody(new GzipDecoder(original));
    feed(original, wire.subarray(0, wire.length - 20), 64);
    const e = await rejection(read);
    assert.ok(e instanceof PartialDownloadError, String(e));
    assert.match(e.message, /end of file/i);
  });
  await t.step("not gzip at all", async () => {
    const original = handMade("gzip");
    const read = readBody(new GzipDecoder(original));
    feed(original, encoder.encode("plain text, not gzip"), 5);
    assert.ok((await rejection(read)) instanceof PartialDownloadError);
  });
});

Deno.test("A paused reader gets nothing until it resumes", async () => {
  const plain = sample(200_000);
  const original = handMade("gzip");
  const decoded = new GzipDecoder(original);
  let got = 0;
  let paused = false;
  let whilePaused = 0;
  const done = Promise.withResolvers<Failure>();
  let producer: ResponseBodyProducer | undefined;
  decoded.deliverBody({
    makeConnection(p: ResponseBodyProducer) {
      producer = p;
    },
    dataReceived(data: Uint8Array) {
      if (paused) whilePaused += data.length;
      got += data.length;
      if (got > 20_000 && got < 40_000 && !paused) {
        paused = true;
        producer!.pauseProducing();
        setTimeout(() => {
          paused = false;
          producer!.resumeProducing();
        }, 50);
      }
    },
    connectionLost(reason: Failure) {
      done.resolve(reason);
    },
  });
  feed(original, gzipSync(plain), 1000);
  const reason = await done.promise;
  assert.ok(reason.check(ResponseDone));
  assert.equal(got, plain.length);
  assert.equal(whilePaused, 0);
});

Deno.test(
  "ContentDecoderAgent sends Accept-Encoding, decodes what it knows, passes the rest",
  bounded(() => {
    const plain = sample(50_000);
    const seen: (string | null)[] = [];
    return withServer((request) => {
      seen.push(request.headers.get("accept-encoding"));
      const url = new URL(request.url);
      if (url.pathname === "/plain") return new Response(plain);
      const [coding, compress] = url.pathname === "/br"
        ? ["br", brotliCompressSync]
        : url.pathname === "/deflate"
        ? ["deflate", deflateSync]
        : url.pathname === "/stacked"
        ? ["gzip, br", (b: Uint8Array) => brotliCompressSync(gzipSync(b))]
        : url.pathname === "/unknown"
        ? ["gzip, x-custom", gzipSync]
        : ["gzip", gzipSync];
      return new Response(new Uint8Array(compress(plain)), {
        headers: { "content-encoding": coding, "content-type": "application/octet-stream" },
      });
    }, async (base) => {
      const agent = new ContentDecoderAgent(new Agent());
      for (const path of ["/gzip", "/deflate", "/br", "/stacked"]) {
        const response = await agent.request("GET", `${base}${path}`);
        assert.equal(response.headers.hasHeader("content-encoding"), false, path);
        assert.equal(response.headers.hasHeader("content-length"), false, path);
        assert.deepEqual(await readBody(response), plain, path);
      }
      assert.deepEqual(seen, Array(4).fill("gzip, deflate, br"));

      const plainResponse = await agent.request("GET", `${base}/plain`);
      assert.equal(plainResponse.length, plain.length);
      assert.deepEqual(await readBody(plainResponse), plain);

      // An unknown last coding: left as it is, as Twisted does.
      const unknown = await agent.request("GET", `${base}/unknown`);
      assert.deepEqual(unknown.headers.getRawHeaders("content-encoding"), ["gzip, x-custom"]);
      assert.deepEqual(await readBody(unknown), new Uint8Array(gzipSync(plain)));

      // The caller's own Accept-Encoding is sent as given; gzip alone is offered.
      const only = new ContentDecoderAgent(new Agent(), [["gzip", GzipDecoder]]);
      const identity = await only.request("GET", `${base}/plain`, {
        "Accept-Encoding": "identity",
      });
      assert.deepEqual(await readBody(identity), plain);
      const gzipOnly = await only.request("GET", `${base}/gzip`);
      assert.deepEqual(await readBody(gzipOnly), plain);
      assert.deepEqual(seen.slice(-3), ["gzip, deflate, br", "identity", "gzip"]);
    });
  }),
);

Deno.test("ContentDecoderAgent refuses bad decoder lists", () => {
  assert.throws(() => new ContentDecoderAgent(new Agent(), []), /needs a decoder/);
  assert.throws(
    () => new ContentDecoderAgent(new Agent(), [["gzip", GzipDecoder], ["GZIP", GzipDecoder]]),
    /given twice/,
  );
  assert.throws(() => new ContentDecoderAgent(new Agent(), [["g zip", GzipDecoder]]), /Invalid/);
});

/** 1 GiB of zeros, gzipped: about 1 MiB. */
function bomb(): Uint8Array {
  const zeros = new Uint8Array(64 * 2 ** 20);
  const parts: Uint8Array[] = [];
  let total = 0;
  // Sixteen gzip members in a row make one valid gzip stream.
  const member = gzipSync(zeros, { level: 9 });
  for (let i = 0; i < 16; i++) {
    parts.push(member);
    total += member.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

Deno.test(
  "A gzip bomb fails fast with BodyTooLargeError, in bounded memory",
  bounded(() => {
    const wire = bomb();
    assert.ok(wire.length < 2 * 2 ** 20);
    const closed = Promise.withResolvers<true>();
    return withRawServer(async (conn) => {
      await readRequest(conn);
      await write(
        conn,
        `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${wire.length}\r\n\r\n`,
      );
      try {
        await write(conn, wire);
      } catch {
        // The client closed the connection: what is expected.
      }
      closed.resolve(await readUntilEOF(conn));
    }, async (server) => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const before = Deno.memoryUsage().rss;
      const agent = new ContentDecoderAgent(new Agent());
      const response = await agent.request("GET", `${server.url}/`);
      const e = await rejection(readBody(response, { maxSize: 8 * 2 ** 20 }));
      assert.ok(e instanceof BodyTooLargeError, String(e));
      assert.equal(e.maxSize, 8 * 2 ** 20);
      const growth = Deno.memoryUsage().rss - before;
      assert.ok(growth < 64 * 2 ** 20, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
      assert.equal(await closed.promise, true);
    });
  }),
);

Deno.test(
  "getPage() with a decoding agent's maxSize counts decoded bytes",
  bounded(() =>
    withServer(() =>
      new Response(new Uint8Array(gzipSync(new Uint8Array(100_000))), {
        headers: { "content-encoding": "gzip" },
      }), async (base) => {
      const response = await new ContentDecoderAgent(new Agent()).request("GET", base);
      assert.ok(
        (await rejection(readBody(response, { maxSize: 50_000 }))) instanceof ResponseFailed,
      );
      // getPage decodes by default, and counts the decoded bytes too.
      const e = await rejection(getPage(base, { maxSize: 50_000 }));
      assert.ok(e instanceof BodyTooLargeError, String(e));
      // Without the decoder the compressed body is small enough.
      const raw = await getPage(base, { maxSize: 50_000, decode: false });
      assert.ok(raw.length < 1000);
    })
  ),
);
