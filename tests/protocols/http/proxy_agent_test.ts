// ProxyAgent against a small proxy written here: absolute-form http requests,
// CONNECT tunnels with TLS to a Deno.serve HTTPS server, refused tunnels,
// a proxy that hangs up, a pooled tunnel reused, body producers sent through
// a tunnel. The same agent against Debian's tinyproxy is in
// tests/interop/proxy_interop_test.ts.
import assert from "node:assert/strict";
import {
  type BodyProducer,
  FileBodyProducer,
  getPage,
  ProxyAgent,
  readBody,
  RedirectAgent,
  ResponseFailed,
  TunnelError,
  UNKNOWN_LENGTH,
} from "../../../protocols/mod.ts";
import { reactor } from "../../../reactor/deno_reactor.ts";
import { TCP4ClientEndpoint } from "../../../reactor/endpoints.ts";
import { ConnectionRefusedError } from "../../../reactor/connection_errors.ts";
import { tlsFixture } from "../../reactor/_tls_fixture.ts";
import {
  bounded,
  freePort,
  readRequest,
  rejection,
  withRawServer,
  withServer,
  write,
} from "./_fakes.ts";
import { firstDifference, pattern, streamOf } from "../../_helpers.ts";

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Copies bytes one way until either side closes. */
async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) break;
      await write(to, buffer.subarray(0, n));
    }
  } catch {
    // Either side went away.
  }
  try {
    await to.closeWrite();
  } catch {
    // Closed.
  }
}

/**
 * A proxy for one connection at a time: `answer` decides what to do with the
 * request head it read (write a response, or "tunnel" to a port).
 */
function proxy(
  answer: (head: string) => string | { tunnel: number },
  heads: string[],
) {
  return async (conn: Deno.TcpConn): Promise<void> => {
    for (;;) {
      const head = await readRequest(conn);
      if (head === null) return;
      heads.push(head);
      const action = answer(head);
      if (typeof action === "string") {
        await write(conn, action);
        continue;
      }
      const origin = await Deno.connect({ hostname: "127.0.0.1", port: action.tunnel });
      await write(conn, "HTTP/1.1 200 Connection established\r\n\r\n");
      await Promise.all([pipe(conn, origin), pipe(origin, conn)]);
      origin.close();
      return;
    }
  };
}

const endpointTo = (port: number) => new TCP4ClientEndpoint(reactor, "127.0.0.1", port);

Deno.test(
  "ProxyAgent sends http requests in absolute form, with the proxy's headers",
  bounded(() => {
    const heads: string[] = [];
    return withRawServer(
      proxy(() => "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied", heads),
      async (server) => {
        const agent = new ProxyAgent(endpointTo(server.port), reactor, {
          proxyHeaders: { "Proxy-Authorization": "Basic dTpw" },
        });
        const response = await agent.request("GET", "http://example.test:8080/a%20b?q=1#frag");
        assert.equal(text(await readBody(response)), "proxied");
        const lines = heads[0].split("\r\n");
        assert.equal(lines[0], "GET http://example.test:8080/a%20b?q=1 HTTP/1.1");
        assert.ok(lines.includes("Host: example.test:8080"));
        assert.ok(lines.includes("Proxy-Authorization: Basic dTpw"));
        assert.equal(response.request?.absoluteURI, "http://example.test:8080/a%20b?q=1");
      },
    );
  }),
);

