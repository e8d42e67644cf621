import assert from "node:assert/strict";
import { Deferred, succeed } from "../../defer/mod.ts";
import { DenoReactor } from "../../reactor/deno_reactor.ts";
import { react } from "../../reactor/react.ts";
import { Fixture, runFixture } from "./_fixture.ts";

// Runs react() in this process on a fresh reactor, recording exit codes.
// Failing mains print a traceback, so they are tested in subprocesses below.
async function reactHere<A extends unknown[]>(
  main: (reactor: DenoReactor, ...argv: A) => unknown,
  argv?: A,
): Promise<{ codes: number[]; returned: number; reactor: DenoReactor }> {
  const reactor = new DenoReactor();
  const codes: number[] = [];
  const returned = await react(main, argv, reactor, { exit: (code) => codes.push(code) });
  return { codes, returned, reactor };
}

Deno.test("react() exits with 0 when main's Deferred succeeds", async () => {
  const { codes, returned, reactor } = await reactHere((reactor) => {
    const d = new Deferred<string>();
    reactor.callLater(0.001, () => d.callback("ok"));
    return d;
  });
  assert.deepEqual(codes, [0]);
  assert.equal(returned, 0);
  assert.equal(reactor.running, false);
});

Deno.test("react() passes the reactor and argv to main", async () => {
  let seen: unknown[] = [];
  const { codes, reactor } = await reactHere((r, a: string, b: number) => {
    seen = [r, a, b];
    return succeed(undefined);
  }, ["x", 2]);
  assert.deepEqual(codes, [0]);
  assert.deepEqual(seen, [reactor, "x", 2]);
});

Deno.test("react() accepts a promise, a generator or a plain value from main", async (t) => {
  await t.step("promise", async () => {
    const { codes } = await reactHere(async () => {
      await Promise.resolve();
      return 1;
    });
    assert.deepEqual(codes, [0]);
  });
  await t.step("generator", async () => {
    let resumed = false;
    const { codes } = await reactHere(function* () {
      yield succeed(1);
      resumed = true;
    });
    assert.deepEqual(codes, [0]);
    assert.equal(resumed, true);
  });
  await t.step("plain value", async () => {
    const { codes } = await reactHere(() => 42);
    assert.deepEqual(codes, [0]);
  });
});

Deno.test("react() stops the reactor once, even when main stops it too", async () => {
  const events: string[] = [];
  const { codes } = await reactHere((reactor) => {
    reactor.addSystemEventTrigger("before", "shutdown", () => events.push("before shutdown"));
    reactor.callWhenRunning(() => reactor.stop());
    const d = new Deferred<void>();
    reactor.addSystemEventTrigger("during", "shutdown", () => d.callback(undefined));
    return d;
  });
  assert.deepEqual(codes, [0]);
  assert.deepEqual(events, ["before shutdown"]);
});

Deno.test("react() exits with 0 when the reactor stops before main finishes", async () => {
  const { codes } = await reactHere((reactor) => {
    reactor.callWhenRunning(() => reactor.stop());
    return new Deferred<void>(); // never fires
  });
  assert.deepEqual(codes, [0]);
});

// Exit codes and printed tracebacks of real processes.

for (const mode of ["deferred", "async", "generator", "sync"]) {
  Deno.test(`react() (subprocess): main returning ${mode} exits 0 after shutdown`, async () => {
    const { code, stdout, stderr } = await runFixture("react_main.ts", [mode]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /main done\nafter shutdown\n$/);
  });
}

Deno.test("react() (subprocess): a failing main exits 1 and prints its traceback", async () => {
  const { code, stdout, stderr } = await runFixture("react_main.ts", ["fail"]);
  assert.equal(code, 1);
  assert.match(stdout, /after shutdown/);
  assert.match(stderr, /main function encountered error\nRangeError: main exploded\n\s+at /);
  assert.match(stderr, /react_main\.ts/);
});

for (const mode of ["deferred", "async"]) {
  const name = mode === "async" ? "an async main" : "a main returning a Deferred";
  Deno.test(`react() (subprocess): ${name} failed by a shutdown trigger exits 1`, async () => {
    // As Twisted 22.4's react does, an async main included: the failure
    // arrives during shutdown, and still sets the exit code and is printed.
    const { code, stderr } = await runFixture("react_main.ts", [`fail-in-shutdown-${mode}`]);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /main function encountered error\nRangeError: failed by shutdown\n/);
  });
}

Deno.test("react() (subprocess): a main that throws at once exits 1 and prints its traceback", async () => {
  const { code, stderr } = await runFixture("react_main.ts", ["throw"]);
  assert.equal(code, 1);
  assert.match(stderr, /main function encountered error\nTypeError: thrown synchronously\n\s+at /);
});

Deno.test("react() (subprocess): SIGINT before main finishes exits 130 after shutdown", async () => {
  const child = new Fixture("react_main.ts", ["wait"]);
  await child.waitFor("running\n");
  child.kill("SIGINT");
  const { code, stdout } = await child.finished();
  assert.equal(code, 130);
  assert.match(stdout, /after shutdown\n$/);
});
