// The runner, run as users run it: `deno run -A cli.ts ...` (or `deno task
// start`, in a process group of its own) in a subprocess, talked to over
// sockets, stopped with SIGINT.
import assert from "node:assert/strict";
import { main, type RunnerIO } from "../cli.ts";
import config from "../deno.json" with { type: "json" };
import { Client, Runner } from "./_runner.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"];

Deno.test("cli echo: on SIGINT, stops listening, lets a connection finish, exits 0", async () => {
  const runner = new Runner(["echo", ...LISTEN]);
  const port = await runner.port("echo");
  const client = await Client.open(port);
  await client.send("ping\r\n");
  await client.waitFor("ping\r\n");
  runner.child.kill("SIGINT");
  // The port closes at once; the open connection is still served.
  for (let refused = false; !refused;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      await new Promise((resolve) => setTimeout(resolve, 20));
    } catch {
      refused = true;
    }
  }
  await client.send("still there?\r\n");
  await client.waitFor("still there?\r\n");
  await client.close();
  const { code, stderr } = await runner.finish();
  assert.equal(code, 0, stderr);
  assert.match(stderr, /\[info\] runner: shutting down/);
  assert.match(stderr, /waiting up to 5 s for 1 connection to finish/);
});

Deno.test("cli echo --grace: connections still open after the grace period are closed", async () => {
  const runner = new Runner(["echo", ...LISTEN, "--grace", "0.2"]);
  const client = await Client.open(await runner.port("echo"));
  await client.send("hi\n");
  await client.waitFor("hi\n");
  const { code, stderr } = await runner.interrupt();
  await client.closed;
  assert.equal(code, 0, stderr);
  assert.match(stderr, /waiting up to 0\.2 s for 1 connection/);
});

Deno.test("cli chat: a user gets a goodbye on SIGINT", async () => {
  const runner = new Runner(["chat", ...LISTEN, "--name", "the test room"]);
  const port = await runner.port("chat");
  const alice = await Client.open(port);
  const bob = await Client.open(port);
  await alice.waitFor("Welcome to the test room");
  await bob.waitFor("Welcome");
  await alice.send("/nick alice\r\nhello\r\n");
  await bob.waitFor("<alice> hello");
  const { code, stderr } = await runner.interrupt();
  await Promise.all([alice.closed, bob.closed]);
  assert.equal(code, 0, stderr);
  assert.match(alice.text, /The server is shutting down\. Goodbye!\r\n$/);
  assert.match(bob.text, /The server is shutting down\. Goodbye!\r\n$/);
  assert.match(stderr, /\[info\] chat: alice left|said goodbye to 2 users/);
});

Deno.test("cli discard, chargen, daytime and qotd serve on their endpoints", async (t) => {
  await t.step("discard reads and drops", async () => {
    const runner = new Runner(["discard", ...LISTEN, "--grace", "0"]);
    const client = await Client.open(await runner.port("discard"));
    await client.send("x".repeat(100_000));
    const { code } = await runner.interrupt();
    await client.closed;
    assert.equal(code, 0);
    assert.equal(client.text, "");
  });
  await t.step("chargen sends lines of characters", async () => {
    const runner = new Runner(["chargen", ...LISTEN]);
    const client = await Client.open(await runner.port("chargen"));
    await client.waitFor("\r\n");
    assert.match(client.text, /^[ -~]{72}\r\n/);
    await client.close();
    assert.equal((await runner.interrupt()).code, 0);
  });
  await t.step("daytime sends the time and closes", async () => {
    const runner = new Runner(["daytime", ...LISTEN]);
    const client = await Client.open(await runner.port("daytime"));
    await client.closed;
    assert.match(client.text, /\d\d:\d\d:\d\d/);
    assert.equal((await runner.interrupt()).code, 0);
  });
  await t.step("qotd sends the quote given", async () => {
    const runner = new Runner(["qotd", ...LISTEN, "--quote", "Hello from the test"]);
    const client = await Client.open(await runner.port("qotd"));
    await client.closed;
    assert.equal(client.text, "Hello from the test\r\n");
    assert.equal((await runner.interrupt()).code, 0);
  });
});

