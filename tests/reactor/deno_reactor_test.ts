import assert from "node:assert/strict";
import { Deferred, TimeoutError } from "../../defer/mod.ts";
import type { DelayedCall, ReactorTime } from "../../defer/time.ts";
import { DenoReactor, reactor as defaultReactor } from "../../reactor/deno_reactor.ts";
import {
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from "../../reactor/errors.ts";
import { ThreadPool } from "../../reactor/thread_pool.ts";
import { runFixture } from "./_fixture.ts";
import { Fixture } from "./_fixture.ts";

// Runs a fresh reactor without signal handlers; `setup` arranges its stop.
async function runReactor(reactor: DenoReactor): Promise<void> {
  await reactor.run({ installSignalHandlers: false });
}

Deno.test("DenoReactor.stop() raises ReactorNotRunning when not running", () => {
  const reactor = new DenoReactor();
  assert.throws(() => reactor.stop(), ReactorNotRunning);
  assert.throws(() => reactor.stop(), /Can't stop a reactor that isn't running/);
});

Deno.test("DenoReactor.stop() raises ReactorNotRunning after the reactor has stopped", async () => {
  const reactor = new DenoReactor();
  reactor.callWhenRunning(() => reactor.stop());
  await runReactor(reactor);
  assert.throws(() => reactor.stop(), ReactorNotRunning);
});

Deno.test("DenoReactor.stop() raises ReactorNotRunning while a stop is under way", async () => {
  const reactor = new DenoReactor();
  let second: unknown;
  reactor.callWhenRunning(() => {
    reactor.stop();
    try {
      reactor.stop();
    } catch (e) {
      second = e;
    }
  });
  await runReactor(reactor);
  assert.ok(second instanceof ReactorNotRunning);
});

Deno.test("DenoReactor.callWhenRunning() calls functions in order once running", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  const push = (e: string) => events.push(e);
  const id = reactor.callWhenRunning(push, "first");
  assert.equal(id?.event, "startup");
  assert.equal(id?.phase, "after");
  reactor.callWhenRunning(push, "second");
  reactor.callWhenRunning(() => reactor.stop());
  assert.deepEqual(events, []);
  await runReactor(reactor);
  assert.deepEqual(events, ["first", "second"]);
});

Deno.test("DenoReactor.callWhenRunning() calls at once and returns undefined when running", async () => {
  const reactor = new DenoReactor();
  let inner: unknown = "not called";
  reactor.callWhenRunning(() => {
    const events: string[] = [];
    inner = reactor.callWhenRunning((e: string) => events.push(e), "now");
    assert.deepEqual(events, ["now"]);
    reactor.stop();
  });
  await runReactor(reactor);
  assert.equal(inner, undefined);
});

Deno.test("DenoReactor.callWhenRunning() returns an id that removes the call", async () => {
  const reactor = new DenoReactor();
  let called = false;
  const id = reactor.callWhenRunning(() => (called = true));
  reactor.removeSystemEventTrigger(id!);
  reactor.callWhenRunning(() => reactor.stop());
  await runReactor(reactor);
  assert.equal(called, false);
});

Deno.test("DenoReactor.running follows the startup phases (runningForStartupEvents)", async () => {
  const reactor = new DenoReactor();
  const state: Record<string, boolean> = {};
  reactor.addSystemEventTrigger("before", "startup", () => (state.before = reactor.running));
  reactor.addSystemEventTrigger("during", "startup", () => (state.during = reactor.running));
  reactor.addSystemEventTrigger("after", "startup", () => (state.after = reactor.running));
  reactor.callWhenRunning(() => reactor.stop());
  assert.deepEqual(state, {});
  assert.equal(reactor.running, false);
  await runReactor(reactor);
  assert.deepEqual(state, { before: false, during: true, after: true });
});

Deno.test("DenoReactor.running is false from during shutdown on", async () => {
  const reactor = new DenoReactor();
  const state: Record<string, boolean> = {};
  reactor.addSystemEventTrigger("before", "shutdown", () => (state.before = reactor.running));
  reactor.addSystemEventTrigger("during", "shutdown", () => (state.during = reactor.running));
  reactor.addSystemEventTrigger("after", "shutdown", () => (state.after = reactor.running));
  reactor.callWhenRunning(() => reactor.stop());
  await runReactor(reactor);
  assert.deepEqual(state, { before: true, during: false, after: false });
  assert.equal(reactor.running, false);
});

Deno.test("DenoReactor.run() fires startup triggers synchronously and returns a Deferred", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.callWhenRunning(() => events.push("running"));
  const d = reactor.run({ installSignalHandlers: false });
  assert.ok(d instanceof Deferred);
  assert.deepEqual(events, ["running"]);
  assert.equal(reactor.running, true);
  assert.equal(d.called, false);
  reactor.stop();
  await d;
});