Deno.test(
  "ProxyAgent tunnels https through CONNECT and verifies the server inside",
  bounded(async () => {
    const { ca, cert, key } = await tlsFixture();
    const origin = Deno.serve(
      { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
      (request) =>
        new Response(
          `secure ${new URL(request.url).pathname} ${request.headers.get("proxy-authorization")}`,
        ),
    );
    const heads: string[] = [];
    try {
      await withRawServer(proxy(() => ({ tunnel: origin.addr.port }), heads), async (server) => {
        const agent = new ProxyAgent(endpointTo(server.port), reactor, {
          tlsOptions: { caCerts: [ca] },
          proxyHeaders: { "Proxy-Authorization": "Basic dTpw" },
          pool: true,
        });
        const url = `https://localhost:${origin.addr.port}`;
        for (const path of ["/one", "/two"]) {
          const response = await agent.request("GET", `${url}${path}`);
          // The proxy's credentials went to the proxy, not to the server.
          assert.equal(text(await readBody(response)), `secure ${path} null`);
        }
        // One tunnel, reused from the pool.
        assert.equal(heads.length, 1);
        const lines = heads[0].split("\r\n");
        assert.equal(lines[0], `CONNECT localhost:${origin.addr.port} HTTP/1.1`);
        assert.ok(lines.includes(`Host: localhost:${origin.addr.port}`));
        assert.ok(lines.includes("Proxy-Authorization: Basic dTpw"));
        await agent.pool.closeCachedConnections();

        // Without the test CA, the server inside the tunnel is not trusted.
        const untrusting = new ProxyAgent(endpointTo(server.port));
        const e = await rejection(untrusting.request("GET", `${url}/`));
        assert.ok(e instanceof ResponseFailed, String(e));
        assert.match(
          String((e.reasons[0].value as Error).cause ?? e.reasons[0].value),
          /certificate|UnknownIssuer/i,
        );
      });
    } finally {
      await origin.shutdown();
    }
  }),
);

/** What the HTTPS server inside a tunnel received. */
interface Upload {
  method: string;
  path: string;
  contentLength: string | null;
  transferEncoding: string | null;
  body: Uint8Array;
}

/**
 * Runs `fn` with a ProxyAgent whose https requests go through the proxy
 * above to a Deno.serve HTTPS server; the server keeps each request body it
 * reads whole in `uploads`. Its handler waits for `read` (if given) before
 * reading a body.
 */
async function withTunnelledUploads(
  fn: (agent: ProxyAgent, url: string, uploads: Upload[], heads: string[]) => Promise<void>,
  read?: Promise<void>,
): Promise<void> {
  const { ca, cert, key } = await tlsFixture();
  const uploads: Upload[] = [];
  const origin = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
    async (request) => {
      await read;
      const body = new Uint8Array(await request.arrayBuffer());
      uploads.push({
        method: request.method,
        path: new URL(request.url).pathname,
        contentLength: request.headers.get("content-length"),
        transferEncoding: request.headers.get("transfer-encoding"),
        body,
      });
      return new Response(`received ${body.length}`);
    },
  );
  const heads: string[] = [];
  try {
    await withRawServer(proxy(() => ({ tunnel: origin.addr.port }), heads), async (server) => {
      const agent = new ProxyAgent(endpointTo(server.port), reactor, {
        tlsOptions: { caCerts: [ca] },
        pool: true,
      });
      try {
        await fn(agent, `https://localhost:${origin.addr.port}`, uploads, heads);
      } finally {
        await agent.pool.closeCachedConnections();
      }
    });
  } finally {
    await origin.shutdown();
  }
}

/** `producer`, counting the times the connection paused and resumed it. */
function counted(producer: BodyProducer): BodyProducer & { pauses: number; resumes: number } {
  return {
    pauses: 0,
    resumes: 0,
    get length() {
      return producer.length;
    },
    startProducing: (consumer) => producer.startProducing(consumer),
    pauseProducing() {
      this.pauses++;
      producer.pauseProducing();
    },
    resumeProducing() {
      this.resumes++;
      producer.resumeProducing();
    },
    stopProducing: () => producer.stopProducing(),
  };
}

