import assert from "node:assert/strict";
import type { DelayedCall } from "../../defer/mod.ts";
import { RealTime, realTime, setKeepAlive, wallSeconds } from "../../reactor/_real_time.ts";

// Resolves once `rt` has run a call `seconds` from now.
function sleep(rt: RealTime, seconds: number): Promise<void> {
  return new Promise((resolve) => rt.callLater(seconds, resolve));
}

// Runs `code` in a child Deno with `realTime` and `setKeepAlive` in scope.
async function child(code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const url = new URL("../../reactor/_real_time.ts", import.meta.url).href;
  const script = `import { realTime, setKeepAlive } from ${JSON.stringify(url)};\n${code}`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("wallSeconds() reads like Date.now() in seconds and never goes back", () => {
  const a = wallSeconds();
  const b = wallSeconds();
  assert.ok(Math.abs(a - Date.now() / 1000) < 1, `${a} vs ${Date.now() / 1000}`);
  assert.ok(b >= a);
  assert.equal(realTime.seconds() >= b, true);
});

Deno.test("RealTime.callLater() runs the call after the delay, with its arguments", async () => {
  const rt = new RealTime();
  const start = rt.seconds();
  const seen = await new Promise<[string, number]>((resolve) => {
    rt.callLater(0.005, (s: string, n: number) => resolve([s, n]), "x", 2);
  });
  const elapsed = rt.seconds() - start;
  assert.deepEqual(seen, ["x", 2]);
  assert.ok(elapsed >= 0.004, `ran after ${elapsed} s`);
  assert.equal(rt.timerArmed, false);
  assert.deepEqual(rt.getDelayedCalls(), []);
});

Deno.test("RealTime.callLater() is due at seconds() plus the delay", () => {
  let now = 100;
  const rt = new RealTime({ seconds: () => now });
  const call = rt.callLater(5, () => {});
  assert.equal(call.getTime(), 105);
  now = 101;
  call.cancel();
  assert.equal(rt.timerArmed, false);
});

Deno.test("RealTime runs calls in time order, equal times in scheduling order", async () => {
  // Time stands still while the calls are scheduled, so that two are due at
  // the same time.
  let frozen: number | undefined = wallSeconds();
  const rt = new RealTime({ seconds: () => frozen ?? wallSeconds() });
  const seen: string[] = [];
  const push = (s: string) => seen.push(s);
  rt.callLater(0.004, push, "d");
  rt.callLater(0.001, push, "a");
  rt.callLater(0.002, push, "c");
  rt.callLater(0.001, push, "b");
  frozen = undefined;
  await sleep(rt, 0.006);
  assert.deepEqual(seen, ["a", "b", "c", "d"]);
  assert.equal(rt.timerArmed, false);
});

Deno.test("RealTime re-arms for a call scheduled ahead of the others", async () => {
  const rt = new RealTime();
  const seen: string[] = [];
  const long = rt.callLater(60, () => seen.push("long"));
  assert.equal(rt.timerArmed, true);
  const start = performance.now();
  await new Promise<void>((resolve) => rt.callLater(0.002, resolve));
  assert.ok(performance.now() - start < 1000);
  assert.equal(rt.timerArmed, true);
  long.cancel();
  assert.equal(rt.timerArmed, false);
  assert.deepEqual(seen, []);
});

Deno.test("RealTime cancelling the only call leaves no timer", () => {
  const rt = new RealTime();
  const a = rt.callLater(0.001, () => {});
  const b = rt.callLater(10, () => {});
  assert.equal(rt.timerArmed, true);
  b.cancel();
  assert.equal(rt.timerArmed, true);
  a.cancel();
  assert.equal(rt.timerArmed, false);
});

Deno.test("RealTime runs a call reset to later at its new time", async () => {
  const rt = new RealTime();
  const start = rt.seconds();
  let ranAt = 0;
  const done = new Promise<void>((resolve) => {
    const call = rt.callLater(0.001, () => {
      ranAt = rt.seconds();
      resolve();
    });
    call.reset(0.012);
  });
  await done;
  assert.ok(ranAt - start >= 0.011, `ran after ${ranAt - start} s`);
  assert.equal(rt.timerArmed, false);
});

Deno.test("RealTime reports an error thrown by a call and runs the others", async () => {
  const reported: Array<[string, DelayedCall]> = [];
  const rt = new RealTime({
    report: (error, call) => reported.push([(error as Error).message, call]),
  });
  const seen: string[] = [];
  function failing(): void {
    throw new Error("boom");
  }
  rt.callLater(0.001, () => seen.push("before"));
  const bad = rt.callLater(0.001, failing);
  rt.callLater(0.001, () => seen.push("after"));
  await sleep(rt, 0.003);
  assert.deepEqual(seen, ["before", "after"]);
  assert.equal(reported.length, 1);
  assert.equal(reported[0][0], "boom");
  assert.equal(reported[0][1], bad);
  assert.equal(reported[0][1].func.name, "failing");
});

Deno.test("RealTime runs a zero-delay call scheduled by a call on a later pass", async () => {
  const rt = new RealTime();
  const seen: string[] = [];
  await new Promise<void>((resolve) => {
    rt.callLater(0, () => {
      seen.push("first");
      rt.callLater(0, () => {
        seen.push("second");
        resolve();
      });
      seen.push("first done");
    });
  });
  assert.deepEqual(seen, ["first", "first done", "second"]);
  assert.equal(rt.timerArmed, false);
});

Deno.test("RealTime.setKeepAlive() arms a timer with nothing pending, and disarms it", () => {
  const rt = new RealTime();
  assert.equal(rt.timerArmed, false);
  rt.setKeepAlive(true);
  assert.equal(rt.timerArmed, true);
  const call = rt.callLater(5, () => {});
  call.cancel();
  assert.equal(rt.timerArmed, true);
  rt.setKeepAlive(false);
  assert.equal(rt.timerArmed, false);
});

Deno.test("realTime keeps the process alive while a call is pending, then lets it exit", async () => {
  const result = await child(`
    const start = performance.now();
    realTime.callLater(0.05, () => console.log("ran", performance.now() - start >= 49));
    realTime.callLater(30, () => console.log("never")).cancel();
  `);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "ran true\n");
});

Deno.test("realTime reports errors on stderr with the function's name and goes on", async () => {
  const result = await child(`
    realTime.callLater(0.001, function failing() { throw new Error("boom"); });
    realTime.callLater(0.001, () => console.log("still running"));
  `);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "still running\n");
  assert.match(
    result.stderr,
    /^\S+Z \[error\] reactor: Unhandled error in delayed call to failing\n {4}Error: boom\n/,
  );
});

Deno.test("setKeepAlive(true) keeps the process alive with nothing pending", async () => {
  const result = await child(`
    setKeepAlive(true);
    const id = setTimeout(() => {
      console.log("still alive");
      setKeepAlive(false);
    }, 50);
    Deno.unrefTimer(id);
  `);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "still alive\n");
});

Deno.test("the process exits at once when nothing is pending", async () => {
  const result = await child(`
    const id = setTimeout(() => console.log("kept alive"), 200);
    Deno.unrefTimer(id);
    realTime.callLater(0.001, () => console.log("ran"));
  `);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "ran\n");
});

Deno.test("setKeepAlive() drives the process-wide realTime", () => {
  assert.equal(realTime.timerArmed, false);
  setKeepAlive(true);
  assert.equal(realTime.timerArmed, true);
  setKeepAlive(false);
  assert.equal(realTime.timerArmed, false);
});
