// ProxyAgent through a real proxy, Debian's `tinyproxy`, started here on
// loopback with a generated configuration: http requests in absolute form,
// https through CONNECT tunnels with TLS to a Deno.serve HTTPS server inside,
// body producers sent through them, Basic proxy authentication, and the
// proxy's refusals (407, 403, 500).
//
// A missing tinyproxy is a failure, never a skip.
import assert from "node:assert/strict";
import {
  FileBodyProducer,
  ProxyAgent,
  readBody,
  type Response as HTTPResponse,
  TunnelError,
} from "../../protocols/mod.ts";
import { reactor } from "../../reactor/deno_reactor.ts";
import { TCP4ClientEndpoint } from "../../reactor/endpoints.ts";
import { tlsFixture } from "../reactor/_tls_fixture.ts";
import { firstDifference, freePort, pattern, streamOf, within } from "../_helpers.ts";

const TINYPROXY_MISSING = "tinyproxy is not installed: apt-get install -y tinyproxy";
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
// "user:pass", as tinyproxy's BasicAuth below has it.
const AUTH = { "Proxy-Authorization": `Basic ${btoa("user:pass")}` };

/** tinyproxy in the foreground, its log collected until it is stopped. */
class Tinyproxy {
  readonly port: number;
  readonly #dir: string;
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<unknown>;
  log = "";

