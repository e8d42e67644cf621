import assert from "node:assert/strict";
import { CancelledError, Deferred, type Failure } from "../../defer/mod.ts";
import { ThreadPool } from "../../reactor/thread_pool.ts";
import {
  callInThread,
  deferToThread,
  getThreadPool,
  shutdownThreadPool,
  suggestThreadPoolSize,
} from "../../reactor/threads.ts";
import { runFixture } from "./_fixture.ts";

// Each test ends its workers: the sanitizers would report them otherwise.
function poolTest(name: string, fn: (pool: ThreadPool) => Promise<void>): void {
  Deno.test(name, async () => {
    const pool = new ThreadPool(2);
    try {
      await fn(pool);
    } finally {
      await pool.stop();
    }
  });
}

async function failureOf<T>(d: Deferred<T>): Promise<Failure> {
  let failure: Failure | undefined;
  await d.addErrback((f) => {
    failure = f;
  });
  assert.ok(failure, "expected the Deferred to fail");
  return failure;
}

Deno.test("deferToThread() runs a function in a worker and gives its result", async () => {
  try {
    const result = await deferToThread((a: number, b: string) => `${b}${a * 2}`, 21, "n=");
    assert.equal(result, "n=42");
    // It really is another thread: the worker has its own globals.
    const marker = Symbol.for("torsion.test.marker");
    (globalThis as Record<symbol, unknown>)[marker] = true;
    const seen = await deferToThread(() => Symbol.for("torsion.test.marker") in globalThis);
    assert.equal(seen, false);
    delete (globalThis as Record<symbol, unknown>)[marker];
  } finally {
    await shutdownThreadPool();
  }
});

Deno.test("deferToThread() returns a Deferred that fires later, not synchronously", async () => {
  try {
    const d = deferToThread(() => 1);
    assert.ok(d instanceof Deferred);
    assert.equal(d.called, false);
    assert.equal(await d, 1);
  } finally {
    await shutdownThreadPool();
  }
});

poolTest("ThreadPool.deferToThread() structured-clones arguments and results", async (pool) => {
  const input = { when: new Date(0), bytes: new Uint8Array([1, 2, 3]), map: new Map([["k", 1]]) };
  const out = await pool.deferToThread((x: typeof input) => {
    x.bytes[0] = 9;
    return { ...x, extra: [x.map.get("k")] };
  }, input);
  assert.equal(input.bytes[0], 1); // a copy went to the worker
  assert.deepEqual(out.bytes, new Uint8Array([9, 2, 3]));
  assert.deepEqual(out.when, new Date(0));
  assert.deepEqual(out.extra, [1]);
});

poolTest("ThreadPool.deferToThread() awaits an async function in the worker", async (pool) => {
  const out = await pool.deferToThread(async (ms: number) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    const path = await import("node:path");
    return path.join("a", "b");
  }, 5);
  assert.equal(out, "a/b");
});

poolTest(
  "ThreadPool.deferToThread() fails with the worker's error, keeping name, message and stack",
  async (pool) => {
    const failure = await failureOf(pool.deferToThread(() => {
      class ParseError extends TypeError {
        constructor(message: string) {
          super(message);
          this.name = "ParseError";
        }
      }
      function deepInWorker(): never {
        throw new ParseError("bad input at 3");
      }
      deepInWorker();
    }));
    const error = failure.value as Error;
    assert.ok(error instanceof TypeError); // the nearest built-in class survives
    assert.equal(error.name, "ParseError");
    assert.equal(error.message, "bad input at 3");
    assert.match(error.stack!, /^ParseError: bad input at 3/);
    assert.match(error.stack!, /deepInWorker/);
    assert.equal(failure.check("ParseError"), "ParseError");
  },
);

poolTest("ThreadPool.deferToThread() passes a thrown non-Error value through", async (pool) => {
  const failure = await failureOf(pool.deferToThread(() => {
    throw { code: 7 };
  }));
  assert.deepEqual(failure.value, { code: 7 });
});

