// Every example runs as a user would run it, in a subprocess, and must exit
// by itself with the output it promises.
import assert from "node:assert/strict";

const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts an example; `lines()` reads its standard output as it comes. */
function start(args: string[], timeoutMs = 30_000) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: `${EXAMPLES}..`,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  const reader = child.stdout.getReader();
  const stderr = new Response(child.stderr).text();
  let text = "";
  return {
    child,
    async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
      for (;;) {
        const match = text.match(pattern);
        if (match !== null) return match;
        const { value, done } = await reader.read();
        if (done) throw new Error(`Ended before ${pattern}:\n${text}\n${await stderr}`);
        text += new TextDecoder().decode(value);
      }
    },
    async finish(): Promise<Run> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const status = await child.status;
      clearTimeout(timer);
      return { code: status.code, stdout: text, stderr: await stderr };
    },
  };
}

function run(file: string, ...args: string[]): Promise<Run> {
  return start(["run", "--allow-all", `examples/${file}`, ...args]).finish();
}

/** An echo server example on a free port, stopping after one connection. */
async function echoServer() {
  const server = start(["run", "--allow-all", "examples/echo_server.ts", "0", "--once"]);
  const port = Number((await server.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
  return { server, port };
}

Deno.test("examples: getPage in callback and inlineCallbacks style", async () => {
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/"
        ? new Response("the page\n")
        : new Response("gone", { status: 404 }),
  );
  try {
    const url = `http://127.0.0.1:${http.addr.port}/`;
    for (const file of ["get_page_callbacks.ts", "get_page_inline.ts"]) {
      const ok = await run(file, url);
      assert.equal(ok.code, 0, `${file}: ${ok.stderr}`);
      assert.equal(ok.stdout, "the page\n\n", file);
      const missing = await run(file, `${url}missing`);
      assert.equal(missing.code, 1, file);
      assert.match(missing.stderr, /404/, file);
    }
  } finally {
    await http.shutdown();
  }
});

Deno.test("examples: the echo client talks to the echo server", async () => {
  const { server, port } = await echoServer();
  const client = await run("echo_client.ts", String(port));
  assert.equal(client.code, 0, client.stderr);
  assert.equal(client.stdout, "received: Hello, world!\nconnection closed\n");
  const done = await server.finish();
  assert.equal(done.code, 0, done.stderr);
});

Deno.test("examples: the echo client reports a refused connection", async () => {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = free.addr.port;
  free.close();
  const client = await run("echo_client.ts", String(port));
  assert.equal(client.code, 0);
  assert.match(client.stderr, /connection failed: .*refused/i);
});

Deno.test("examples: the reconnecting client retries until the server is up", async () => {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = free.addr.port;
  free.close();
  const client = start([
    "run",
    "--allow-all",
    "examples/reconnecting_client.ts",
    String(port),
    "2",
  ]);
  await client.waitFor(/connection failed .*; retrying/);
  // Now start a server on that port: a plain echo loop.
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const serving = (async () => {
    for (let i = 0; i < 2; i++) {
      const conn = await listener.accept();
      const buffer = new Uint8Array(1024);
      const n = await conn.read(buffer);
      if (n !== null) await conn.write(buffer.subarray(0, n));
      await conn.read(buffer).catch(() => null);
      conn.close();
    }
  })();
  const result = await client.finish();
  await serving;
  listener.close();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /echoed: hello number 1\n/);
  assert.match(result.stdout, /echoed: hello number 2\n/);
  assert.match(result.stdout, /done after 2 connections\n$/);
});