Deno.test(
  "ProxyAgent sends a body producer through a tunnel: Content-Length when known, else chunked",
  bounded(() =>
    withTunnelledUploads(async (agent, url, uploads, heads) => {
      // Every byte value, and what would end a chunked body if it were not framed.
      const data = new Uint8Array([...pattern(1000), ...new TextEncoder().encode("0\r\n\r\n")]);
      for (let i = 0; i < 256; i++) data[i] = i;
      const post = async (path: string, body: BodyProducer) => {
        const response = await agent.request("POST", `${url}${path}`, {}, body);
        assert.equal(response.code, 200);
        assert.equal(text(await readBody(response)), `received ${data.length}`);
        return uploads.at(-1)!;
      };

      const bytes = new FileBodyProducer(data, { readSize: 100 });
      assert.equal(bytes.length, data.length);
      assert.deepEqual(await post("/bytes", bytes), {
        method: "POST",
        path: "/bytes",
        contentLength: String(data.length),
        transferEncoding: null,
        body: data,
      });

      const stream = new FileBodyProducer(streamOf(data, 333));
      assert.equal(stream.length, UNKNOWN_LENGTH);
      assert.deepEqual(await post("/stream", stream), {
        method: "POST",
        path: "/stream",
        contentLength: null,
        transferEncoding: "chunked",
        body: data,
      });

      const sized = new FileBodyProducer(streamOf(data, 333), { length: data.length });
      assert.deepEqual(await post("/sized", sized), {
        method: "POST",
        path: "/sized",
        contentLength: String(data.length),
        transferEncoding: null,
        body: data,
      });

      // All three through one tunnel, the proxy seeing only its CONNECT.
      assert.equal(uploads.length, 3);
      assert.equal(heads.length, 1);
      assert.match(heads[0], /^CONNECT localhost:\d+ HTTP\/1\.1\r\n/);
    })
  ),
);

Deno.test(
  "ProxyAgent sends 4 MiB producer bodies through a tunnel intact, paused by the connection",
  bounded(() =>
    withTunnelledUploads(async (agent, url, uploads) => {
      const data = pattern(4 * 2 ** 20 + 7);
      for (
        const [name, producer, contentLength, transferEncoding] of [
          ["bytes", new FileBodyProducer(data), String(data.length), null],
          ["stream", new FileBodyProducer(streamOf(data, 65536)), null, "chunked"],
        ] as const
      ) {
        const body = counted(producer);
        const response = await agent.request("PUT", `${url}/${name}`, {}, body);
        assert.equal(text(await readBody(response)), `received ${data.length}`, name);
        const upload = uploads.at(-1)!;
        assert.equal(upload.path, `/${name}`);
        assert.equal(upload.contentLength, contentLength, name);
        assert.equal(upload.transferEncoding, transferEncoding, name);
        assert.equal(upload.body.length, data.length, name);
        const at = firstDifference(upload.body, data);
        assert.equal(at, -1, `${name}: the byte at ${at} differs`);
        // The body did not fit the connection's buffer: it was paused and resumed.
        assert.ok(body.pauses > 0, `${name}: never paused`);
        assert.ok(body.resumes > 0, `${name}: never resumed`);
      }
    }), 30),
);

Deno.test(
  "ProxyAgent keeps a producer paused while the server inside the tunnel does not read",
  bounded(async () => {
    let release!: () => void;
    const read = new Promise<void>((resolve) => (release = resolve));
    await withTunnelledUploads(async (agent, url, uploads) => {
      const total = 64 * 2 ** 20;
      const piece = pattern(65536);
      let produced = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (produced >= total) return controller.close();
          produced += piece.length;
          controller.enqueue(piece);
        },
      }, { highWaterMark: 0 });
      const body = counted(new FileBodyProducer(stream));
      const response = agent.request("PUT", `${url}/held`, {}, body).asPromise();
      response.catch(() => {}); // Awaited below, unless an assertion fails first.
      try {
        // Until the connection's, the sockets' and the proxy's buffers are
        // full, then no further.
        let last = -1;
        while (produced === 0 || produced !== last) {
          last = produced;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.ok(body.pauses > 0, "never paused");
        assert.ok(produced < total / 2, `${produced} bytes produced while the server did not read`);
      } finally {
        release();
      }
      assert.equal(text(await readBody(await response)), `received ${total}`);
      assert.equal(uploads[0].body.length, total);
      assert.equal(uploads[0].transferEncoding, "chunked");
      const at = firstDifference(uploads[0].body, piece);
      assert.equal(at, -1, `the byte at ${at} differs`);
      assert.ok(body.resumes > 0);
    }, read);
  }, 60),
);