poolTest("ThreadPool.deferToThread() explains a closure over a caller's variable", async (pool) => {
  const outer = 5;
  const failure = await failureOf(pool.deferToThread(() => outer + 1));
  const error = failure.value as Error;
  assert.ok(error instanceof ReferenceError);
  assert.match(error.message, /outer is not defined/);
  assert.match(error.message, /run in a worker and must be self-contained/);
});

poolTest(
  "ThreadPool.deferToThread() rejects native and bound functions with a TypeError",
  (pool) => {
    assert.throws(() => pool.deferToThread(Math.max, 1, 2), /native function max/);
    const bound = function add(a: number, b: number): number {
      return a + b;
    }.bind(null, 1);
    assert.throws(() => pool.deferToThread(bound, 2), /bound function bound add/);
    assert.throws(
      // @ts-expect-error: testing a non-function
      () => pool.deferToThread(42),
      (e: unknown) => e instanceof TypeError && /got number 42/.test(e.message),
    );
    class Job {}
    assert.throws(
      () => pool.deferToThread(Job as unknown as () => void),
      /cannot call the class Job/,
    );
    const accessor = Object.getOwnPropertyDescriptor(
      {
        get value(): number {
          return 1;
        },
      },
      "value",
    )!.get!;
    assert.throws(() => pool.deferToThread(accessor), /getters and setters cannot be sent/);
    assert.equal(pool.workers, 0); // nothing was started
    return Promise.resolve();
  },
);

poolTest("ThreadPool.deferToThread() runs methods passed by reference", async (pool) => {
  class Maths {
    triple(n: number): number {
      return n * 3;
    }
    async later(): Promise<string> {
      return await Promise.resolve("later");
    }
    static twice(n: number): number {
      return n * 2;
    }
  }
  const literal = {
    ["computed"](s: string): string {
      return s.toUpperCase();
    },
  };
  assert.equal(await pool.deferToThread(new Maths().triple, 4), 12);
  assert.equal(await pool.deferToThread(new Maths().later), "later");
  assert.equal(await pool.deferToThread(Maths.twice, 4), 8);
  assert.equal(await pool.deferToThread(literal.computed, "ok"), "OK");
  assert.equal(
    await pool.deferToThread(function named(n: number) {
      return n + 1;
    }, 1),
    2,
  );
});

poolTest(
  "ThreadPool.deferToThread() fails with DataCloneError when arguments cannot be cloned",
  async (pool) => {
    const failure = await failureOf(pool.deferToThread((f: unknown) => f, () => 1));
    assert.match(failure.getErrorMessage(), /could not be cloned/);
  },
);

poolTest("ThreadPool.deferToThread() fails when the result cannot be cloned", async (pool) => {
  const failure = await failureOf(pool.deferToThread(() => () => 1));
  assert.match(failure.getErrorMessage(), /cannot be sent back from its worker/);
  // The worker survives and takes the next job.
  assert.equal(await pool.deferToThread(() => "still here"), "still here");
});

poolTest("ThreadPool reuses workers and caps them at maxWorkers", async (pool) => {
  const jobs = [];
  for (let i = 0; i < 12; i++) {
    jobs.push(pool.deferToThread(async (n: number) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return n * n;
    }, i));
  }
  assert.equal(pool.workers, 2);
  assert.equal(pool.pending, 10);
  const results = await Promise.all(jobs);
  assert.deepEqual(results, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121]);
  assert.equal(pool.workers, 2);
  assert.equal(pool.pending, 0);
});

poolTest("ThreadPool runs queued jobs first in, first out", async (pool) => {
  pool.adjustPoolsize(1);
  const order: number[] = [];
  const jobs = [3, 1, 2].map((n) =>
    pool.deferToThread((x: number) => x, n).addCallback((x) => order.push(x))
  );
  await Promise.all(jobs);
  assert.deepEqual(order, [3, 1, 2]);
});

poolTest("ThreadPool.deferToThread() cancel of a queued job removes it", async (pool) => {
  pool.adjustPoolsize(1);
  const first = pool.deferToThread(async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return "first";
  });
  const queued = pool.deferToThread(() => "queued");
  assert.equal(pool.pending, 1);
  queued.cancel();
  assert.equal(pool.pending, 0);
  assert.ok((await failureOf(queued)).value instanceof CancelledError);
  assert.equal(await first, "first");
});

