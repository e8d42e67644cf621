// The HTTP client against real servers: Deno.serve for well-behaved ones, and
// raw Deno.listen servers written here for the misbehaving ones. Every test
// starts its own server on 127.0.0.1:0 and closes it, and is bounded by a
// watchdog so a hang fails instead of blocking the run.
import assert from "node:assert/strict";
import { CancelledError, TimeoutError } from "../../defer/mod.ts";
import type { Failure } from "../../defer/mod.ts";
import {
  Agent,
  DataLoss,
  getPage,
  Headers,
  HTTPConnectionPool,
  HTTPError,
  InfiniteRedirection,
  PageRedirect,
  ParseError,
  PartialDownloadError,
  PotentialDataLoss,
  Protocol,
  readBody,
  RedirectAgent,
  RedirectWithNoLocation,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  SchemeNotSupported,
} from "../../protocols/mod.ts";
import type {
  HTTPClientReactor,
  ProtocolLike,
  Response as HTTPResponse,
} from "../../protocols/mod.ts";
import { ConnectionRefusedError, reactor } from "../../reactor/mod.ts";
import { MemoryReactorClock, StringTransportWithDisconnection } from "../../testing/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (b: Uint8Array): string => decoder.decode(b);

// --- Harness ---------------------------------------------------------------------

/** Runs `fn`, failing the test if it has not finished within `seconds`. */
function bounded(fn: () => Promise<void>, seconds = 10): () => Promise<void> {
  return async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`The test did not finish within ${seconds} seconds`)),
        seconds * 1000,
      );
    });
    try {
      await Promise.race([fn(), watchdog]);
    } finally {
      clearTimeout(timer);
    }
  };
}

type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Serves `handler` with Deno.serve for the length of `fn`. */
async function withServer(
  handler: Handler,
  fn: (base: string, ports: Set<number>) => Promise<void>,
): Promise<void> {
  const ports = new Set<number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request, info) => {
    ports.add(info.remoteAddr.port);
    return handler(request, info);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, ports);
  } finally {
    await server.shutdown();
  }
}

/** A raw TCP server: each connection is handed to `handle`, in order of arrival. */
class RawServer {
  readonly listener: Deno.TcpListener;
  readonly port: number;
  readonly conns: Deno.TcpConn[] = [];
  readonly #handlers: Promise<void>[] = [];
  readonly #accepting: Promise<void>;

  constructor(handle: (conn: Deno.TcpConn, index: number) => Promise<void>) {
    const listener = this.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = listener.addr.port;
    this.#accepting = (async () => {
      for (;;) {
        let conn: Deno.TcpConn;
        try {
          conn = await listener.accept();
        } catch {
          return;
        }
        const index = this.conns.length;
        this.conns.push(conn);
        this.#handlers.push(
          handle(conn, index).catch((error) => {
            // Closed by close() below, or reset by the client: both are fine.
            const closed = error instanceof Deno.errors.BadResource ||
              error instanceof Deno.errors.Interrupted ||
              error instanceof Deno.errors.ConnectionReset;
            if (!closed) throw error;
          }).finally(() => close(conn)),
        );
      }
    })();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.listener.close();
    await this.#accepting;
    for (const conn of this.conns) close(conn);
    await Promise.all(this.#handlers);
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

async function withRawServer(
  handle: (conn: Deno.TcpConn, index: number) => Promise<void>,
  fn: (server: RawServer) => Promise<void>,
): Promise<void> {
  const server = new RawServer(handle);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** Reads one request head (and a Content-Length body) from `conn`; `null` at EOF. */
async function readRequest(conn: Deno.Conn): Promise<string | null> {
  let data = "";
  const buffer = new Uint8Array(4096);
  for (;;) {
    const end = data.indexOf("\r\n\r\n");
    if (end !== -1) {
      const length = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, end));
      if (length === null || data.length >= end + 4 + Number(length[1])) return data;
    }
    const n = await conn.read(buffer);
    if (n === null) return data === "" ? null : data;
    data += String.fromCharCode(...buffer.subarray(0, n));
  }
}

/** Reads until the client closes its end; true once it has. */
async function readUntilEOF(conn: Deno.Conn): Promise<true> {
  const buffer = new Uint8Array(4096);
  try {
    while ((await conn.read(buffer)) !== null) {
      // Discard.
    }
  } catch {
    // Reset: closed all the same.
  }
  return true;
}