  private constructor(dir: string, port: number, child: Deno.ChildProcess) {
    this.#dir = dir;
    this.port = port;
    this.#child = child;
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) this.log += chunk;
    };
    this.#done = Promise.all([collect(child.stdout), collect(child.stderr), child.status]);
  }

  static async start(connectPorts: number[]): Promise<Tinyproxy> {
    const dir = await Deno.makeTempDir({ prefix: "torsion-tinyproxy-" });
    const port = freePort();
    const config = [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 30",
      "LogLevel Info",
      "MaxClients 20",
      "Allow 127.0.0.1",
      "DisableViaHeader Yes",
      "BasicAuth user pass",
      ...connectPorts.map((p) => `ConnectPort ${p}`),
    ].join("\n");
    await Deno.writeTextFile(`${dir}/tinyproxy.conf`, `${config}\n`);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("tinyproxy", {
        args: ["-d", "-c", `${dir}/tinyproxy.conf`],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      await Deno.remove(dir, { recursive: true });
      if (error instanceof Deno.errors.NotFound) throw new Error(TINYPROXY_MISSING);
      throw error;
    }
    const proxy = new Tinyproxy(dir, port, child);
    // Ready once it accepts connections.
    await within(
      10,
      (async () => {
        for (;;) {
          try {
            (await Deno.connect({ hostname: "127.0.0.1", port })).close();
            return;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      })(),
      "tinyproxy to listen",
    );
    return proxy;
  }

  get endpoint(): TCP4ClientEndpoint {
    return new TCP4ClientEndpoint(reactor, "127.0.0.1", this.port);
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await within(10, this.#done, "tinyproxy to stop");
    await Deno.remove(this.#dir, { recursive: true });
  }
}

Deno.test("ProxyAgent through tinyproxy: http, https tunnels, authentication, refusals", async (t) => {
  const { ca, cert, key } = await tlsFixture();
  const seen: string[] = [];
  // What the server received at /upload/...: its framing headers and body.
  const uploads: {
    contentLength: string | null;
    transferEncoding: string | null;
    body: Uint8Array;
  }[] = [];
  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    seen.push(`${url.protocol} ${request.method} ${url.pathname}${url.search}`);
    if (url.pathname.startsWith("/upload/")) {
      const body = new Uint8Array(await request.arrayBuffer());
      uploads.push({
        contentLength: request.headers.get("content-length"),
        transferEncoding: request.headers.get("transfer-encoding"),
        body,
      });
      return new Response(`received ${body.length}`);
    }
    return new Response(
      `${url.protocol} ${url.pathname} ${request.headers.get("proxy-authorization")}`,
    );
  };
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const https = Deno.serve({ hostname: "127.0.0.1", port: 0, cert, key, onListen() {} }, handler);
  const closed = freePort();
  const proxy = await Tinyproxy.start([https.addr.port, closed]);
  try {
    const agent = new ProxyAgent(proxy.endpoint, reactor, {
      proxyHeaders: AUTH,
      tlsOptions: { caCerts: [ca] },
      pool: true,
    });

    await t.step("http: absolute form, the proxy's credentials not passed on", async () => {
      const response = await agent.request("GET", `http://127.0.0.1:${http.addr.port}/page?x=1`);
      assert.equal(response.code, 200);
      assert.equal(text(await readBody(response)), "http: /page null");
      assert.equal(seen.at(-1), "http: GET /page?x=1");
      assert.match(
        proxy.log,
        new RegExp(`GET http://127\\.0\\.0\\.1:${http.addr.port}/page\\?x=1`),
      );
    });

    await t.step("https: a CONNECT tunnel with TLS inside, reused", async () => {
      for (const path of ["/one", "/two", "/three"]) {
        const response = await agent.request("GET", `https://localhost:${https.addr.port}${path}`);
        assert.equal(text(await readBody(response)), `https: ${path} null`);
      }
      const tunnels = proxy.log.match(/Request \(file descriptor \d+\): CONNECT localhost:\d+/g);
      assert.equal(tunnels?.length, 1, proxy.log);
      const post = await agent.request(
        "POST",
        `https://127.0.0.1:${https.addr.port}/form`,
        {},
        "a=1",
      );
      assert.equal(text(await readBody(post)), "https: /form null");
      assert.equal(seen.at(-1), "https: POST /form");
    });

    await t.step("https: body producers through a tunnel, Content-Length or chunked", async () => {
      const small = pattern(1000);
      const large = pattern(4 * 2 ** 20 + 7);
      const cases = [
        ["bytes", small, new FileBodyProducer(small, { readSize: 100 }), "1000", null],
        ["stream", small, new FileBodyProducer(streamOf(small, 333)), null, "chunked"],
        ["large-bytes", large, new FileBodyProducer(large), String(large.length), null],
        ["large-stream", large, new FileBodyProducer(streamOf(large, 65536)), null, "chunked"],
      ] as const;
      for (const [name, data, producer, contentLength, transferEncoding] of cases) {
        const response = await agent.request(
          "POST",
          `https://localhost:${https.addr.port}/upload/${name}`,
          {},
          producer,
        );
        assert.equal(response.code, 200, name);
        assert.equal(text(await readBody(response)), `received ${data.length}`, name);
        assert.equal(seen.at(-1), `https: POST /upload/${name}`);
        const upload = uploads.at(-1)!;
        assert.equal(upload.contentLength, contentLength, name);
        assert.equal(upload.transferEncoding, transferEncoding, name);
        assert.equal(upload.body.length, data.length, name);
        const at = firstDifference(upload.body, data);
        assert.equal(at, -1, `${name}: the byte at ${at} differs`);
      }
      // Through the pooled tunnel the step above opened to localhost.
      const tunnels = proxy.log.match(/Request \(file descriptor \d+\): CONNECT localhost:\d+/g);
      assert.equal(tunnels?.length, 1, proxy.log);
    });

    await t.step(
      "without credentials: 407 as a response for http, a TunnelError for https",
      async () => {
        const anonymous = new ProxyAgent(proxy.endpoint, reactor, {
          tlsOptions: { caCerts: [ca] },
        });
        const response: HTTPResponse = await anonymous.request(
          "GET",
          `http://127.0.0.1:${http.addr.port}/`,
        );
        assert.equal(response.code, 407);
        assert.deepEqual(response.headers.getRawHeaders("proxy-authenticate"), [
          'Basic realm="Tinyproxy"',
        ]);
        await readBody(response);
        const e = await anonymous.request("GET", `https://127.0.0.1:${https.addr.port}/`)
          .asPromise()
          .catch((error) => error);
        assert.ok(e instanceof TunnelError, String(e));
        assert.equal(e.code, 407);
        assert.match(
          e.message,
          /refused a tunnel to 127\.0\.0\.1:\d+: 407 Proxy Authentication Required/,
        );
      },
    );

    await t.step("a port tinyproxy does not allow: 403; one nobody listens on: 500", async () => {
      const forbidden = await agent.request("GET", `https://127.0.0.1:${http.addr.port}/`)
        .asPromise()
        .catch((error) => error);
      assert.ok(forbidden instanceof TunnelError, String(forbidden));
      assert.equal(forbidden.code, 403);
      const unreachable = await agent.request("GET", `https://127.0.0.1:${closed}/`).asPromise()
        .catch((error) => error);
      assert.ok(unreachable instanceof TunnelError, String(unreachable));
      assert.equal(unreachable.code, 500);
    });
    await agent.pool.closeCachedConnections();
  } finally {
    await proxy.stop();
    await http.shutdown();
    await https.shutdown();
  }
});
