// HTTPConnectionPool: reuse, limits, retries, idle timeouts and closes.
import assert from "node:assert/strict";
import {
  Agent,
  getPage,
  HTTPConnectionPool,
  readBody,
  ResponseNeverReceived,
} from "../../../protocols/mod.ts";
import { reactor } from "../../../reactor/mod.ts";
import { MemoryReactorClock } from "../../../testing/mod.ts";
import {
  bounded,
  connectLast,
  readRequest,
  rejection,
  withRawServer,
  withServer,
  write,
} from "./_fakes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (b: Uint8Array): string => decoder.decode(b);

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