async function write(conn: Deno.Conn, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** The error a promise rejects with. */
async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("Expected a failure");
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

// --- Well-formed responses -----------------------------------------------------------

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
  "Agent reads a chunked body",
  bounded(() =>
    withServer(() => {
      const parts = ["hello", ", ", "chunked ", "world"];
      return new Response(
        new ReadableStream({
          pull(controller) {
            const part = parts.shift();
            if (part === undefined) controller.close();
            else controller.enqueue(encoder.encode(part));
          },
        }),
      );
    }, async (base) => {
      const response = await new Agent().request("GET", `${base}/`);
      assert.equal(response.code, 200);
      assert.equal(response.phrase, "OK");
      assert.deepEqual(response.version, ["HTTP", 1, 1]);
      assert.equal(response.length, undefined);
      assert.deepEqual(response.headers.getRawHeaders("transfer-encoding"), ["chunked"]);
      assert.equal(text(await readBody(response)), "hello, chunked world");
    })
  ),
);

Deno.test(
  "Agent sends HEAD and reads no body",
  bounded(() =>
    withServer((request) => {
      return new Response(request.method === "HEAD" ? null : "a body of 17 bytes", {
        headers: { "content-length": "17", "x-method": request.method },
      });
    }, async (base) => {
      const response = await new Agent().request("HEAD", `${base}/`);
      assert.equal(response.code, 200);
      assert.equal(response.length, 0);
      assert.deepEqual(response.headers.getRawHeaders("x-method"), ["HEAD"]);
      assert.equal((await readBody(response)).length, 0);
    })
  ),
);

Deno.test(
  "Agent and getPage send a POST body, string or bytes, with its Content-Length",
  bounded(() =>
    withServer(async (request) => {
      const body = await request.text();
      return new Response(
        `${request.method} ${request.headers.get("content-length")} ${body}`,
      );
    }, async (base) => {
      assert.equal(
        text(await getPage(`${base}/`, { method: "POST", body: "h\u00e9llo" })),
        "POST 6 h\u00e9llo",
      );
      const response = await new Agent().request(
        "PUT",
        `${base}/`,
        undefined,
        encoder.encode("bytes"),
      );
      assert.equal(text(await readBody(response)), "PUT 5 bytes");
      assert.equal(text(await getPage(`${base}/`, { method: "POST" })), "POST 0 ");
    })
  ),
);

Deno.test(
  "Agent sends headers and reads them back, repeated ones included",
  bounded(() =>
    withServer((request) => {
      const headers = new globalThis.Headers();
      for (const [name, value] of request.headers) {
        if (name.startsWith("x-")) headers.append(`echo-${name}`, value);
      }
      headers.append("Set-Cookie", "a=1");
      headers.append("Set-Cookie", "b=2");
      return new Response("ok", { headers });
    }, async (base) => {
      const sent = new Headers({ "X-One": "1", "X-Many": ["a", "b"] });
      const response = await new Agent().request("GET", `${base}/`, sent);
      await readBody(response);
      assert.deepEqual(response.headers.getRawHeaders("ECHO-X-ONE"), ["1"]);
      assert.deepEqual(response.headers.getRawHeaders("echo-x-many"), ["a, b"]);
      assert.deepEqual(response.headers.getRawHeaders("set-cookie"), ["a=1", "b=2"]);
      assert.equal(response.request?.method, "GET");
      assert.equal(response.request?.absoluteURI, `${base}/`);
      assert.deepEqual(response.request?.headers.getRawHeaders("host"), [base.slice(7)]);
      // The caller's Headers are not changed by the agent.
      assert.equal(sent.hasHeader("host"), false);

      const plain = await new Agent().request("GET", `${base}/`, { "X-Plain": "yes" });
      await readBody(plain);
      assert.deepEqual(plain.headers.getRawHeaders("echo-x-plain"), ["yes"]);
    })
  ),
);

Deno.test(
  "Agent reads a large body that it is only asked for later",
  bounded(() =>
    withServer(() => new Response(new Uint8Array(1 << 20).fill(0x61)), async (base) => {
      const response = await new Agent().request("GET", `${base}/`);
      assert.equal(response.length, 1 << 20);
      const body = await readBody(response);
      assert.equal(body.length, 1 << 20);
      assert.ok(body.every((b) => b === 0x61));
    })
  ),
);

