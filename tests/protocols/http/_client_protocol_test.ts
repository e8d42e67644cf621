// The connection protocol against misbehaving servers: malformed and cut
// responses, unsolicited and extra bytes.
import assert from "node:assert/strict";
import type { Failure } from "../../../defer/mod.ts";
import {
  Agent,
  DataLoss,
  getPage,
  ParseError,
  PartialDownloadError,
  PotentialDataLoss,
  readBody,
  ResponseFailed,
  ResponseNeverReceived,
} from "../../../protocols/mod.ts";
import { MemoryReactorClock } from "../../../testing/mod.ts";
import {
  bounded,
  connectLast,
  readRequest,
  readUntilEOF,
  rejection,
  withRawServer,
  write,
} from "./_fakes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (b: Uint8Array): string => decoder.decode(b);

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

Deno.test("A response followed by extra bytes is not reused", () => {
  const memory = new MemoryReactorClock();
  const agent = new Agent(memory, { pool: true });
  agent.request("GET", "http://example.com/").addCallback(readBody);
  const { transport, protocol } = connectLast(memory);
  protocol.dataReceived(encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1"));
  assert.equal(transport.disconnecting, true);
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

Deno.test("A response with both Content-Length and chunked is read as chunked, then closed", () => {
  const memory = new MemoryReactorClock();
  const agent = new Agent(memory, { pool: true });
  let body: string | undefined;
  agent.request("GET", "http://example.com/").addCallback(readBody).addCallback((b) => {
    body = text(b);
  });
  const { transport, protocol } = connectLast(memory);
  protocol.dataReceived(
    encoder.encode(
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n" +
        "Connection: keep-alive\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ),
  );
  // Not back in the pool: RFC 9112 section 6.3 says close it.
  assert.equal(transport.disconnecting, true);
  transport.loseConnection();
  assert.equal(body, "abc");
  agent.request("GET", "http://example.com/again");
  assert.equal(memory.tcpClients.length, 2, "the second request opens a new connection");
});

Deno.test(
  "An endless stream of 100 Continue fails the request with a ParseError",
  bounded(() =>
    withRawServer(async (conn) => {
      await readRequest(conn);
      const interim = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n".repeat(50));
      // Without end: the client closes once it has had enough.
      for (;;) await write(conn, interim);
    }, async (server) => {
      const e = await rejection(new Agent().request("GET", `${server.url}/`));
      assert.ok(e instanceof ResponseFailed);
      assert.ok(e.reasons[0].value instanceof ParseError);
      assert.match(e.message, /More than 100 interim \(1xx\) responses/);
    })
  ),
);

Deno.test(
  "A 100 Continue followed by an empty line, as aiohttp sends it, is read",
  bounded(() =>
    withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 100 Continue\r\n\r\n\r\n");
      await write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
      await readUntilEOF(conn);
    }, async (server) => {
      assert.equal(text(await getPage(`${server.url}/`)), "ok");
    })
  ),
);