Deno.test("DenoReactor.run() fires after every shutdown phase (stopShutDownEvents)", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.addSystemEventTrigger("before", "shutdown", () => events.push("before"));
  reactor.addSystemEventTrigger("during", "shutdown", () => events.push("during"));
  reactor.addSystemEventTrigger("after", "shutdown", () => events.push("after"));
  reactor.callWhenRunning(() => reactor.stop());
  await runReactor(reactor);
  events.push("run fired");
  assert.deepEqual(events, ["before", "during", "after", "run fired"]);
});

Deno.test("DenoReactor.run() waits for Deferreds returned by shutdown triggers", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.addSystemEventTrigger("before", "shutdown", () => {
    const d = new Deferred<void>();
    setTimeout(() => {
      events.push("before Deferred fired");
      d.callback(undefined);
    }, 10);
    return d;
  });
  reactor.addSystemEventTrigger("during", "shutdown", () => events.push("during"));
  reactor.addSystemEventTrigger("after", "shutdown", async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    events.push("after promise settled");
  });
  reactor.callWhenRunning(() => reactor.stop());
  await runReactor(reactor);
  assert.deepEqual(events, ["before Deferred fired", "during", "after promise settled"]);
});

Deno.test("DenoReactor.stop() fires shutdown triggers asynchronously (shutdownFiresTriggersAsynchronously)", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.addSystemEventTrigger("before", "shutdown", () => events.push("before shutdown"));
  reactor.callWhenRunning(() => {
    reactor.stop();
    events.push("stopped");
  });
  await runReactor(reactor);
  assert.deepEqual(events, ["stopped", "before shutdown"]);
});

Deno.test("DenoReactor.run() raises ReactorAlreadyRunning while running (multipleRun)", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.callWhenRunning(() => {
    assert.throws(() => reactor.run(), ReactorAlreadyRunning);
    events.push("tested");
  });
  reactor.callWhenRunning(() => reactor.stop());
  await runReactor(reactor);
  assert.deepEqual(events, ["tested"]);
});

Deno.test("DenoReactor.run() raises ReactorNotRestartable after a stop (runAfterStop)", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.callWhenRunning(() => reactor.stop());
  reactor.addSystemEventTrigger("after", "shutdown", () => {
    assert.throws(() => reactor.run(), ReactorNotRestartable);
    events.push("tested");
  });
  await runReactor(reactor);
  assert.deepEqual(events, ["tested"]);
  assert.throws(() => reactor.run(), ReactorNotRestartable);
});

Deno.test("DenoReactor.run() waits for an asynchronous before startup trigger", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.addSystemEventTrigger("before", "startup", () => {
    events.push("trigger");
    const d = new Deferred<void>();
    setTimeout(() => d.callback(undefined), 5);
    return d.addCallback(() => {
      events.push(`callback running=${reactor.running}`);
    });
  });
  reactor.callWhenRunning(() => {
    events.push(`when running running=${reactor.running}`);
    reactor.stop();
  });
  const d = reactor.run({ installSignalHandlers: false });
  assert.equal(reactor.running, false);
  await d;
  assert.deepEqual(events, ["trigger", "callback running=false", "when running running=true"]);
});

Deno.test("DenoReactor.fireSystemEvent() fires custom events", () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.addSystemEventTrigger("before", "reload", () => events.push("before"));
  reactor.addSystemEventTrigger("after", "reload", () => events.push("after"));
  let fired = false;
  reactor.fireSystemEvent("reload").addCallback(() => (fired = true));
  assert.deepEqual(events, ["before", "after"]);
  assert.equal(fired, true);
});

Deno.test("DenoReactor.addSystemEventTrigger() rejects an unknown phase", () => {
  const reactor = new DenoReactor();
  assert.throws(
    // @ts-expect-error: testing a bad phase
    () => reactor.addSystemEventTrigger("later", "shutdown", () => {}),
    (e: unknown) => e instanceof TypeError && /"later"/.test(e.message),
  );
});

Deno.test("DenoReactor.removeSystemEventTrigger() rejects an unknown id", () => {
  const reactor = new DenoReactor();
  const id = new DenoReactor().addSystemEventTrigger("before", "shutdown", () => {});
  assert.throws(() => reactor.removeSystemEventTrigger(id), /is not registered/);
});