Deno.test(
  "Response.deliverBody() gives a protocol the body, then ResponseDone",
  bounded(() =>
    withServer(() => new Response("piece by piece"), async (base) => {
      const response = await new Agent().request("GET", `${base}/`);
      const events: string[] = [];
      const done = Promise.withResolvers<void>();
      response.deliverBody({
        makeConnection: () => events.push("made"),
        dataReceived: (data) => events.push(text(data)),
        connectionLost: (reason: Failure) => {
          events.push(reason.check(ResponseDone) ? "done" : reason.getErrorMessage());
          done.resolve();
        },
      });
      await done.promise;
      assert.deepEqual([events[0], events.slice(1, -1).join(""), events.at(-1)], [
        "made",
        "piece by piece",
        "done",
      ]);
      assert.throws(() => response.deliverBody(null!), /already been delivered/);
    })
  ),
);

// --- Status errors and redirects ----------------------------------------------------

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
  "getPage() follows absolute and relative redirects",
  bounded(() =>
    withServer((request) => {
      const url = new URL(request.url);
      switch (url.pathname) {
        case "/absolute":
          return Response.redirect(new URL("/relative", url), 301);
        case "/relative":
          return new Response(null, { status: 302, headers: { location: "sub/../final?x=1" } });
        case "/final":
          return new Response(`final ${url.search}`);
        default:
          return new Response("?", { status: 404 });
      }
    }, async (base) => {
      assert.equal(text(await getPage(`${base}/absolute`)), "final ?x=1");
      const response = await new RedirectAgent(new Agent()).request("GET", `${base}/absolute`);
      await readBody(response);
      assert.equal(response.request?.absoluteURI, `${base}/final?x=1`);
      assert.equal(response.previousResponse?.code, 302);
      assert.equal(response.previousResponse?.previousResponse?.code, 301);
      assert.equal(response.previousResponse?.previousResponse?.previousResponse, undefined);
    })
  ),
);

Deno.test(
  "getPage() turns a POST into a GET after a 303, dropping the body",
  bounded(() => {
    const seen: string[] = [];
    return withServer(async (request) => {
      const body = await request.text();
      seen.push(`${request.method} ${new URL(request.url).pathname} ${body}`);
      return new URL(request.url).pathname === "/form"
        ? new Response(null, { status: 303, headers: { location: "/done" } })
        : new Response("thanks");
    }, async (base) => {
      assert.equal(text(await getPage(`${base}/form`, { method: "POST", body: "a=1" })), "thanks");
      assert.deepEqual(seen, ["POST /form a=1", "GET /done "]);
    });
  }),
);

Deno.test(
  "Redirects: 307 and 308 keep the method, other methods are not redirected by 301/302",
  bounded(() =>
    withServer((request) => {
      const url = new URL(request.url);
      if (url.pathname === "/307") return Response.redirect(new URL("/end", url), 307);
      if (url.pathname === "/302") return Response.redirect(new URL("/end", url), 302);
      return new Response(`${request.method} end`);
    }, async (base) => {
      assert.equal(text(await getPage(`${base}/307`, { method: "HEAD" })), "");
      const e = await rejection(getPage(`${base}/302`, { method: "POST", body: "x" }));
      assert.ok(e instanceof PageRedirect);
      assert.equal(e.status, 302);
      assert.equal(e.location, `${base}/end`);
      const wrapped = await rejection(
        new RedirectAgent(new Agent()).request("DELETE", `${base}/302`),
      );
      assert.ok(wrapped instanceof ResponseFailed);
      assert.ok(wrapped.reasons[0].check(PageRedirect));
    })
  ),
);

