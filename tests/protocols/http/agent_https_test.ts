import assert from "node:assert/strict";
import { Agent, getPage, HTTPConnectionPool, readBody } from "../../../protocols/mod.ts";
import { reactor } from "../../../reactor/deno_reactor.ts";
import { ConnectError } from "../../../reactor/connection_errors.ts";
import { tlsFixture } from "../../reactor/_tls_fixture.ts";

/** Client ports seen by the last server started: one per connection. */
const clientPorts = new Set<number>();

async function httpsServer() {
  const { cert, key } = await tlsFixture();
  clientPorts.clear();
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
    (request, info) => {
      clientPorts.add((info.remoteAddr as Deno.NetAddr).port);
      return new Response(`secure ${new URL(request.url).pathname}`);
    },
  );
}

Deno.test("getPage fetches over HTTPS through reactor.connectSSL", async () => {
  const { ca } = await tlsFixture();
  const server = await httpsServer();
  try {
    const body = await getPage(`https://127.0.0.1:${server.addr.port}/page`, {
      agent: new Agent(reactor, { tlsOptions: { caCerts: [ca] } }),
    });
    assert.equal(new TextDecoder().decode(body), "secure /page");
  } finally {
    await server.shutdown();
  }
});

Deno.test("a pooled HTTPS Agent reuses its TLS connection", async () => {
  const { ca } = await tlsFixture();
  const server = await httpsServer();
  const pool = new HTTPConnectionPool(reactor, true);
  try {
    const agent = new Agent(reactor, {
      pool,
      tlsOptions: { caCerts: [ca], hostname: "localhost" },
    });
    for (const path of ["/a", "/b"]) {
      const response = await agent.request("GET", `https://127.0.0.1:${server.addr.port}${path}`);
      assert.equal(new TextDecoder().decode(await readBody(response)), `secure ${path}`);
    }
    assert.equal(clientPorts.size, 1, "both requests went over one connection");
  } finally {
    await pool.closeCachedConnections();
    await server.shutdown();
  }
});

Deno.test("HTTPS to a server whose certificate is not trusted fails clearly", async () => {
  const server = await httpsServer();
  try {
    await assert.rejects(
      getPage(`https://127.0.0.1:${server.addr.port}/`).asPromise(),
      (error: unknown) => {
        assert.ok(error instanceof ConnectError, String(error));
        assert.match((error as Error).message, /TLS handshake with 127\.0\.0\.1:\d+ failed/);
        return true;
      },
    );
  } finally {
    await server.shutdown();
  }
});