poolTest(
  "ThreadPool.deferToThread() cancel of a running job terminates its worker",
  async (pool) => {
    const stuck = pool.deferToThread(() => {
      while (true) { /* never returns */ }
    });
    assert.equal(pool.workers, 1);
    stuck.cancel();
    assert.equal(pool.workers, 0);
    assert.ok((await failureOf(stuck)).value instanceof CancelledError);
    // A fresh worker takes the next job.
    assert.equal(await pool.deferToThread(() => "next"), "next");
  },
);

poolTest("ThreadPool.deferToThread() fails the job when its worker dies", async (pool) => {
  const d = pool.deferToThread(async () => {
    const process = await import("node:process");
    process.exit(3); // ends the worker thread, not the program
  });
  const failure = await failureOf(d);
  assert.match(failure.getErrorMessage(), /exited with code 3/);
  assert.equal(await pool.deferToThread(() => "recovered"), "recovered");
});

poolTest("ThreadPool.adjustPoolsize() validates its argument", (pool) => {
  assert.throws(() => pool.adjustPoolsize(0), RangeError);
  assert.throws(() => pool.adjustPoolsize(1.5), /positive integer, got 1.5/);
  assert.throws(() => pool.adjustPoolsize(-1), RangeError);
  // @ts-expect-error: testing a non-number
  assert.throws(() => pool.adjustPoolsize("4"), TypeError);
  assert.throws(() => new ThreadPool(0), RangeError);
  pool.adjustPoolsize(3);
  assert.equal(pool.maxWorkers, 3);
  return Promise.resolve();
});

poolTest("ThreadPool.adjustPoolsize() shrinking ends extra idle workers", async (pool) => {
  pool.adjustPoolsize(3);
  await Promise.all([1, 2, 3].map((n) =>
    pool.deferToThread(async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return x;
    }, n)
  ));
  assert.equal(pool.workers, 3);
  pool.adjustPoolsize(1);
  assert.equal(pool.workers, 1);
});

poolTest(
  "ThreadPool.stop() waits for running and queued jobs, then ends every worker",
  async (pool) => {
    const results: number[] = [];
    for (let i = 0; i < 4; i++) {
      pool.deferToThread(async (n: number) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return n;
      }, i).addCallback((n) => results.push(n));
    }
    await pool.stop();
    assert.deepEqual(results.sort(), [0, 1, 2, 3]);
    assert.equal(pool.workers, 0);
    // The pool can be used again.
    assert.equal(await pool.deferToThread(() => "again"), "again");
  },
);

Deno.test("callInThread() runs a function in a worker", async () => {
  const path = await Deno.makeTempFile();
  try {
    callInThread((p: string) => Deno.writeTextFileSync(p, "written in a worker"), path);
    await shutdownThreadPool(); // waits for the job
    assert.equal(await Deno.readTextFile(path), "written in a worker");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("suggestThreadPoolSize() sets the shared pool's size and rejects bad sizes", () => {
  const before = getThreadPool().maxWorkers;
  try {
    suggestThreadPoolSize(3);
    assert.equal(getThreadPool().maxWorkers, 3);
    assert.throws(() => suggestThreadPoolSize(0), /positive integer, got 0/);
    assert.throws(() => suggestThreadPoolSize(Number.NaN), RangeError);
  } finally {
    suggestThreadPoolSize(before);
  }
});

Deno.test("getThreadPool() defaults to 10 workers, as Twisted", () => {
  assert.equal(new ThreadPool().maxWorkers, 10);
  assert.equal(getThreadPool(), getThreadPool());
});

Deno.test("deferToThread() (subprocess): idle workers do not keep a script alive", async () => {
  // The script neither runs the reactor nor shuts the pool down.
  const { code, stdout, stderr } = await runFixture("threads_exit.ts");
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "result 42\n");
  // callInThread logs what its function threw.
  assert.match(
    stderr,
    /\[error\] threads: Unhandled error in a function run by callInThread\n {4}Error: callInThread failure/,
  );
});