Deno.test(
  "getPage() follows 20 redirects and fails with InfiniteRedirection after that",
  bounded(() =>
    withServer((request) => {
      const n = Number(new URL(request.url).pathname.slice(1));
      return n > 0
        ? new Response("moved", { status: 302, headers: { location: `/${n - 1}` } })
        : new Response("arrived");
    }, async (base) => {
      assert.equal(text(await getPage(`${base}/20`)), "arrived");
      const e = await rejection(getPage(`${base}/21`));
      assert.ok(e instanceof InfiniteRedirection);
      assert.equal(e.status, 302);
      assert.equal(e.location, `${base}/1`);
      assert.ok(e instanceof HTTPError);
      // Straight to the agent, it is wrapped as in Twisted.
      const wrapped = await rejection(
        new RedirectAgent(new Agent(), 2).request("GET", `${base}/5`),
      );
      assert.ok(wrapped instanceof ResponseFailed);
      assert.ok(wrapped.reasons[0].check(InfiniteRedirection));
      assert.equal(wrapped.response?.code, 302);
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
  "A redirect without Location fails with RedirectWithNoLocation",
  bounded(() =>
    withServer(() => new Response(null, { status: 302 }), async (base) => {
      const e = await rejection(getPage(`${base}/nowhere`));
      assert.ok(e instanceof RedirectWithNoLocation);
      assert.equal(e.uri, `${base}/nowhere`);
    })
  ),
);

Deno.test(
  "A redirect to another origin does not pass credentials on",
  bounded(() =>
    withServer((request) => {
      return new Response(
        `${request.headers.get("authorization")} ${request.headers.get("x-other")}`,
      );
    }, (other) =>
      withServer((request) => {
        const path = new URL(request.url).pathname;
        if (path === "/away") return Response.redirect(`${other}/`, 302);
        if (path === "/near") return Response.redirect(new URL("/echo", request.url), 302);
        return new Response(`${request.headers.get("authorization")} near`);
      }, async (base) => {
        const headers = { Authorization: "Basic c2VjcmV0", "X-Other": "kept" };
        assert.equal(text(await getPage(`${base}/away`, { headers })), "null kept");
        assert.equal(text(await getPage(`${base}/near`, { headers })), "Basic c2VjcmV0 near");
      }))
  ),
);

// --- Pooling ------------------------------------------------------------------------

Deno.test(
  "A pooled Agent sends sequential requests over one connection",
  bounded(() =>
    withServer(() => new Response("pooled"), async (base, ports) => {
      const pool = new HTTPConnectionPool(reactor);
      const agent = new Agent(reactor, { pool });
      for (let i = 0; i < 3; i++) {
        const response = await agent.request("GET", `${base}/${i}`);
        assert.equal(text(await readBody(response)), "pooled");
      }
      assert.equal(ports.size, 1);
      await pool.closeCachedConnections();
      // Once closed, the next request needs a new connection.
      await agent.request("GET", `${base}/again`).addCallback(readBody);
      assert.equal(ports.size, 2);
      await pool.closeCachedConnections();
    })
  ),
);

Deno.test(
  "getPage() with a pooled agent reuses its connection, redirects included",
  bounded(() =>
    withServer((request) => {
      return new URL(request.url).pathname === "/a"
        ? Response.redirect(new URL("/b", request.url), 302)
        : new Response("b");
    }, async (base, ports) => {
      const agent = new Agent(reactor, { pool: true });
      assert.equal(text(await getPage(`${base}/a`, { agent })), "b");
      assert.equal(text(await getPage(`${base}/a`, { agent })), "b");
      assert.equal(ports.size, 1);
      await agent.pool.closeCachedConnections();
    })
  ),
);

Deno.test(
  "An Agent without a pool opens a connection per request and closes it",
  bounded(() =>
    withServer(
      (request) => new Response(request.headers.get("connection")),
      async (base, ports) => {
        const agent = new Agent();
        assert.equal(text(await agent.request("GET", `${base}/`).addCallback(readBody)), "close");
        assert.equal(text(await agent.request("GET", `${base}/`).addCallback(readBody)), "close");
        assert.equal(ports.size, 2);
      },
    )
  ),
);

Deno.test(
  "A pool keeps at most maxPersistentPerHost idle connections per destination",
  bounded(() =>
    withServer(() => new Response("x"), async (base, ports) => {
      const pool = new HTTPConnectionPool(reactor);
      pool.maxPersistentPerHost = 1;
      const agent = new Agent(reactor, { pool });
      // Two at once need two connections; only one is kept.
      const responses = await Promise.all([
        agent.request("GET", `${base}/1`),
        agent.request("GET", `${base}/2`),
      ]);
      await Promise.all(responses.map((r) => readBody(r)));
      assert.equal(ports.size, 2);
      await agent.request("GET", `${base}/3`).addCallback(readBody);
      await agent.request("GET", `${base}/4`).addCallback(readBody);
      assert.equal(ports.size, 2);
      await pool.closeCachedConnections();
    })
  ),
);

Deno.test(
  "A pool retries an idempotent request once when a reused connection turns out dead",
  bounded(() => {
    let served = 0;
    return withRawServer(async (conn, index) => {
      // The first connection answers once, then drops the second request.
      for (;;) {
        const request = await readRequest(conn);
        if (request === null) return;
        if (index === 0 && served > 0) return; // closed without a response
        served++;
        await write(conn, `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n${index}${served}`);
      }
    }, async (server) => {
      const agent = new Agent(reactor, { pool: true });
      assert.equal(text(await getPage(`${server.url}/`, { agent })), "01");
      assert.equal(text(await getPage(`${server.url}/`, { agent })), "12");
      assert.equal(server.conns.length, 2);
      await agent.pool.closeCachedConnections();
    });
  }),
);

Deno.test(
  "A pool does not retry a POST on a reused connection",
  bounded(() => {
    let served = 0;
    return withRawServer(async (conn) => {
      for (;;) {
        const request = await readRequest(conn);
        if (request === null || served > 0) return;
        served++;
        await write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      }
    }, async (server) => {
      const agent = new Agent(reactor, { pool: true });
      await getPage(`${server.url}/`, { agent, method: "POST", body: "1" });
      const e = await rejection(getPage(`${server.url}/`, { agent, method: "POST", body: "2" }));
      assert.ok(e instanceof ResponseNeverReceived);
      assert.equal(server.conns.length, 1);
      await agent.pool.closeCachedConnections();
    });
  }),
);

// --- Cancellation and timeouts -------------------------------------------------------

Deno.test(
  "Cancelling a request closes its connection and fails with CancelledError",
  bounded(() => {
    const eof = Promise.withResolvers<true>();
    const requested = Promise.withResolvers<void>();
    return withRawServer(async (conn) => {
      await readRequest(conn);
      requested.resolve();
      eof.resolve(await readUntilEOF(conn));
    }, async (server) => {
      const d = new Agent().request("GET", `${server.url}/`);
      await requested.promise;
      d.cancel();
      assert.ok((await rejection(d)) instanceof CancelledError);
      assert.equal(await eof.promise, true);
    });
  }),
);

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

// --- Bad responses ------------------------------------------------------------------

Deno.test(
  "A malformed status line fails the request with ParseError inside ResponseFailed",
  bounded(() =>
    withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 OK 200\r\nContent-Length: 0\r\n\r\n");
      await readUntilEOF(conn);
    }, async (server) => {
      const e = await rejection(new Agent().request("GET", `${server.url}/`));
      assert.ok(e instanceof ResponseFailed);
      assert.ok(!(e instanceof ResponseNeverReceived));
      assert.equal(e.reasons.length, 1);
      const parseError = e.reasons[0].value;
      assert.ok(parseError instanceof ParseError);
      assert.equal(text(parseError.data), "HTTP/1.1 OK 200");
      assert.match(e.message, /Status code is not 3 digits/);
    })
  ),
);

Deno.test(
  "A bad chunk size fails the body with PartialDownloadError holding a ParseError",
  bounded(() =>
    withRawServer(async (conn) => {
      await readRequest(conn);
      await write(
        conn,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ngood\r\nxyz\r\n",
      );
      await readUntilEOF(conn);
    }, async (server) => {
      const response = await new Agent().request("GET", `${server.url}/`);
      const e = await rejection(readBody(response));
      assert.ok(e instanceof PartialDownloadError);
      assert.ok(e instanceof ResponseFailed);
      assert.equal(text(e.body), "good");
      assert.equal(e.status, 200);
      assert.ok(e.reasons[0].check(ParseError));
      assert.match(e.message, /not a hexadecimal number/);
      // getPage says the same.
      assert.ok((await rejection(getPage(`${server.url}/`))) instanceof PartialDownloadError);
    })
  ),
);

Deno.test(
  "A body shorter than its Content-Length fails with DataLoss when the connection closes",
  bounded(() =>
    withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    }, async (server) => {
      const e = await rejection(getPage(`${server.url}/`));
      assert.ok(e instanceof PartialDownloadError);
      assert.equal(text(e.body), "abc");
      const loss = e.reasons.find((f) => f.check(DataLoss))?.value;
      assert.ok(loss instanceof DataLoss);
      assert.equal(loss.received, 3);
      assert.equal(loss.expected, 10);
      assert.match(e.message, /after 3 of the 10 bytes/);
    })
  ),
);

