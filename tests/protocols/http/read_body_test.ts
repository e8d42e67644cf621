// readBody(): collecting a body into one buffer, limiting its size, cancelling it.
import assert from "node:assert/strict";
import { CancelledError } from "../../../defer/mod.ts";
import {
  Agent,
  BodyTooLargeError,
  getPage,
  readBody,
  Response as HTTPResponse,
  ResponseFailed,
} from "../../../protocols/mod.ts";
import { bounded, readRequest, readUntilEOF, rejection, withRawServer, write } from "./_fakes.ts";
import { peakRSSGrowth } from "../../_helpers.ts";

Deno.test(
  "Cancelling readBody() closes the connection in the middle of the body",
  bounded(() => {
    const eof = Promise.withResolvers<true>();
    return withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart");
      eof.resolve(await readUntilEOF(conn));
    }, async (server) => {
      const response = await new Agent().request("GET", `${server.url}/`);
      const body = readBody(response);
      body.cancel();
      assert.ok((await rejection(body)) instanceof CancelledError);
      assert.equal(await eof.promise, true);
    });
  }),
);

/** A chunked body of `count` one-byte chunks, as one buffer to write. */
function oneByteChunks(count: number): Uint8Array {
  const one = new TextEncoder().encode("1\r\nx\r\n");
  const out = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) out.set(one, i * one.length);
  return out;
}

/** Serves one chunked response of one-byte chunks, then closes. */
function oneByteChunkServer(wire: Uint8Array) {
  return async (conn: Deno.TcpConn): Promise<void> => {
    await readRequest(conn);
    await write(
      conn,
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    await write(conn, wire);
    await write(conn, "0\r\n\r\n");
    await readUntilEOF(conn);
  };
}

Deno.test(
  "readBody() gathers 1 MB in one-byte chunks into one buffer, without a view per chunk",
  bounded(() => {
    const count = 1_000_000;
    const wire = oneByteChunks(count);
    return withRawServer(oneByteChunkServer(wire), async (server) => {
      const growth = await peakRSSGrowth(async () => {
        const body = await getPage(`${server.url}/`);
        assert.equal(body.length, count);
        assert.equal(body.byteOffset, 0);
        assert.equal(body.buffer.byteLength, count, "the body is an array of its own");
        assert.ok(body.every((b) => b === 0x78));
      });
      // A view per chunk cost ~200 MiB here; one growing buffer costs a few.
      // A generous bound: bench/http_bench.ts has the precise figure.
      assert.ok(growth < 64, `RSS grew by ${growth.toFixed(1)} MiB`);
    });
  }, 60),
);

Deno.test("readBody() takes a body of exactly maxSize bytes", async (t) => {
  for (
    const [name, head] of [
      ["Content-Length", "Content-Length: 5\r\n"],
      ["chunked", "Transfer-Encoding: chunked\r\n"],
    ]
  ) {
    await t.step(
      name,
      bounded(() =>
        withRawServer(async (conn) => {
          await readRequest(conn);
          const body = name === "chunked" ? "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n" : "hello";
          await write(conn, `HTTP/1.1 200 OK\r\n${head}Connection: close\r\n\r\n${body}`);
          await readUntilEOF(conn);
        }, async (server) => {
          const response = await new Agent().request("GET", `${server.url}/`);
          const body = await readBody(response, { maxSize: 5 });
          assert.equal(new TextDecoder().decode(body), "hello");
        })
      ),
    );
  }
});

Deno.test(
  "readBody() fails at once with BodyTooLargeError when Content-Length is over maxSize",
  bounded(() => {
    const eof = Promise.withResolvers<true>();
    return withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nfirst bytes");
      eof.resolve(await readUntilEOF(conn));
    }, async (server) => {
      const response = await new Agent().request("GET", `${server.url}/`);
      const e = await rejection(readBody(response, { maxSize: 1000 }));
      assert.ok(e instanceof BodyTooLargeError);
      assert.ok(e instanceof ResponseFailed);
      assert.equal(e.maxSize, 1000);
      assert.equal(e.size, 1_000_000);
      assert.equal(e.status, 200);
      assert.equal(e.response, response);
      assert.deepEqual(e.reasons, []);
      assert.equal(
        e.message,
        "The body of the 200 response is larger than maxSize (1000 bytes): its Content-Length is 1000000 bytes",
      );
      // The connection is closed without reading the rest.
      assert.equal(await eof.promise, true);
    });
  }),
);

Deno.test(
  "readBody() fails an endless body once it passes maxSize, and closes the connection",
  bounded(() => {
    const stopped = Promise.withResolvers<true>();
    return withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      const piece = new TextEncoder().encode("400\r\n" + "y".repeat(1024) + "\r\n");
      try {
        for (;;) await write(conn, piece);
      } catch {
        // The client closed: what it should do.
        stopped.resolve(true);
      }
    }, async (server) => {
      const response = await new Agent().request("GET", `${server.url}/`);
      const e = await rejection(readBody(response, { maxSize: 100_000 }));
      assert.ok(e instanceof BodyTooLargeError);
      assert.ok(e.size > 100_000 && e.size <= 100_000 + 65536, `size ${e.size}`);
      assert.match(e.message, /larger than maxSize \(100000 bytes\): received \d+ bytes/);
      assert.equal(await stopped.promise, true);
    });
  }),
);

Deno.test(
  "readBody() counts one-byte chunks against maxSize",
  bounded(() =>
    withRawServer(oneByteChunkServer(oneByteChunks(10_000)), async (server) => {
      const response = await new Agent().request("GET", `${server.url}/`);
      const e = await rejection(readBody(response, { maxSize: 1000 }));
      assert.ok(e instanceof BodyTooLargeError);
      // Tiny chunks arrive gathered, a read's worth at a time: the limit is
      // passed by one delivery, and no more is read.
      assert.ok(e.size > 1000 && e.size < 10_000, `size ${e.size}`);
    })
  ),
);

Deno.test("readBody() and getPage() throw RangeError for a bad maxSize", () => {
  const response = new HTTPResponse({ version: ["HTTP", 1, 1], code: 200, phrase: "OK" });
  for (const maxSize of [-1, NaN, "10" as unknown as number]) {
    assert.throws(() => readBody(response, { maxSize }), RangeError);
    assert.throws(() => getPage("http://127.0.0.1:1/", { maxSize }), RangeError);
  }
});