Deno.test("cli listens on every --listen given", async () => {
  const runner = new Runner(["echo", ...LISTEN, ...LISTEN]);
  const text = (await runner.waitFor(/(?:echo listening on tcp \S+\n[^]*){2}/))[0];
  const ports = [...text.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(ports.length, 2);
  assert.notEqual(ports[0], ports[1]);
  for (const port of ports) {
    const client = await Client.open(port);
    await client.send("hi\n");
    await client.waitFor("hi\n");
    await client.close();
  }
  assert.equal((await runner.interrupt()).code, 0);
});

Deno.test("cli echo on a UNIX socket", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/echo.sock`;
    const runner = new Runner(["echo", "--listen", `unix:${path}:mode=600`]);
    await runner.waitFor(new RegExp(`echo listening on unix ${path}\n`));
    const conn = await Deno.connect({ transport: "unix", path });
    await conn.write(encoder.encode("over unix\n"));
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    assert.equal(decoder.decode(buffer.subarray(0, n ?? 0)), "over unix\n");
    conn.close();
    assert.equal((await runner.interrupt()).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli portforward: forwards to --dest both ways", async () => {
  const echo = new Runner(["echo", ...LISTEN]);
  const echoPort = await echo.port("echo");
  const proxy = new Runner(["portforward", ...LISTEN, "--dest", `tcp:127.0.0.1:${echoPort}`]);
  const client = await Client.open(await proxy.port("portforward"));
  await client.send("through the proxy\n");
  await client.waitFor("through the proxy\n");
  await client.close();
  assert.equal((await proxy.interrupt()).code, 0);
  assert.equal((await echo.interrupt()).code, 0);
});

Deno.test("cli start: chat and echo, and how to connect", async () => {
  const runner = new Runner([
    "start",
    "--chat",
    "tcp:0:interface=127.0.0.1",
    "--echo",
    "tcp:0:interface=127.0.0.1",
  ]);
  const chat = await runner.port("chat");
  const echo = await runner.port("echo");
  await runner.waitFor(/Press Ctrl-C to stop/);
  const said = await runner.waitFor(/chat: nc localhost (\d+)/);
  assert.equal(Number(said[1]), chat);
  const user = await Client.open(chat);
  await user.waitFor("Welcome");
  const client = await Client.open(echo);
  await client.send("echo?\n");
  await client.waitFor("echo?\n");
  await client.close();
  const { code } = await runner.interrupt();
  await user.closed;
  assert.equal(code, 0);
  assert.match(user.text, /Goodbye!\r\n$/);
});

Deno.test("cli start under `deno task`: Ctrl-C to the process group says goodbye, exit 0", async () => {
  // The terminal signals the whole group and `deno task` forwards the
  // signal again: the runner must take both as one Ctrl-C. The two arrive in
  // either order and close together, so try a few times.
  for (let round = 1; round <= 5; round++) {
    const runner = new Runner(
      ["--chat", "tcp:0:interface=127.0.0.1", "--echo", "tcp:0:interface=127.0.0.1"],
      30_000,
      true,
    );
    const port = await runner.port("chat");
    await runner.waitFor(/Press Ctrl-C to stop/);
    const alice = await Client.open(port);
    const bob = await Client.open(port);
    await bob.waitFor("Welcome");
    // Lines end in a bare LF, as `nc` sends them on Linux.
    await alice.send("/nick alice\nhello from nc\n");
    await bob.waitFor("<alice> hello from nc\r\n");
    const { code, stderr } = await runner.interrupt();
    await Promise.all([alice.closed, bob.closed]);
    assert.equal(code, 0, `round ${round}: ${stderr}`);
    for (const user of [alice, bob]) {
      assert.match(user.text, /The server is shutting down\. Goodbye!\r\n$/, `round ${round}`);
    }
    assert.match(stderr, /said goodbye to 2 users[^]*runner: stopped/);
  }
});

Deno.test("cli get: prints the page, and fails with 1 for an HTTP error", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/page"
        ? new Response("the page body\n")
        : new Response("nope", { status: 404 }),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const ok = await new Runner(["get", `${base}/page`]).finish();
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "the page body\n");
    const missing = await new Runner(["get", `${base}/missing`]).finish();
    assert.equal(missing.code, 1);
    // Said once: not "404 HTTP 404 Not Found".
    assert.equal(missing.stderr, `get: ${base}/missing: HTTP 404 Not Found\n`);
    assert.equal(missing.stdout, "");
  } finally {
    await server.shutdown();
  }
});

Deno.test("cli --help, for the runner and for each plugin", async () => {
  const all = await new Runner(["--help"]).finish();
  assert.equal(all.code, 0);
  for (
    const name of ["echo", "discard", "chargen", "daytime", "qotd", "chat", "portforward", "get"]
  ) {
    assert.match(all.stdout, new RegExp(`^  ${name}\\s`, "m"));
  }
  const chat = await new Runner(["chat", "--help"]).finish();
  assert.equal(chat.code, 0);
  assert.match(chat.stdout, /Usage: cli\.ts chat/);
  assert.match(chat.stdout, /--listen ENDPOINT/);
});

/** Runs `main(args)` in this process, collecting what it prints. */
async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: RunnerIO = {
    stdout: (text) => (stdout += typeof text === "string" ? text : decoder.decode(text)),
    stderr: (text) => (stderr += `${text}\n`),
  };
  const code = await main(args, { io });
  return { code, stdout, stderr };
}

const PLUGIN_NAMES = [
  "echo",
  "discard",
  "chargen",
  "daytime",
  "qotd",
  "chat",
  "portforward",
  "get",
  "start",
];

Deno.test("cli: -h, --help and --version, for the runner and every plugin", async (t) => {
  const version = `torsion ${config.version}\n`;
  await t.step("the runner", async () => {
    for (const flag of ["-h", "--help"]) {
      const { code, stdout, stderr } = await runMain([flag]);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^Usage: cli\.ts /);
      assert.match(stdout, /-h, --help +this text\n {2}--version /);
    }
    assert.deepEqual(await runMain(["--version"]), { code: 0, stdout: version, stderr: "" });
    // After the runner's own option too.
    assert.equal((await runMain(["--log-level", "warn", "--version"])).stdout, version);
  });
  for (const name of PLUGIN_NAMES) {
    await t.step(name, async () => {
      for (const flag of ["-h", "--help"]) {
        const { code, stdout, stderr } = await runMain([name, flag]);
        assert.equal(code, 0, stderr);
        assert.match(stdout, new RegExp(`^Usage: cli\\.ts ${name} `));
      }
      assert.deepEqual(await runMain([name, "--version"]), {
        code: 0,
        stdout: version,
        stderr: "",
      });
    });
  }
  await t.step("as a subprocess, which prints and exits 0", async () => {
    const { code, stdout } = await new Runner(["--version"]).finish();
    assert.equal(code, 0);
    assert.equal(stdout, version);
  });
});

Deno.test("cli: bad input exits 2 with the reason and a hint", async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /No plugin given/],
    [["nosuch"], /Unknown plugin nosuch/],
    [["echo", "--bogus"], /Unknown option --bogus/],
    [["echo", "--listen"], /--listen needs a value/],
    [["echo", "--listen", "carrier-pigeon:1"], /Bad --listen carrier-pigeon:1/],
    [["echo", "--listen", "tcp:99999"], /Bad --listen tcp:99999/],
    [["echo", "stray"], /Unexpected argument stray/],
    [["portforward", ...LISTEN], /--dest is required/],
    [["portforward", ...LISTEN, "--dest", "tcp:nohost"], /Bad --dest|--dest must be/],
    [["get"], /A URL is required/],
    [["get", "not a url"], /Not a URL/],
    [["get", "http://x/", "--timeout", "soon"], /--timeout must be a number/],
    [["get", "ftp://example.com/file"], /Unsupported scheme ftp: in ftp:\/\/example\.com\/file/],
    [["get", "file:///etc/passwd"], /Unsupported scheme file:/],
    [["get", "-x", "http://x/"], /Unknown option -x/],
    [["echo", "-p", "8007"], /Unknown option -p/],
    [["--help=yes"], /Unknown option --help=yes/],
    [["echo", "--version=1"], /--version takes no value/],
    [["--log-level", "loud", "echo"], /Unknown log level loud/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" ") || "(nothing)", async () => {
      const { code, stderr, stdout } = await new Runner(args).finish();
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.match(stderr, /--help' for usage/);
      assert.equal(stdout, "");
    });
  }
});

Deno.test("cli: a port in use exits 1 with the reason", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { code, stderr } = await new Runner([
      "echo",
      "--listen",
      `tcp:${listener.addr.port}:interface=127.0.0.1`,
    ]).finish();
    assert.equal(code, 1);
    assert.match(stderr, /Cannot listen|address in use|in use/i);
  } finally {
    listener.close();
  }
});

Deno.test("cli: every runner command in the README is accepted as written", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const commands = [...readme.matchAll(/cli\.ts ([a-z]+(?: [^\s#`|]+)*)/g)].map((m) => m[1]);
  assert.ok(commands.length >= 10, `only ${commands.length} commands found`);
  // `run ./greeter.ts` and the like name a module of the reader's: stand in
  // the README's own greeter.ts, written next to the README so that its
  // `@torsion/torsion` import resolves. `run MODULE` is a placeholder.
  const greeter = readme.match(/```ts\n(\/\/ greeter\.ts:[^]*?)```/)?.[1];
  assert.ok(greeter !== undefined, "the README's greeter.ts is missing");
  const stand = await Deno.makeTempFile({ dir: ROOT, prefix: ".readme_greeter_", suffix: ".ts" });
  try {
    await Deno.writeTextFile(stand, greeter);
    for (const command of commands) {
      const args = command.split(" ");
      if (args[0] === "run") {
        if (args[1] === "MODULE") continue;
        if (!(await exists(`${ROOT}${args[1]}`))) args[1] = stand;
      }
      // --help after the rest: every option is parsed and checked, nothing runs.
      const { code, stderr } = await runMain([...args, "--help"]);
      assert.equal(code, 0, `cli.ts ${command}: ${stderr}`);
    }
  } finally {
    await Deno.remove(stand);
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