Deno.test(
  "A chunked body cut before its last chunk fails with DataLoss",
  bounded(() =>
    withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    }, async (server) => {
      const e = await rejection(getPage(`${server.url}/`));
      assert.ok(e instanceof PartialDownloadError);
      assert.equal(text(e.body), "abc");
      assert.ok(e.reasons.some((f) => f.check(DataLoss)));
    })
  ),
);

Deno.test(
  "A server that closes before any response gives ResponseNeverReceived",
  bounded(() =>
    withRawServer(async (conn) => {
      await readRequest(conn);
    }, async (server) => {
      const e = await rejection(getPage(`${server.url}/`));
      assert.ok(e instanceof ResponseNeverReceived);
      assert.match(e.message, /^No response was received/);
    })
  ),
);

Deno.test(
  "A server that closes in the middle of the headers gives ResponseFailed",
  bounded(() =>
    withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 200 OK\r\nContent-Len");
    }, async (server) => {
      const e = await rejection(getPage(`${server.url}/`));
      assert.ok(e instanceof ResponseFailed);
      assert.ok(!(e instanceof ResponseNeverReceived));
      assert.match(e.message, /before the response headers were complete/);
    })
  ),
);

Deno.test(
  "An HTTP/1.0 body without a length ends with the connection and is complete",
  bounded(() =>
    withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    }, async (server) => {
      assert.equal(text(await getPage(`${server.url}/`)), "until the end");
      const response = await new Agent().request("GET", `${server.url}/`);
      const reason = Promise.withResolvers<Failure>();
      response.deliverBody({
        makeConnection() {},
        dataReceived() {},
        connectionLost: reason.resolve,
      });
      assert.ok((await reason.promise).check(PotentialDataLoss));
    })
  ),
);