Deno.test(
  "A refused tunnel fails with TunnelError and the proxy's status",
  bounded(() => {
    const heads: string[] = [];
    return withRawServer(
      proxy(
        (head) =>
          head.includes("Proxy-Authorization")
            ? "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad"
            : 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="p"\r\nContent-Length: 4\r\n\r\nauth',
        heads,
      ),
      async (server) => {
        const e = await rejection(
          new ProxyAgent(endpointTo(server.port)).request("GET", "https://example.test/"),
        );
        assert.ok(e instanceof TunnelError, String(e));
        assert.equal(e.code, 407);
        assert.equal(e.target, "example.test:443");
        assert.deepEqual(e.headers.getRawHeaders("proxy-authenticate"), ['Basic realm="p"']);
        assert.equal(
          e.message,
          "The proxy refused a tunnel to example.test:443: 407 Proxy Authentication Required",
        );
        const withAuth = new ProxyAgent(endpointTo(server.port), reactor, {
          proxyHeaders: { "Proxy-Authorization": "Basic dTpw" },
        });
        const bad = await rejection(getPage("https://[::1]:8443/", { agent: withAuth }));
        assert.ok(bad instanceof TunnelError, String(bad));
        assert.equal(bad.code, 502);
        assert.equal(bad.target, "[::1]:8443");
      },
    );
  }),
);

Deno.test(
  "A proxy that hangs up or talks nonsense fails the tunnel clearly",
  bounded(async () => {
    await withRawServer(async (conn) => {
      await readRequest(conn);
    }, async (server) => {
      const e = await rejection(
        new ProxyAgent(endpointTo(server.port)).request("GET", "https://example.test/"),
      );
      assert.ok(e instanceof TunnelError, String(e));
      assert.equal(e.code, undefined);
      assert.match(e.message, /did not open a tunnel to example.test:443/);
    });
    await withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "SSH-2.0-OpenSSH\r\n\r\n");
    }, async (server) => {
      const e = await rejection(
        new ProxyAgent(endpointTo(server.port)).request("GET", "https://example.test/"),
      );
      assert.ok(e instanceof TunnelError, String(e));
      assert.match(e.message, /did not open a tunnel/);
    });
  }),
);

Deno.test(
  "ProxyAgent: an unreachable proxy fails with the connection's error",
  bounded(async () => {
    const agent = new ProxyAgent(endpointTo(freePort()));
    assert.ok(
      (await rejection(agent.request("GET", "http://example.test/"))) instanceof
        ConnectionRefusedError,
    );
    assert.ok(
      (await rejection(agent.request("GET", "https://example.test/"))) instanceof
        ConnectionRefusedError,
    );
  }),
);

Deno.test(
  "ProxyAgent with RedirectAgent: redirects are followed through the proxy",
  bounded(() =>
    withServer((request) => {
      const url = new URL(request.url);
      return url.pathname === "/old"
        ? Response.redirect(new URL("/new", url), 301)
        : new Response(`at ${url.pathname}`);
    }, async (base) => {
      const port = Number(new URL(base).port);
      const heads: string[] = [];
      // A "proxy" that forwards absolute-form requests to the server above.
      await withRawServer(async (conn) => {
        for (;;) {
          const head = await readRequest(conn);
          if (head === null) return;
          heads.push(head.split("\r\n")[0]);
          const path = new URL(head.split(" ")[1]).pathname;
          const upstream = await fetch(`${base}${path}`, { redirect: "manual" });
          const body = await upstream.text();
          const location = upstream.headers.get("location");
          await write(
            conn,
            `HTTP/1.1 ${upstream.status} X\r\n${
              location ? `Location: ${location}\r\n` : ""
            }Content-Length: ${body.length}\r\n\r\n${body}`,
          );
        }
      }, async (server) => {
        const agent = new RedirectAgent(new ProxyAgent(endpointTo(server.port)));
        const response = await agent.request("GET", `http://127.0.0.1:${port}/old`);
        assert.equal(text(await readBody(response)), "at /new");
        assert.deepEqual(heads, [
          `GET http://127.0.0.1:${port}/old HTTP/1.1`,
          `GET http://127.0.0.1:${port}/new HTTP/1.1`,
        ]);
      });
    })
  ),
);
