// Agent against Deno.serve and raw servers: bodies, methods, headers, schemes,
// cancellation, and what it writes on a memory reactor.
import assert from "node:assert/strict";
import { CancelledError } from "../../../defer/mod.ts";
import type { Failure } from "../../../defer/mod.ts";
import {
  Agent,
  getPage,
  Headers,
  readBody,
  ResponseDone,
  SchemeNotSupported,
} from "../../../protocols/mod.ts";
import type { HTTPClientReactor, Response as HTTPResponse } from "../../../protocols/mod.ts";
import { ConnectionRefusedError, reactor } from "../../../reactor/mod.ts";
import { MemoryReactorClock } from "../../../testing/mod.ts";
import config from "../../../deno.json" with { type: "json" };
import {
  bounded,
  connectLast,
  freePort,
  readRequest,
  readUntilEOF,
  rejection,
  withRawServer,
  withServer,
} from "./_fakes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (b: Uint8Array): string => decoder.decode(b);

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
  "A connection refused fails with ConnectionRefusedError",
  bounded(async () => {
    const e = await rejection(getPage(`http://127.0.0.1:${freePort()}/`));
    assert.ok(e instanceof ConnectionRefusedError);
  }),
);

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

Deno.test("Agent writes the request line, Host, Connection, headers, Content-Length and body", () => {
  const memory = new MemoryReactorClock();
  const agent = new Agent(memory, { pool: true, connectTimeout: 7 });
  const d = agent.request("POST", "http://example.com:8080/a%20b?c=d#e", [["X-A", "1"]], "body");
  assert.deepEqual(memory.tcpClients[0].slice(0, 2), ["example.com", 8080]);
  assert.equal(memory.tcpClients[0][3], 7);
  const { transport, protocol } = connectLast(memory);
  assert.equal(
    transport.valueString(),
    "POST /a%20b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nX-A: 1\r\n" +
      `User-Agent: torsion/${config.version}\r\nConnection: keep-alive\r\n` +
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
    /^GET \/ HTTP\/1\.1\r\nHost: example\.com\r\nUser-Agent: torsion\/[^\r]+\r\nConnection: close\r\n\r\n$/,
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