Deno.test(
  "A connection refused fails with ConnectionRefusedError",
  bounded(async () => {
    const e = await rejection(getPage(`http://127.0.0.1:${freePort()}/`));
    assert.ok(e instanceof ConnectionRefusedError);
  }),
);

// --- Arguments and schemes ------------------------------------------------------------

Deno.test("Agent fails with SchemeNotSupported for a scheme other than http and https", async () => {
  const e = await rejection(new Agent().request("GET", "ftp://example.com/file"));
  assert.ok(e instanceof SchemeNotSupported);
  assert.match(e.message, /ftp/);
});

Deno.test("Agent fails HTTPS clearly on a reactor without connectSSL", async () => {
  const tcpOnly: HTTPClientReactor = {
    seconds: () => reactor.seconds(),
    callLater: (delay, fn, ...args) => reactor.callLater(delay, fn, ...args),
    getDelayedCalls: () => reactor.getDelayedCalls(),
    connectTCP: (host, port, factory, options) => reactor.connectTCP(host, port, factory, options),
  };
  const e = await rejection(getPage("https://example.com/", { reactor: tcpOnly }));
  assert.ok(e instanceof SchemeNotSupported);
  assert.match(e.message, /HTTPS needs reactor\.connectSSL/);
});

Deno.test("Agent.request() throws TypeError for an invalid method, URL or header", () => {
  const agent = new Agent();
  assert.throws(() => agent.request("GET /", "http://example.com/"), TypeError);
  assert.throws(() => agent.request("GET", "not a url"), TypeError);
  assert.throws(
    () => agent.request("GET", "http://example.com/", { "X-A": "1\r\nInjected: yes" }),
    /CR, LF or NUL/,
  );
  assert.throws(() => agent.request("GET", "http://example.com/", { "Bad Name": "1" }), TypeError);
  assert.throws(() => new Agent(reactor, { connectTimeout: -1 }), RangeError);
  assert.throws(() => getPage("http://example.com/", { timeout: -1 }), RangeError);
});

// --- The protocol, on a memory reactor -----------------------------------------------

/** Connects the factory of the reactor's last connection attempt to a string transport. */
function connectLast(
  memory: MemoryReactorClock,
  record: "tcpClients" | "sslClients" = "tcpClients",
): { transport: StringTransportWithDisconnection; protocol: ProtocolLike } {
  const factory = memory[record].at(-1)![2];
  const protocol = factory.buildProtocol({ type: "TCP", host: "127.0.0.1", port: 80 })!;
  const transport = new StringTransportWithDisconnection();
  transport.protocol = protocol;
  protocol.makeConnection(transport);
  return { transport, protocol };
}

Deno.test("Agent writes the request line, Host, Connection, headers, Content-Length and body", () => {
  const memory = new MemoryReactorClock();
  const agent = new Agent(memory, { pool: true, connectTimeout: 7 });
  const d = agent.request("POST", "http://example.com:8080/a%20b?c=d#e", [["X-A", "1"]], "body");
  assert.deepEqual(memory.tcpClients[0].slice(0, 2), ["example.com", 8080]);
  assert.equal(memory.tcpClients[0][3], 7);
  const { transport, protocol } = connectLast(memory);
  assert.equal(
    transport.valueString(),
    "POST /a%20b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nX-A: 1\r\nConnection: keep-alive\r\n" +
      "Content-Length: 4\r\n\r\nbody",
  );
  let response: HTTPResponse | undefined;
  d.addCallback((r) => (response = r));
  protocol.dataReceived(encoder.encode("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"));
  assert.equal(response?.code, 201);
  let body: string | undefined;
  readBody(response!).addCallback((b) => (body = text(b)));
  assert.equal(body, "ok");
  assert.equal(transport.producerState, "producing");
  assert.equal(transport.disconnecting, false); // kept for the next request
  agent.pool.closeCachedConnections();
  assert.equal(transport.disconnecting, true);
});

