// getPage(): a body in one call, status errors, redirects not followed, timeouts.
import assert from "node:assert/strict";
import { TimeoutError } from "../../../defer/mod.ts";
import { BodyTooLargeError, getPage, HTTPError, PageRedirect } from "../../../protocols/mod.ts";
import {
  bounded,
  readRequest,
  readUntilEOF,
  rejection,
  withRawServer,
  withServer,
  write,
} from "./_fakes.ts";

const decoder = new TextDecoder();
const text = (b: Uint8Array): string => decoder.decode(b);

Deno.test(
  "getPage() fetches a body sent with Content-Length",
  bounded(() =>
    withServer((request) => {
      return new Response(
        `${request.method} ${new URL(request.url).pathname} ${request.headers.get("host")}`,
      );
    }, async (base) => {
      const body = await getPage(`${base}/path?q=1#fragment`);
      assert.equal(text(body), `GET /path ${base.slice(7)}`);
    })
  ),
);

Deno.test(
  "getPage() fails with HTTPError for a status of 400 or more",
  bounded(() =>
    withServer((request) => {
      const path = new URL(request.url).pathname;
      return path === "/missing"
        ? new Response("no such page", { status: 404 })
        : new Response("broken", { status: 500, statusText: "Internal Server Error" });
    }, async (base) => {
      const e = await rejection(getPage(`${base}/missing`));
      assert.ok(e instanceof HTTPError);
      assert.equal(e.status, 404);
      assert.equal(e.phrase, "Not Found");
      assert.equal(text(e.body), "no such page");
      assert.equal(e.response?.code, 404);
      assert.equal(e.message, "HTTP 404 Not Found");
      const e500 = await rejection(getPage(`${base}/other`));
      assert.ok(e500 instanceof HTTPError);
      assert.equal(e500.status, 500);
      assert.equal(text(e500.body), "broken");
    })
  ),
);

Deno.test(
  "getPage() with a timeout fails with TimeoutError and closes the connection",
  bounded(() => {
    const eof = Promise.withResolvers<true>();
    return withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nslow");
      eof.resolve(await readUntilEOF(conn));
    }, async (server) => {
      const e = await rejection(getPage(`${server.url}/`, { timeout: 0.2 }));
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.seconds, 0.2);
      assert.equal(await eof.promise, true);
    });
  }),
);

Deno.test(
  "getPage() with a timeout that is not reached leaves nothing scheduled",
  bounded(() =>
    withServer(() => new Response("quick"), async (base) => {
      assert.equal(text(await getPage(`${base}/`, { timeout: 30 })), "quick");
    })
  ),
);

Deno.test(
  "getPage() with followRedirect: false fails with PageRedirect",
  bounded(() =>
    withServer(() => {
      return new Response("see there", { status: 301, headers: { location: "/there" } });
    }, async (base) => {
      const e = await rejection(getPage(`${base}/here`, { followRedirect: false }));
      assert.ok(e instanceof PageRedirect);
      assert.equal(e.status, 301);
      assert.equal(e.location, "/there");
      assert.equal(text(e.body), "see there");
    })
  ),
);

Deno.test(
  "getPage() with maxSize fails with BodyTooLargeError past it, error pages included",
  bounded(() => {
    let cancelled = Promise.withResolvers<true>();
    return withServer((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/small") return new Response("small page");
      if (path === "/big-404") return new Response("x".repeat(5000), { status: 404 });
      cancelled = Promise.withResolvers<true>();
      const piece = new Uint8Array(1024).fill(0x7a);
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(piece);
          },
          cancel() {
            cancelled.resolve(true);
          },
        }),
      );
    }, async (base) => {
      assert.equal(text(await getPage(`${base}/small`, { maxSize: 10 })), "small page");
      const big = await rejection(getPage(`${base}/big-404`, { maxSize: 4096 }));
      assert.ok(big instanceof BodyTooLargeError, String(big));
      assert.equal(big.status, 404);
      assert.equal(big.size, 5000);
      const endless = await rejection(getPage(`${base}/endless`, { maxSize: 64 * 1024 }));
      assert.ok(endless instanceof BodyTooLargeError, String(endless));
      assert.ok(endless.size > 64 * 1024);
      // The connection was closed, so the server stopped streaming.
      assert.equal(await cancelled.promise, true);
    });
  }),
);
