// `--workers N`: processes sharing a port, one signal stopping them all, a
// crashed worker restarted. Each connection to the fixture is greeted with
// the pid of the worker that accepted it.
import assert from "node:assert/strict";
import { Client, Runner } from "../../_runner.ts";
import { freePort } from "../../_helpers.ts";
import { _checkShareable, _workerArgs } from "../../../application/runner/workers.ts";
import { DenoReactor } from "../../../reactor/deno_reactor.ts";

const PROTOCOL = "tests/application/fixtures/pid_protocol.ts";

/** The pid of the worker that accepts a new connection. */
async function whoServes(port: number): Promise<number> {
  const client = await Client.open(port);
  await client.waitFor("\n");
  await client.close();
  return Number(/pid (\d+)/.exec(client.text)![1]);
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test({
  name: "workers: two processes share the port, and one SIGINT stops both",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const port = freePort();
    const listen = `tcp:${port}:interface=127.0.0.1`;
    const runner = new Runner(["run", PROTOCOL, "--listen", listen, "--workers", "2"]);
    const said = await runner.waitFor(/pid_protocol listening on tcp 127\.0\.0\.1:(\d+)\n/);
    assert.equal(Number(said[1]), port);
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) pids.add(await whoServes(port));
    assert.equal(pids.size, 2, "connections should land in both workers");
    assert.ok(!pids.has(runner.child.pid));
    const { code, stdout, stderr } = await runner.interrupt();
    assert.equal(code, 0, stderr);
    // Printed once, not once per worker.
    assert.equal(stdout.match(/listening on/g)?.length, 1);
    assert.match(stderr, /2 workers running/);
    assert.match(stderr, /stopping 2 workers/);
    assert.equal(stderr.match(/\[worker \d\] .*runner: shutting down/g)?.length, 2);
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} still runs`);
  },
});

Deno.test({
  name: "workers: a worker that dies is logged and restarted",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const port = freePort();
    const runner = new Runner([
      "run",
      PROTOCOL,
      "--listen",
      `tcp:${port}:interface=127.0.0.1`,
      "--workers",
      "2",
    ]);
    await runner.waitFor(/listening on/);
    const victim = await Client.open(port);
    await victim.waitFor("\n");
    const dead = Number(/pid (\d+)/.exec(victim.text)![1]);
    await victim.send("crash\n");
    await victim.closed;
    await eventually("the crashed worker is gone", () => !alive(dead));
    // Every connection is still served, and a new worker takes its place.
    const seen = new Set<number>();
    await eventually("a new worker serves", async () => {
      const pid = await whoServes(port);
      assert.notEqual(pid, dead);
      seen.add(pid);
      return seen.size === 2;
    });
    const { code, stderr } = await runner.interrupt();
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      new RegExp(`worker \\d \\(pid ${dead}\\) exited with code 3; restarting in`),
    );
    assert.match(stderr, /worker \d \(pid \d+\) running/);
  },
});

Deno.test({
  name: "workers: Ctrl-C under `deno task` counts once; a second one later kills the workers",
  ignore: Deno.build.os !== "linux",
  fn: async (t) => {
    // The terminal signals the whole group and `deno task` forwards the
    // signal again, a few milliseconds apart. An open echo connection keeps
    // the workers in their grace period, so a repeat taken for a second
    // Ctrl-C would kill them (exit 130) while the connection is served.
    const start = (): Runner =>
      new Runner(
        [
          "--chat",
          `tcp:${freePort()}:interface=127.0.0.1`,
          "--echo",
          `tcp:${freePort()}:interface=127.0.0.1`,
          "--workers",
          "2",
          "--grace",
          "10",
        ],
        30_000,
        true,
      );
    await t.step("one Ctrl-C: graceful, exit 0", async () => {
      const runner = start();
      const port = await runner.port("echo");
      await runner.waitFor(/Press Ctrl-C to stop/);
      const client = await Client.open(port);
      await client.send("before\n");
      await client.waitFor("before\n");
      const exit = runner.interrupt();
      // Past the repeat, the connection is still served.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.send("after\n");
      await client.waitFor("after\n");
      await client.close();
      const { code, stderr } = await exit;
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stderr, /killing the workers/);
      assert.match(stderr, /every worker has stopped/);
    });
    await t.step("a second Ctrl-C a second later: the workers are killed, exit 130", async () => {
      const runner = start();
      const port = await runner.port("echo");
      await runner.waitFor(/Press Ctrl-C to stop/);
      const client = await Client.open(port);
      await client.send("before\n");
      await client.waitFor("before\n");
      runner.signal("SIGINT");
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const { code, stderr } = await runner.interrupt();
      await client.closed;
      assert.equal(code, 130, stderr);
      assert.match(stderr, /killing the workers/);
    });
  },
});

Deno.test("workers: endpoints that cannot be shared, and bad counts, exit 2", async (t) => {
  const cases: [string[], RegExp][] = [
    [["echo", "--listen", "tcp:0", "--workers", "2"], /port 0 cannot be shared/],
    [["echo", "--listen", "unix:/tmp/w.sock", "--workers", "2"], /UNIX socket cannot be shared/],
    [["echo", "--listen", "haproxy:tcp:0", "--workers", "2"], /port 0 cannot be shared/],
    [["echo", "--listen", "haproxy:unix:/tmp/w.sock", "--workers", "2"], /UNIX socket cannot/],
    [["echo", "--workers", "0"], /--workers must be a number from 1 to 1024 or auto, not 0/],
    [["echo", "--workers", "many"], /--workers must be/],
    [["get", "http://127.0.0.1:1/", "--workers", "2"], /Unknown option --workers/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, stderr } = await new Runner(args).finish();
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
    });
  }
});

Deno.test("workers: a worker that cannot start fails the runner with its code", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { code, stderr } = await new Runner([
      "echo",
      "--listen",
      `tcp:${busy.addr.port}:interface=127.0.0.1`,
      "--workers",
      "2",
    ]).finish();
    assert.equal(code, 1, stderr);
    assert.match(stderr, /Cannot listen on 127\.0\.0\.1/);
    assert.match(stderr, /worker \d exited with code 1 before it started/);
  } finally {
    busy.close();
  }
});

Deno.test("_checkShareable refuses platforms without SO_REUSEPORT", () => {
  const reactor = new DenoReactor();
  assert.throws(
    () => _checkShareable("echo", ["tcp:8080"], reactor, "darwin"),
    /--workers needs SO_REUSEPORT, which Deno supports on Linux only, not darwin/,
  );
  _checkShareable("echo", ["tcp:8080", "tcp6:8081"], reactor, "linux");
});

Deno.test("_workerArgs drops --workers and keeps the rest", () => {
  assert.deepEqual(
    _workerArgs(["--log-level", "warn", "echo", "--workers", "4", "--listen", "tcp:1"]),
    ["--log-level", "warn", "echo", "--listen", "tcp:1"],
  );
  assert.deepEqual(_workerArgs(["echo", "--workers=auto", "--", "--workers"]), [
    "echo",
    "--",
    "--workers",
  ]);
});