Deno.test("DenoReactor.disconnectAll() runs every hook during shutdown and waits for them", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.addDisconnectHook(() => events.push("first"));
  const remove = reactor.addDisconnectHook(() => events.push("removed"));
  reactor.addDisconnectHook(() => {
    const d = new Deferred<void>();
    setTimeout(() => {
      events.push("slow hook done");
      d.callback(undefined);
    }, 10);
    return d;
  });
  remove();
  reactor.addSystemEventTrigger("after", "shutdown", () => events.push("after shutdown"));
  reactor.callWhenRunning(() => reactor.stop());
  await runReactor(reactor);
  assert.deepEqual(events, ["first", "after shutdown", "slow hook done"]);
  // The hooks ran once and are gone.
  let again = false;
  reactor.disconnectAll().addCallback(() => (again = true));
  assert.equal(again, true);
  assert.deepEqual(events, ["first", "after shutdown", "slow hook done"]);
});

Deno.test("DenoReactor.callFromThread() runs soon, in order, not synchronously", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  reactor.callFromThread((e: string) => events.push(e), "first");
  reactor.callFromThread((e: string) => events.push(e), "second");
  assert.deepEqual(events, []);
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(events, ["first", "second"]);
});

class FakeTime implements ReactorTime {
  now = 100;
  calls: Array<{ delay: number; args: unknown[] }> = [];
  seconds(): number {
    return this.now;
  }
  // deno-lint-ignore no-explicit-any
  callLater<A extends any[]>(delay: number, _fn: (...args: A) => unknown, ...args: A): DelayedCall {
    this.calls.push({ delay, args });
    const now = this.now;
    return {
      func: _fn,
      args,
      getTime: () => now + delay,
      cancel: () => {},
      reset: () => {},
      delay: () => {},
      active: () => true,
    };
  }
  getDelayedCalls(): DelayedCall[] {
    return [];
  }
}

Deno.test("DenoReactor time methods delegate to its time source", () => {
  const time = new FakeTime();
  const reactor = new DenoReactor({ time });
  assert.equal(reactor.seconds(), 100);
  const call = reactor.callLater(5, (a: number, b: string) => `${a}${b}`, 1, "x");
  assert.equal(call.getTime(), 105); // callLaterUsesReactorSecondsInDelayedCall
  assert.deepEqual(time.calls, [{ delay: 5, args: [1, "x"] }]);
  assert.deepEqual(reactor.getDelayedCalls(), []);
});

Deno.test("DenoReactor time defaults to the process-wide real time", async () => {
  const reactor = new DenoReactor();
  const before = Date.now() / 1000;
  const now = reactor.seconds();
  assert.ok(Math.abs(now - before) < 5, `seconds() ${now} is not near ${before}`);
  const fired = new Deferred<string>();
  const call = reactor.callLater(0.001, (s: string) => fired.callback(s), "fired");
  assert.ok(reactor.getDelayedCalls().includes(call));
  assert.equal(await fired, "fired");
  assert.ok(!call.active());
});