Deno.test("Agent pauses the connection until the body is asked for", () => {
  const memory = new MemoryReactorClock();
  const agent = new Agent(memory);
  let response: HTTPResponse | undefined;
  agent.request("GET", "http://example.com/").addCallback((r) => (response = r));
  const { transport, protocol } = connectLast(memory);
  assert.match(
    transport.valueString(),
    /^GET \/ HTTP\/1\.1\r\nHost: example\.com\r\nConnection: close\r\n\r\n$/,
  );
  protocol.dataReceived(encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab"));
  assert.equal(transport.producerState, "paused");
  const chunks: string[] = [];
  let end: Failure | undefined;
  response!.deliverBody({
    makeConnection() {},
    dataReceived: (data) => chunks.push(text(data)),
    connectionLost: (reason) => (end = reason),
  });
  assert.equal(transport.producerState, "producing");
  protocol.dataReceived(encoder.encode("cdef"));
  assert.deepEqual(chunks, ["ab", "cdef"]);
  // Not kept alive: the body ends once the connection has closed.
  assert.equal(transport.disconnecting, true);
  assert.ok(end?.check(ResponseDone));
});

Deno.test("Agent sends HTTPS through reactor.connectSSL with the TLS options", () => {
  const memory = new MemoryReactorClock();
  const agent = new Agent(memory, { tlsOptions: { caCerts: ["CA"] }, connectTimeout: 3 });
  let response: HTTPResponse | undefined;
  agent.request("GET", "https://example.com/secure").addCallback((r) => (response = r));
  assert.equal(memory.tcpClients.length, 0);
  const [host, port, , contextFactory, timeout] = memory.sslClients[0];
  assert.deepEqual([host, port], ["example.com", 443]);
  assert.deepEqual(contextFactory, { caCerts: ["CA"] });
  assert.equal(timeout, 3);
  const { transport, protocol } = connectLast(memory, "sslClients");
  assert.match(transport.valueString(), /^GET \/secure HTTP\/1\.1\r\nHost: example\.com\r\n/);
  protocol.dataReceived(encoder.encode("HTTP/1.1 204 No Content\r\n\r\n"));
  assert.equal(response?.code, 204);
});

Deno.test("Cancelling a request that is still connecting stops the connector", () => {
  const memory = new MemoryReactorClock();
  const d = new Agent(memory).request("GET", "http://example.com/");
  let error: unknown;
  d.addErrback((f: Failure) => (error = f.value));
  d.cancel();
  assert.ok(error instanceof CancelledError);
  assert.equal(memory.connectors[0].stoppedConnecting, true);
});

Deno.test("A pool drops an idle connection that the server closed", () => {
  const memory = new MemoryReactorClock();
  const pool = new HTTPConnectionPool(memory);
  pool.retryAutomatically = false; // the dead connection must not be used at all
  const agent = new Agent(memory, { pool });
  agent.request("GET", "http://example.com/").addCallback(readBody);
  const { transport, protocol } = connectLast(memory);
  protocol.dataReceived(encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  assert.equal(memory.getDelayedCalls().length, 1); // its idle timeout
  transport.loseConnection(); // as when the server closes it
  assert.equal(memory.getDelayedCalls().length, 0);
  agent.request("GET", "http://example.com/");
  assert.equal(memory.tcpClients.length, 2);
});

Deno.test("A pool closes an idle connection after cachedConnectionTimeout", () => {
  const memory = new MemoryReactorClock();
  const pool = new HTTPConnectionPool(memory);
  pool.cachedConnectionTimeout = 10;
  const agent = new Agent(memory, { pool });
  agent.request("GET", "http://example.com/").addCallback(readBody);
  const { transport, protocol } = connectLast(memory);
  protocol.dataReceived(encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  memory.advance(9);
  assert.equal(transport.disconnecting, false);
  memory.advance(1);
  assert.equal(transport.disconnecting, true);
  agent.request("GET", "http://example.com/");
  assert.equal(memory.tcpClients.length, 2);
});

Deno.test("Unsolicited bytes on an idle pooled connection close it", () => {
  const memory = new MemoryReactorClock();
  const agent = new Agent(memory, { pool: true });
  agent.request("GET", "http://example.com/").addCallback(readBody);
  const { transport, protocol } = connectLast(memory);
  protocol.dataReceived(encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  assert.equal(transport.disconnecting, false);
  protocol.dataReceived(encoder.encode("HTTP/1.1 200 OK\r\n"));
  assert.equal(transport.disconnecting, true);
  // The pool has forgotten it: the next request connects again.
  agent.request("GET", "http://example.com/");
  assert.equal(memory.tcpClients.length, 2);
});

Deno.test("A response followed by extra bytes is not reused", () => {
  const memory = new MemoryReactorClock();
  const agent = new Agent(memory, { pool: true });
  agent.request("GET", "http://example.com/").addCallback(readBody);
  const { transport, protocol } = connectLast(memory);
  protocol.dataReceived(encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1"));
  assert.equal(transport.disconnecting, true);
});

Deno.test("A chunked body's trailers are kept on the response", () => {
  const memory = new MemoryReactorClock();
  let response: HTTPResponse | undefined;
  new Agent(memory).request("GET", "http://example.com/").addCallback((r) => (response = r));
  const { protocol } = connectLast(memory);
  protocol.dataReceived(
    encoder.encode(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Checksum: 42\r\n\r\n",
    ),
  );
  let body: string | undefined;
  readBody(response!).addCallback((b) => (body = text(b)));
  assert.equal(body, "ok");
  assert.deepEqual(response!.trailers.getRawHeaders("x-checksum"), ["42"]);
});

Deno.test("A torsion Protocol can receive a body, and pause it through its transport", () => {
  class Collector extends Protocol {
    chunks: string[] = [];
    reason: Failure | undefined;
    override dataReceived(data: Uint8Array): void {
      this.chunks.push(text(data));
      this.transport!.pauseProducing();
    }
    override connectionLost(reason: Failure): void {
      super.connectionLost(reason);
      this.reason = reason;
    }
  }
  const memory = new MemoryReactorClock();
  let response: HTTPResponse | undefined;
  new Agent(memory).request("GET", "http://example.com/").addCallback((r) => (response = r));
  const { transport, protocol } = connectLast(memory);
  protocol.dataReceived(encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"));
  const collector = new Collector();
  response!.deliverBody(collector);
  assert.deepEqual(collector.chunks, ["ab"]);
  assert.equal(transport.producerState, "paused");
  collector.transport!.resumeProducing();
  protocol.dataReceived(encoder.encode("cd"));
  assert.deepEqual(collector.chunks, ["ab", "cd"]);
  assert.ok(collector.reason?.check(ResponseDone));
});

// --- Headers ------------------------------------------------------------------------

Deno.test("Headers: names are case-insensitive and keep their first spelling", () => {
  const headers = new Headers();
  headers.addRawHeader("Content-Type", "text/plain");
  headers.addRawHeader("content-type", "text/html");
  assert.deepEqual(headers.getRawHeaders("CONTENT-TYPE"), ["text/plain", "text/html"]);
  assert.deepEqual([...headers.getAllRawHeaders()], [["Content-Type", [
    "text/plain",
    "text/html",
  ]]]);
  headers.setRawHeaders("CONTENT-type", ["x"]);
  assert.deepEqual([...headers], [["CONTENT-type", ["x"]]]);
  headers.removeHeader("content-TYPE");
  assert.equal(headers.hasHeader("content-type"), false);
  assert.equal(headers.getRawHeaders("content-type"), undefined);
  assert.equal(headers.getRawHeaders("content-type", null), null);
});

Deno.test("Headers: copies are independent, and values are copied out", () => {
  const headers = new Headers([["A", "1"], ["B", ["2", "3"]]]);
  const copy = headers.copy();
  copy.addRawHeader("a", "more");
  headers.getRawHeaders("a")!.push("not stored");
  assert.deepEqual(headers.getRawHeaders("a"), ["1"]);
  assert.deepEqual(copy.getRawHeaders("a"), ["1", "more"]);
  assert.deepEqual(new Headers(new globalThis.Headers({ "x-y": "z" })).getRawHeaders("X-Y"), ["z"]);
});

Deno.test("Headers: invalid names and values throw TypeError", () => {
  const headers = new Headers();
  assert.throws(() => headers.addRawHeader("", "x"), TypeError);
  assert.throws(() => headers.addRawHeader("a b", "x"), TypeError);
  assert.throws(() => headers.addRawHeader("a", "x\ny"), TypeError);
  assert.throws(() => headers.setRawHeaders("a", ["ok", "x\0"]), TypeError);
  assert.equal(headers.hasHeader("a"), false);
});