Deno.test("examples: deferToThread and LoopingCall", async () => {
  const thread = await run("defer_to_thread.ts", "27");
  assert.equal(thread.code, 0, thread.stderr);
  assert.match(
    thread.stdout,
    /^fibonacci\(27\) = 196418\nthe reactor ticked \d+ times meanwhile\n$/,
  );
  const loop = await run("looping_call.ts", "3", "0.05");
  assert.equal(loop.code, 0, loop.stderr);
  const calls = loop.stdout.match(
    /^call 1 at (\d+\.\d\d) s\ncall 2 at (\d+\.\d\d) s\ncall 3 at (\d+\.\d\d) s\nstopped\n$/,
  );
  assert.ok(calls, loop.stdout);
  // Each call comes on its interval (within the printed rounding), never
  // early; a busy machine may make one late, so the upper bound is loose.
  const [first, second, third] = calls.slice(1).map(Number);
  assert.equal(first, 0);
  assert.ok(second >= 0.04 && third >= 0.09 && third > second, loop.stdout);
  assert.ok(third < 1, loop.stdout);
});

Deno.test("examples: the chat server greets a user and says goodbye on SIGINT", async () => {
  const chat = start(["run", "--allow-all", "examples/chat_server.ts", "0"]);
  const port = Number((await chat.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  const buffer = new Uint8Array(4096);
  while (!text.includes("Welcome")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  chat.child.kill("SIGINT");
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  conn.close();
  const result = await chat.finish();
  assert.equal(result.code, 0, result.stderr);
  assert.match(text, /Welcome to the example chat/);
  assert.match(text, /Goodbye!\r\n$/);
  assert.match(result.stdout, /chat stopped\n$/);
});

Deno.test("examples: the downstream test passes under deno test", async () => {
  const result = await start(["test", "--allow-all", "examples/downstream_test.ts"]).finish();
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /4 passed/);
});

Deno.test("examples: the hits plugin runs under cli.ts run", async () => {
  const help = await start([
    "run",
    "--allow-all",
    "cli.ts",
    "run",
    "examples/hits_plugin.ts",
    "--help",
  ])
    .finish();
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /-g, --greeting VALUE/);
  const runner = start([
    "run",
    "--allow-all",
    "cli.ts",
    "run",
    "examples/hits_plugin.ts",
    "--listen",
    "tcp:0:interface=127.0.0.1",
    "--greeting",
    "Howdy",
    "--report",
    "0.05",
  ]);
  const port = Number((await runner.waitFor(/hits listening on tcp 127\.0\.0\.1:(\d+)/))[1]);
  for (const n of [1, 2]) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const text = await new Response(conn.readable).text();
    assert.match(text, new RegExp(`^Howdy, visitor number ${n} \\(pid \\d+\\)\r\n$`));
  }
  await new Promise((resolve) => setTimeout(resolve, 150));
  runner.child.kill("SIGINT");
  const result = await runner.finish();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /\[info\] hits: 2 hits so far/);
});

Deno.test("examples: each file's header says how to run that very file", async () => {
  for await (const entry of Deno.readDir(EXAMPLES)) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(`${EXAMPLES}${entry.name}`);
    const header = text.slice(0, text.search(/^(?!\/\/)/m));
    // A plugin runs under the runner: `deno run -A cli.ts run examples/...`.
    const commands = [...header.matchAll(/deno (?:run -A (?:cli\.ts run )?|test )([\w./-]+)/g)]
      .map((m) => m[1]);
    assert.ok(commands.length > 0, `${entry.name}: no command in its header`);
    for (const path of commands) {
      assert.equal(path, `examples/${entry.name}`, entry.name);
    }
  }
});

Deno.test("examples: the defer tour runs as its header says, and stops by itself", async () => {
  const tour = await run("defer_tour.ts");
  assert.equal(tour.code, 0, tour.stderr);
  assert.match(tour.stdout, /slow job cancelled by its 0\.4 s timeout\n/);
  assert.match(tour.stdout, /done after \d+ ticks/);
});

Deno.test("examples: the AMP client calls the AMP server", async () => {
  const server = start(["run", "--allow-all", "examples/amp_server.ts", "0", "--once"]);
  const port = Number((await server.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
  const client = await run("amp_client.ts", String(port));
  assert.equal(client.code, 0, client.stderr);
  assert.equal(
    client.stdout,
    "13 + 81 = 94\n1000 pipelined sums, the last = 1998\ndivide: DivideByZero: 1 / 0\n",
  );
  const done = await server.finish();
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /sum: 13 \+ 81\n/);
});