Deno.test("DenoReactor.callInThread() and suggestThreadPoolSize() use its pool, stopped at shutdown", async () => {
  const pool = new ThreadPool(4);
  const reactor = new DenoReactor({ threadPool: pool });
  assert.equal(reactor.getThreadPool(), pool);
  reactor.suggestThreadPoolSize(2);
  assert.equal(pool.maxWorkers, 2);
  assert.throws(() => reactor.suggestThreadPoolSize(0), RangeError);
  const path = await Deno.makeTempFile();
  try {
    reactor.callWhenRunning(() => {
      reactor.callInThread((p: string) => Deno.writeTextFileSync(p, "from a worker"), path);
      reactor.stop();
    });
    await runReactor(reactor);
    assert.equal(pool.workers, 0);
    assert.equal(await Deno.readTextFile(path), "from a worker");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("DenoReactor: the default reactor is a DenoReactor that is not running", () => {
  assert.ok(defaultReactor instanceof DenoReactor);
  assert.equal(defaultReactor.running, false);
});

// The process-wide reactor runs once per process, and signals reach a whole
// process: these run in a child process.

Deno.test("DenoReactor (subprocess): SIGINT stops the reactor after its shutdown triggers, exit 0", async () => {
  const child = new Fixture("signal_shutdown.ts", ["graceful"]);
  await child.waitFor("running\n");
  child.kill("SIGINT");
  const { code, stdout } = await child.finished();
  assert.equal(code, 0);
  assert.deepEqual(stdout.trim().split("\n"), [
    "running",
    "before shutdown",
    "before shutdown done",
    "during shutdown running=false",
    "after shutdown",
    "run fired exitSignal=SIGINT",
  ]);
});

Deno.test("DenoReactor (subprocess): SIGTERM stops the reactor gracefully too", async () => {
  const child = new Fixture("signal_shutdown.ts", ["graceful"]);
  await child.waitFor("running\n");
  child.kill("SIGTERM");
  const { code, stdout } = await child.finished();
  assert.equal(code, 0);
  assert.match(stdout, /after shutdown\nrun fired exitSignal=SIGTERM\n$/);
});

Deno.test("DenoReactor (subprocess): a SIGINT repeated at once is the same Ctrl-C, not a second", async () => {
  // What a terminal does to a program under `deno task`: the signal comes
  // from the terminal and again from the parent, forwarding it.
  const child = new Fixture("signal_shutdown.ts", ["graceful"]);
  await child.waitFor("running\n");
  child.kill("SIGINT");
  child.kill("SIGINT");
  child.kill("SIGINT");
  await child.waitFor("before shutdown\n");
  child.kill("SIGINT");
  const { code, stdout } = await child.finished();
  assert.equal(code, 0);
  assert.match(stdout, /before shutdown done\n.*after shutdown\nrun fired exitSignal=SIGINT\n$/s);
});

Deno.test("DenoReactor (subprocess): a SIGTERM right after SIGINT is a repeat too", async () => {
  const child = new Fixture("signal_shutdown.ts", ["graceful"]);
  await child.waitFor("running\n");
  child.kill("SIGINT");
  child.kill("SIGTERM");
  const { code, stdout } = await child.finished();
  assert.equal(code, 0);
  assert.match(stdout, /run fired exitSignal=SIGINT\n$/);
});

// The window within which a signal is a repeat of the first, plus a margin.
const AFTER_WINDOW_MS = 1200;

Deno.test("DenoReactor (subprocess): a second SIGINT after a second exits at once with 130", async () => {
  const child = new Fixture("signal_shutdown.ts", ["hang"]);
  await child.waitFor("running\n");
  child.kill("SIGINT");
  await child.waitFor("before shutdown\n");
  child.kill("SIGINT"); // a repeat: ignored
  await new Promise((resolve) => setTimeout(resolve, AFTER_WINDOW_MS));
  assert.doesNotMatch(child.stdout, /during shutdown|run fired/);
  child.kill("SIGINT");
  const { code, stdout } = await child.finished();
  assert.equal(code, 130);
  assert.doesNotMatch(stdout, /during shutdown|run fired/);
});

Deno.test("DenoReactor (subprocess): a second SIGTERM after a second exits at once with 143", async () => {
  const child = new Fixture("signal_shutdown.ts", ["hang"]);
  await child.waitFor("running\n");
  child.kill("SIGTERM");
  await child.waitFor("before shutdown\n");
  await new Promise((resolve) => setTimeout(resolve, AFTER_WINDOW_MS));
  child.kill("SIGTERM");
  const { code } = await child.finished();
  assert.equal(code, 143);
});

Deno.test("DenoReactor (subprocess): the whole lifecycle of the process-wide reactor", async () => {
  const { code, stdout, stderr } = await runFixture("lifecycle.ts");
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), [
    "stop before run: ReactorNotRunning",
    "before startup running=false",
    "during startup running=true",
    "after startup running=true",
    "run while running: ReactorAlreadyRunning",
    "stopped",
    "second stop: ReactorNotRunning",
    "run returned running=true",
    "before shutdown",
    "before shutdown Deferred fired",
    "during shutdown running=false",
    "after shutdown",
    "run in after shutdown: ReactorNotRestartable",
    "disconnect hook done",
    "run fired",
    "run after stop: ReactorNotRestartable",
  ]);
  // The failing disconnect hook was logged and did not stop the others.
  assert.match(
    stderr,
    /\[error\] reactor: Unhandled error in a disconnect hook\n {4}Error: simulated disconnect failure/,
  );
});

Deno.test("Deferred.addTimeout() on the real reactor fails with TimeoutError", async () => {
  const slow = new Deferred<string>();
  const started = defaultReactor.seconds();
  slow.addTimeout(0.02, defaultReactor);
  await assert.rejects(async () => await slow, TimeoutError);
  assert.ok(defaultReactor.seconds() - started >= 0.015, "timed out too early");
  assert.equal(defaultReactor.getDelayedCalls().length, 0);
});

Deno.test("Deferred.addTimeout() on the real reactor cancels its timer when the result comes first", async () => {
  const quick = new Deferred<string>().addTimeout(5, defaultReactor);
  assert.equal(defaultReactor.getDelayedCalls().length, 1);
  defaultReactor.callLater(0.001, () => quick.callback("in time"));
  assert.equal(await quick, "in time");
  assert.equal(defaultReactor.getDelayedCalls().length, 0);
});

Deno.test("DenoReactor.callLater(0, d.callback, value) fires the Deferred, as in Twisted", async () => {
  const reactor = new DenoReactor();
  const d = new Deferred<string>();
  let seen: unknown;
  d.addCallback((value) => {
    seen = value;
    reactor.stop();
  });
  reactor.callLater(0, d.callback, "fired");
  await runReactor(reactor);
  assert.equal(seen, "fired");
});
