// `cli.ts get` as users run it: -o FILE streams the body to a file, a failed
// download leaves no partial file, an HTTP error writes none, and the
// progress bar goes only where the runner's io can draw it (a terminal), and a
// compressed body comes out decoded.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { main, type RunnerIO } from "../../../cli.ts";
import { DenoReactor } from "../../../reactor/deno_reactor.ts";

const CLI = new URL("../../../cli.ts", import.meta.url).pathname;
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const MiB = 2 ** 20;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, ...args],
    stdin: "null",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(30_000),
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Serves a known 3 MiB body at /big, a 404 elsewhere, and a body cut short at /cut. */
async function withServers(fn: (base: string, cut: string) => Promise<void>): Promise<void> {
  const big = new Uint8Array(3 * MiB);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/big"
        ? new Response(big)
        : new Response("nope", { status: 404 }),
  );
  // Announces 2 MiB, sends 1 MiB, closes.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      try {
        await conn.read(new Uint8Array(4096));
        const head = encoder.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${2 * MiB}\r\n\r\n`);
        for (const bytes of [head, new Uint8Array(MiB)]) {
          for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
        }
      } catch {
        // The client went first.
      } finally {
        conn.close();
      }
    }
  })();
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, `http://127.0.0.1:${listener.addr.port}/cut`);
  } finally {
    listener.close();
    await serving.catch(() => {});
    await server.shutdown();
  }
}

Deno.test("cli get -o FILE writes the body to the file, and nothing else", async () => {
  await withServers(async (base) => {
    const dir = await Deno.makeTempDir({ prefix: "torsion-get-" });
    try {
      const path = `${dir}/big.bin`;
      const { code, stdout, stderr } = await run(["get", "-o", path, `${base}/big`]);
      assert.equal(code, 0, stderr);
      assert.equal(stdout, "");
      // Standard error is a pipe here, not a terminal: no bar.
      assert.equal(stderr, "");
      const body = await Deno.readFile(path);
      assert.equal(body.length, 3 * MiB);
      for (let i = 0; i < body.length; i += 4099) assert.equal(body[i], (i * 31) & 0xff);
      // --output is the same option, and the file is replaced.
      const again = await run(["get", `--output=${path}`, `${base}/big`]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((await Deno.stat(path)).size, 3 * MiB);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("cli get -o FILE removes the partial file of a failed download, and says so", async () => {
  await withServers(async (base, cut) => {
    const dir = await Deno.makeTempDir({ prefix: "torsion-get-" });
    try {
      const path = `${dir}/cut.bin`;
      const failed = await run(["get", "-o", path, cut]);
      assert.equal(failed.code, 1);
      assert.match(
        failed.stderr,
        new RegExp(
          `^get: ${cut}: .*1048576 of the 2097152 bytes.*; the partial file ${path} was removed\n$`,
        ),
      );
      await assert.rejects(Deno.stat(path), Deno.errors.NotFound);

      // An HTTP error writes no file at all.
      const missing = await run(["get", "-o", path, `${base}/missing`]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, `get: ${base}/missing: HTTP 404 Not Found\n`);
      await assert.rejects(Deno.stat(path), Deno.errors.NotFound);

      // A file that cannot be written is reported as such.
      const nowhere = await run(["get", "-o", `${dir}/no/such/dir/f`, `${base}/big`]);
      assert.equal(nowhere.code, 1);
      assert.match(nowhere.stderr, /Cannot write .*no\/such\/dir\/f: /);

      const usage = await run(["get", `${base}/big`, "-o"]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /-o needs a value/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("cli get draws its progress bar only where the io can draw one", async () => {
  await withServers(async (base) => {
    const out: Uint8Array[] = [];
    const progress: string[] = [];
    const errors: string[] = [];
    const io: RunnerIO = {
      stdout: (data) => void out.push(typeof data === "string" ? encoder.encode(data) : data),
      stderr: (text) => void errors.push(text),
      progress: (text) => void progress.push(text),
    };
    assert.equal(await main(["get", `${base}/big`], { io, reactor: new DenoReactor() }), 0);
    assert.equal(out.reduce((n, b) => n + b.length, 0), 3 * MiB);
    assert.ok(progress.length >= 2, JSON.stringify(progress));
    assert.match(progress.at(-2)!, /^\r100% \[=+\] 3\.00 MiB \/ 3\.00 MiB/);
    assert.equal(progress.at(-1), "\n");
    assert.equal(errors.join("\n"), "");

    // Without progress (standard error not a terminal): the same body, no bar.
    const plain: RunnerIO = { stdout: () => {}, stderr: (text) => void errors.push(text) };
    // (A reactor runs once: each run gets its own.)
    assert.equal(await main(["get", `${base}/big`], { io: plain, reactor: new DenoReactor() }), 0);
    assert.equal(errors.join("\n"), "");
  });
});

Deno.test("cli get asks for a compressed body and writes it decoded", async () => {
  const page = new TextEncoder().encode("hello, decoded world\n".repeat(1000));
  let asked: string | null = null;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    asked = request.headers.get("accept-encoding");
    return new Response(new Uint8Array(gzipSync(page)), {
      headers: { "content-encoding": "gzip" },
    });
  });
  try {
    const out: Uint8Array[] = [];
    const errors: string[] = [];
    const io: RunnerIO = {
      stdout: (data) => void out.push(typeof data === "string" ? encoder.encode(data) : data),
      stderr: (text) => void errors.push(text),
    };
    const url = `http://127.0.0.1:${server.addr.port}/`;
    assert.equal(await main(["get", url], { io, reactor: new DenoReactor() }), 0);
    assert.equal(errors.join("\n"), "");
    assert.equal(asked, "gzip, deflate, br");
    const body = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
    out.reduce((at, b) => (body.set(b, at), at + b.length), 0);
    assert.deepEqual(body, page);
  } finally {
    await server.shutdown();
  }
});

Deno.test("cli get -o: Ctrl-C stops the download at once and removes the partial file", async () => {
  // A body that trickles: 64 KiB every 50 ms, announced as 64 MiB.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) =>
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            controller.enqueue(new Uint8Array(64 * 1024));
            resolve();
          }, 50);
        }),
      cancel: () => clearTimeout(timer),
    });
    return new Response(body, { headers: { "content-length": String(64 * MiB) } });
  });
  const dir = await Deno.makeTempDir({ prefix: "torsion-get-" });
  const path = `${dir}/slow.bin`;
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", CLI, "get", "-o", path, `http://127.0.0.1:${server.addr.port}/`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const stderr = new Response(child.stderr).text();
    // Wait until the download is under way.
    for (let i = 0; i < 200; i++) {
      const size = await Deno.stat(path).then((info) => info.size, () => 0);
      if (size > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const started = performance.now();
    child.kill("SIGINT");
    const { code } = await child.status;
    const seconds = (performance.now() - started) / 1000;
    assert.equal(code, 1);
    assert.ok(seconds < 3, `stopping took ${seconds.toFixed(1)} s (the grace period is 5 s)`);
    assert.match(
      await stderr,
      /get: http:\/\/127\.0\.0\.1:\d+\/: Interrupted; the partial file .* was removed/,
    );
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await server.shutdown();
  }
});
