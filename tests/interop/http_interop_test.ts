// The HTTP client against Twisted's own web server: `python3 -m twisted web`
// serving a temporary directory. Files come back byte for byte through
// getPage and through a pooled Agent, a directory without its slash is
// redirected, and a missing file is a 404.
//
// A missing Twisted is a failure, never a skip.
import assert from "node:assert/strict";
import {
  Agent,
  getPage,
  type HTTPClientReactor,
  HTTPError,
  readBody,
  RedirectAgent,
} from "../../protocols/mod.ts";
import { reactor } from "../../reactor/mod.ts";

const PYTHON = "/usr/bin/python3";
const TWISTED_MISSING = "python3-twisted is not installed: apt-get install -y python3-twisted";
const START_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 60_000;
const decoder = new TextDecoder();

/** `python3 -m twisted web` on a free port of 127.0.0.1, serving `root`. */
class TwistedWeb {
  readonly child: Deno.ChildProcess;
  readonly port: Promise<number>;
  readonly #output: Promise<string>;
  readonly #stderr: Promise<string>;

  constructor(root: string) {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(PYTHON, {
        args: ["-m", "twisted", "web", "--listen", "tcp:0:interface=127.0.0.1", "--path", root],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(`${TWISTED_MISSING} (${PYTHON} was not found)`);
      }
      throw error;
    }
    this.child = child;
    const port = Promise.withResolvers<number>();
    this.port = port.promise;
    // The log says "Site starting on <port>" once it listens.
    this.#output = (async () => {
      let text = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        const found = /Site starting on (\d+)/.exec(text);
        if (found !== null) port.resolve(Number(found[1]));
      }
      return text;
    })();
    const stderr = this.#stderr = new Response(child.stderr).text();
    const timer = setTimeout(
      () =>
        port.reject(new Error(`Twisted's web server did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    this.port.catch(() => {}).finally(() => clearTimeout(timer));
    child.status.then(async (status) => {
      port.reject(
        new Error(
          `Twisted's web server exited (${status.code}) before listening: ${TWISTED_MISSING}?\n` +
            `${await stderr}`,
        ),
      );
    });
  }

  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await this.child.status;
    await this.#output;
    await this.#stderr;
  }
}

/** A reactor that counts the connections made through it. */
function countingReactor(): { reactor: HTTPClientReactor; connections: () => number } {
  let count = 0;
  return {
    reactor: {
      seconds: () => reactor.seconds(),
      callLater: (delay, fn, ...args) => reactor.callLater(delay, fn, ...args),
      getDelayedCalls: () => reactor.getDelayedCalls(),
      connectTCP: (host, port, factory, options) => {
        count++;
        return reactor.connectTCP(host, port, factory, options);
      },
    },
    connections: () => count,
  };
}

/** Seeded bytes, so a failure is reproducible. */
function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

Deno.test({
  name: "The HTTP client against Twisted's web server",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn(t) {
    const root = await Deno.makeTempDir({ prefix: "torsion-http-interop-" });
    const small = new TextEncoder().encode("hello from twisted.web\n");
    const big = pseudoRandomBytes(1 << 20, 0x5eed);
    await Deno.writeFile(`${root}/small.txt`, small);
    await Deno.writeFile(`${root}/big.bin`, big);
    await Deno.mkdir(`${root}/sub`);
    await Deno.writeTextFile(`${root}/sub/index.html`, "<p>index of sub</p>");

    const server = new TwistedWeb(root);
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        watchdog = setTimeout(
          () => reject(new Error(`The interop test did not finish within ${TEST_TIMEOUT_MS} ms`)),
          TEST_TIMEOUT_MS,
        );
      });
      const port = await Promise.race([server.port, timedOut]);
      const base = `http://127.0.0.1:${port}`;
      const step = (name: string, fn: () => Promise<void>) =>
        t.step(name, () => Promise.race([fn(), timedOut]));

      await step("getPage() fetches a small file", async () => {
        assert.deepEqual(await getPage(`${base}/small.txt`), small);
      });

      await step("getPage() fetches a 1 MiB file byte for byte", async () => {
        const body = await getPage(`${base}/big.bin`);
        assert.equal(body.length, big.length);
        assert.deepEqual(body, big);
      });

      await step("a pooled Agent fetches both files over one connection", async () => {
        const counting = countingReactor();
        const agent = new Agent(counting.reactor, { pool: true });
        for (let i = 0; i < 3; i++) {
          const first = await agent.request("GET", `${base}/small.txt`);
          assert.equal(first.code, 200);
          assert.deepEqual(first.headers.getRawHeaders("content-type"), ["text/plain"]);
          assert.deepEqual(await readBody(first), small);
          const second = await agent.request("GET", `${base}/big.bin`);
          assert.equal(second.length, big.length);
          assert.deepEqual(await readBody(second), big);
        }
        assert.equal(counting.connections(), 1);
        await agent.pool.closeCachedConnections();
      });

      await step("HEAD gives the length and no body", async () => {
        const response = await new Agent().request("HEAD", `${base}/big.bin`);
        assert.equal(response.code, 200);
        assert.deepEqual(response.headers.getRawHeaders("content-length"), [String(big.length)]);
        assert.equal((await readBody(response)).length, 0);
      });

      await step("a directory without its slash is redirected", async () => {
        const response = await new RedirectAgent(new Agent()).request("GET", `${base}/sub`);
        assert.equal(decoder.decode(await readBody(response)), "<p>index of sub</p>");
        assert.equal(response.request?.absoluteURI, `${base}/sub/`);
        assert.ok([301, 302].includes(response.previousResponse!.code));
      });

      await step("a missing file is a 404 HTTPError", async () => {
        try {
          await getPage(`${base}/missing.txt`);
          assert.fail("Expected a 404");
        } catch (error) {
          assert.ok(error instanceof HTTPError, String(error));
          assert.equal(error.status, 404);
          assert.match(decoder.decode(error.body), /No Such Resource/);
        }
      });
    } finally {
      clearTimeout(watchdog);
      await server.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});
