// `cli.ts run MODULE` with each kind of default export, in subprocesses.
import assert from "node:assert/strict";
import { Client, Runner } from "../../_runner.ts";

const FIXTURES = "tests/application/fixtures";
const LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"];

Deno.test("run: a Protocol subclass is served on each --listen", async () => {
  const runner = new Runner(["run", `./${FIXTURES}/pid_protocol.ts`, ...LISTEN, ...LISTEN]);
  const text = (await runner.waitFor(/(?:pid_protocol listening on tcp \S+\n[^]*){2}/))[0];
  const ports = [...text.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(ports.length, 2);
  for (const port of ports) {
    const client = await Client.open(port);
    await client.waitFor("pid ");
    await client.send("echo me\n");
    await client.waitFor("echo me\n");
    await client.close();
  }
  const { code, stderr } = await runner.interrupt();
  assert.equal(code, 0, stderr);
});

Deno.test("run: a Factory instance is served", async () => {
  const runner = new Runner(["run", `${FIXTURES}/shout_factory.ts`, ...LISTEN]);
  const client = await Client.open(await runner.port("shout_factory"));
  await client.send("quiet please\n");
  await client.waitFor("QUIET PLEASE\n");
  await client.close();
  assert.equal((await runner.interrupt()).code, 0);
});

Deno.test("run: a ServiceMaker gets its parsed options and listen", async () => {
  const runner = new Runner([
    "run",
    `${FIXTURES}/counter_maker.ts`,
    ...LISTEN,
    "-g",
    "hi",
    "--tag",
    "a",
    "--tag=b",
    "--loud",
    "--tick",
    "0.05",
  ]);
  const client = await Client.open(await runner.port("counter"));
  await client.waitFor("\n");
  const [greeting, json] = [client.text.slice(0, 3), client.text.slice(3)];
  assert.equal(greeting, "HI ");
  assert.deepEqual(JSON.parse(json.toLowerCase()), {
    greeting: "hi",
    tag: ["a", "b"],
    loud: true,
    listen: ["tcp:0:interface=127.0.0.1"],
  });
  await client.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const { code, stderr } = await runner.interrupt();
  assert.equal(code, 0, stderr);
  assert.match(stderr, /\[info\] counter: tick 2/);
});

Deno.test("run MODULE --help prints the maker's description and options", async () => {
  const help = await new Runner(["run", `${FIXTURES}/counter_maker.ts`, "--help"]).finish();
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: cli\.ts run tests\/application\/fixtures\/counter_maker\.ts/);
  assert.match(help.stdout, /Says its settings to each client; ticks in the log/);
  assert.match(help.stdout, /-g, --greeting VALUE\s+what to say first \(default hello\)/);
  assert.match(help.stdout, /--tag TAG\s+a tag \(repeatable\)/);
  assert.match(help.stdout, /--loud\s+shout/);
  assert.match(help.stdout, /--listen ENDPOINT/);
  assert.match(help.stdout, /--workers N/);
  const protocol = await new Runner(["run", `${FIXTURES}/pid_protocol.ts`, "--help"]).finish();
  assert.equal(protocol.code, 0);
  assert.match(protocol.stdout, /Serves WhoAmI on each --listen endpoint/);
  const run = await new Runner(["run", "--help"]).finish();
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Usage: cli\.ts run MODULE/);
});

Deno.test("run: bad modules and bad options exit 2 saying why", async (t) => {
  const cases: [string[], RegExp][] = [
    [["run"], /run needs a MODULE/],
    [["run", `${FIXTURES}/missing.ts`], /Cannot load tests\/application\/fixtures\/missing\.ts/],
    [["run", `${FIXTURES}/no_default.ts`], /has no default export: export default a Protocol/],
    [["run", `${FIXTURES}/number_default.ts`], /has a default export of type number/],
    [["run", `${FIXTURES}/pid_protocol.ts`], /--listen is required/],
    [["run", `${FIXTURES}/pid_protocol.ts`, ...LISTEN, "--bogus"], /Unknown option --bogus/],
    [["run", `${FIXTURES}/counter_maker.ts`, ...LISTEN, "--loud=yes"], /--loud takes no value/],
    [["run", `${FIXTURES}/counter_maker.ts`, ...LISTEN, "--tick", "-1"], /--tick must be/],
    [["run", `${FIXTURES}/counter_maker.ts`, ...LISTEN, "-x"], /Unknown option -x/],
    [["run", `${FIXTURES}/counter_maker.ts`, "--listen", "tcp:nope"], /Bad --listen tcp:nope/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, stderr, stdout } = await new Runner(args).finish();
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.match(stderr, /Run 'cli\.ts run.* --help' for usage/);
      assert.equal(stdout, "");
    });
  }
});

Deno.test("run: a service that cannot be made or cannot start exits 1", async (t) => {
  await t.step("makeService throws", async () => {
    const { code, stderr } = await new Runner(["run", `${FIXTURES}/broken_maker.ts`]).finish();
    assert.equal(code, 1);
    assert.match(stderr, /broken_maker: cannot make the service: the database is unreachable/);
  });
  await t.step("a port in use", async () => {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const { code, stderr } = await new Runner([
        "run",
        `${FIXTURES}/counter_maker.ts`,
        "--listen",
        `tcp:${busy.addr.port}:interface=127.0.0.1`,
      ]).finish();
      assert.equal(code, 1);
      assert.match(stderr, /Error: Cannot listen on 127\.0\.0\.1:\d+: .*in use/i);
    } finally {
      busy.close();
    }
  });
});
