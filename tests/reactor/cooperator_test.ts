import assert from "node:assert/strict";
import { Deferred, DeferredList, fail, type Failure, succeed } from "../../defer/mod.ts";
import { realTime } from "../../reactor/_real_time.ts";
import {
  coiterate,
  cooperate,
  type CooperativeTask,
  Cooperator,
  NotPaused,
  SchedulerError,
  SchedulerStopped,
  TaskDone,
  TaskFailed,
  TaskFinished,
  TaskStopped,
} from "../../reactor/cooperator.ts";

/** A scheduler whose ticks run only when the test pumps them. */
class FakeScheduler {
  work: Array<{ fn: () => void; cancelled: boolean }> = [];

  readonly schedule = (fn: () => void): { cancel(): void } => {
    const unit = { fn, cancelled: false };
    this.work.push(unit);
    return { cancel: () => (unit.cancelled = true) };
  };

  /** Runs the ticks scheduled so far. */
  pump(): void {
    const work = this.work;
    this.work = [];
    for (const unit of work) if (!unit.cancelled) unit.fn();
  }

  /** Pumps until nothing is scheduled, at most `limit` times. */
  drain(limit = 1000): number {
    let rounds = 0;
    while (this.work.some((u) => !u.cancelled)) {
      if (++rounds > limit) throw new Error("Cooperator took too long");
      this.pump();
    }
    return rounds;
  }

  get pending(): number {
    return this.work.filter((u) => !u.cancelled).length;
  }
}

// A cooperator that does one unit of work per tick, on a fake scheduler.
function oneStepCooperator(): { cooperator: Cooperator; scheduler: FakeScheduler } {
  const scheduler = new FakeScheduler();
  const cooperator = new Cooperator({
    scheduler: scheduler.schedule,
    terminationPredicateFactory: () => () => true,
  });
  return { cooperator, scheduler };
}

// The outcome of a Deferred so far.
function outcome<T>(d: Deferred<T>): { result?: T; failure?: Failure } {
  const seen: { result?: T; failure?: Failure } = {};
  d.addCallbacks((r) => {
    seen.result = r;
  }, (f) => {
    seen.failure = f;
  });
  return seen;
}

// A worker whose next step the test decides: a count, a Deferred, the end or
// an error.
class Worker {
  work: unknown[] = [];
  next: "value" | "defer" | "stop" | "die" = "value";
  readonly iterator: Generator<unknown, void>;

  constructor() {
    this.iterator = this.#run();
  }

  *#run(): Generator<unknown, void> {
    let i = 0;
    while (true) {
      i++;
      const next = this.next;
      this.next = "value";
      if (next === "defer") {
        const d = new Deferred<unknown>();
        this.work.push(d);
        yield d;
      } else if (next === "stop") {
        return;
      } else if (next === "die") {
        throw new SyntaxError("worker died");
      } else {
        this.work.push(i);
        yield i;
      }
    }
  }
}

function runState(): {
  scheduler: FakeScheduler;
  cooperator: Cooperator;
  worker: Worker;
  task: CooperativeTask<Generator<unknown, void>>;
} {
  const { cooperator, scheduler } = oneStepCooperator();
  const worker = new Worker();
  const task = cooperator.cooperate(worker.iterator);
  return { scheduler, cooperator, worker, task };
}

Deno.test("Cooperator errors form Twisted's hierarchy, with names", () => {
  const cases: Array<[Error, string, unknown[]]> = [
    [new SchedulerStopped(), "SchedulerStopped", [SchedulerError]],
    [new TaskDone(), "TaskDone", [TaskFinished, SchedulerError]],
    [new TaskStopped(), "TaskStopped", [TaskFinished, SchedulerError]],
    [new TaskFailed(), "TaskFailed", [TaskFinished, SchedulerError]],
    [new NotPaused(), "NotPaused", [SchedulerError]],
  ];
  for (const [error, name, bases] of cases) {
    assert.equal(error.name, name);
    for (const base of bases) assert.ok(error instanceof (base as typeof Error), name);
  }
  assert.equal(new SchedulerStopped().message, "The cooperator was stopped");
});

Deno.test("Cooperator.coiterate() on a stopped cooperator fails with SchedulerStopped", () => {
  const { cooperator, scheduler } = oneStepCooperator();
  cooperator.stop();
  const seen = outcome(cooperator.coiterate([].values()));
  assert.ok(seen.failure?.value instanceof SchedulerStopped);
  assert.equal(scheduler.pending, 0);
});

Deno.test("Cooperator.stop() fails running tasks with SchedulerStopped before they finish", () => {
  const { cooperator, scheduler } = oneStepCooperator();
  const seen: number[] = [];
  const job = [0, 1, 2].values().map((n) => seen.push(n));
  const d = outcome(cooperator.coiterate(job));
  scheduler.pump();
  cooperator.stop();
  assert.ok(d.failure?.value instanceof SchedulerStopped);
  assert.equal(scheduler.pending, 0);
  assert.deepEqual(seen, [0]);
});

Deno.test("Cooperator.stop() fails a task waiting on a Deferred once it fires", () => {
  const { cooperator, scheduler } = oneStepCooperator();
  const outstanding = new Deferred<string>();
  let after = false;
  function* job() {
    yield outstanding;
    after = true;
  }
  const d = outcome(cooperator.coiterate(job()));
  scheduler.pump();
  cooperator.stop();
  assert.deepEqual(d, {});
  outstanding.callback("arglebargle");
  assert.ok(d.failure?.value instanceof SchedulerStopped);
  scheduler.drain();
  assert.equal(after, false);
});

Deno.test("Cooperator.coiterate() fails with the error the iterator throws", () => {
  const { cooperator, scheduler } = oneStepCooperator();
  // deno-lint-ignore require-yield
  function* job() {
    throw new RangeError("unexpected");
  }
  const d = outcome(cooperator.coiterate(job()));
  scheduler.drain();
  assert.ok(d.failure?.value instanceof RangeError);
});

Deno.test("Cooperator.coiterate() fails with the failure of a Deferred it yields", async (t) => {
  await t.step("failing later", () => {
    const { cooperator, scheduler } = oneStepCooperator();
    const later = new Deferred<void>();
    function* job() {
      yield later;
    }
    const d = outcome(cooperator.coiterate(job()));
    scheduler.pump();
    later.errback(new RangeError("later"));
    assert.equal(d.failure?.getErrorMessage(), "later");
  });
  await t.step("already failed", () => {
    const { cooperator, scheduler } = oneStepCooperator();
    function* job() {
      yield fail(new RangeError("at once"));
    }
    const d = outcome(cooperator.coiterate(job()));
    scheduler.pump();
    assert.equal(d.failure?.getErrorMessage(), "at once");
  });
});

Deno.test("Cooperator runs its tasks round-robin", () => {
  const scheduler = new FakeScheduler();
  const cooperator = new Cooperator({ scheduler: scheduler.schedule });
  const log: unknown[] = [];
  function* job(things: unknown[]) {
    for (const thing of things) {
      log.push(thing);
      yield;
    }
  }
  const groups: unknown[][] = [["a", "b", "c"], [1, 2, 3], ["d", "e", "f"], [4, 5, 6]];
  const done = outcome(new DeferredList(groups.map((g) => cooperator.coiterate(job(g)))));
  scheduler.drain();
  assert.deepEqual(log, ["a", 1, "d", 4, "b", 2, "e", 5, "c", 3, "f", 6]);
  assert.equal(done.result?.length, 4);
});

Deno.test("Cooperator runs as many steps per tick as the termination predicate allows", () => {
  const scheduler = new FakeScheduler();
  let stopped = false;
  const cooperator = new Cooperator({
    scheduler: scheduler.schedule,
    terminationPredicateFactory: () => () => stopped,
  });
  const output: number[] = [];
  function* job() {
    for (let i = 0; i < 100; i++) {
      output.push(i);
      if (i === 9) stopped = true;
      yield i;
    }
  }
  const d = outcome(cooperator.coiterate(job()));
  scheduler.pump();
  assert.deepEqual(output, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  cooperator.stop();
  assert.ok(d.failure?.value instanceof SchedulerStopped);
});

Deno.test("Cooperator schedules once when a whenDone callback adds a task", () => {
  const calls: Array<() => void> = [];
  const cooperator = new Cooperator({
    scheduler: (fn) => {
      assert.equal(calls.length, 0, "a second tick was scheduled");
      calls.push(fn);
      return { cancel() {} };
    },
    terminationPredicateFactory: () => () => true,
  });
  const done: unknown[] = [];
  cooperator.coiterate([].values()).addCallback(() => {
    cooperator.coiterate([].values()).addBoth((r) => done.push(r));
  });
  let work = 0;
  while (done.length === 0) {
    work++;
    while (calls.length > 0) {
      calls.shift()!();
      work++;
    }
    assert.ok(work <= 50, "Cooperator took too long");
  }
  assert.equal(done.length, 1);
});

Deno.test("Cooperator cancels its scheduled tick when the last task leaves", () => {
  const scheduler = new FakeScheduler();
  const cooperator = new Cooperator({ scheduler: scheduler.schedule });
  const task1 = cooperator.cooperate([1, 2].values());
  const task2 = cooperator.cooperate([1, 2].values());
  assert.equal(scheduler.work.length, 1);
  task1.stop();
  assert.equal(scheduler.pending, 1);
  task2.stop();
  assert.equal(scheduler.pending, 0);
  cooperator.cooperate([1, 2].values());
  assert.equal(scheduler.pending, 1);
  cooperator.stop();
});

Deno.test("Cooperator.running follows start() and stop()", async (t) => {
  await t.step("started on creation", () => {
    assert.equal(new Cooperator({ scheduler: () => ({ cancel() {} }) }).running, true);
  });
  await t.step("not started", () => {
    assert.equal(new Cooperator({ started: false }).running, false);
  });
  await t.step("started later, then stopped", () => {
    const c = new Cooperator({ started: false, scheduler: () => ({ cancel() {} }) });
    c.start();
    assert.equal(c.running, true);
    c.stop();
    assert.equal(c.running, false);
  });
});

Deno.test("Cooperator with started=false holds its tasks until start()", () => {
  const scheduler = new FakeScheduler();
  const cooperator = new Cooperator({ scheduler: scheduler.schedule, started: false });
  const seen: number[] = [];
  const d = outcome(cooperator.coiterate([1, 2].values().map((n) => seen.push(n))));
  assert.equal(scheduler.pending, 0);
  cooperator.start();
  assert.equal(scheduler.pending, 1);
  scheduler.drain();
  assert.deepEqual(seen, [1, 2]);
  assert.ok(d.result !== undefined);
});

Deno.test("Cooperator pauses a task on a yielded Promise until it settles", async () => {
  const { cooperator, scheduler } = oneStepCooperator();
  let resolve!: (n: number) => void;
  const log: string[] = [];
  function* job() {
    log.push("before");
    yield new Promise<number>((r) => (resolve = r));
    log.push("after");
  }
  const d = outcome(cooperator.coiterate(job()));
  scheduler.pump();
  assert.equal(scheduler.pending, 0);
  resolve(1);
  await Promise.resolve();
  await Promise.resolve();
  scheduler.drain();
  assert.deepEqual(log, ["before", "after"]);
  assert.ok(d.result !== undefined);
});

Deno.test("Cooperator.cooperate() refuses something that is not an iterator", () => {
  const { cooperator } = oneStepCooperator();
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => cooperator.cooperate([1, 2] as any),
    /^TypeError: Cannot cooperate on something that is not an iterator: 1,2$/,
  );
});

Deno.test("CooperativeTask.pause() stops its work and resume() restarts it", () => {
  const { scheduler, worker, task } = runState();
  scheduler.pump();
  assert.deepEqual(worker.work, [1]);
  scheduler.pump();
  assert.deepEqual(worker.work, [1, 2]);
  task.pause();
  scheduler.pump();
  assert.deepEqual(worker.work, [1, 2]);
  task.resume();
  assert.deepEqual(worker.work, [1, 2]);
  scheduler.pump();
  assert.deepEqual(worker.work, [1, 2, 3]);
  task.stop();
});

Deno.test("CooperativeTask.resume() when not paused throws NotPaused", () => {
  const { task } = runState();
  assert.throws(() => task.resume(), NotPaused);
  task.pause();
  task.resume();
  assert.throws(() => task.resume(), /^NotPaused: The task is not paused$/);
  task.stop();
});

Deno.test("CooperativeTask pauses are counted", () => {
  const { scheduler, worker, task } = runState();
  task.pause();
  scheduler.pump();
  task.pause();
  scheduler.pump();
  task.resume();
  scheduler.pump();
  assert.deepEqual(worker.work, []);
  task.resume();
  scheduler.pump();
  assert.deepEqual(worker.work, [1]);
  task.stop();
});

Deno.test("CooperativeTask paused while waiting on a Deferred needs both to go on", () => {
  const { scheduler, worker, task } = runState();
  worker.next = "defer";
  scheduler.pump();
  assert.equal(worker.work.length, 1);
  assert.ok(worker.work[0] instanceof Deferred);
  scheduler.pump();
  assert.equal(worker.work.length, 1);
  task.pause();
  scheduler.pump();
  task.resume();
  scheduler.pump();
  assert.equal(worker.work.length, 1);
  (worker.work[0] as Deferred<unknown>).callback("STUFF!");
  scheduler.pump();
  assert.deepEqual(worker.work.slice(1), [2]);
  task.stop();
});

Deno.test("CooperativeTask.whenDone() fires each Deferred with the iterator", () => {
  const { scheduler, worker, task } = runState();
  const d1 = task.whenDone();
  const d2 = task.whenDone();
  const results1: unknown[] = [];
  const results2: unknown[] = [];
  const final1: unknown[] = [];
  const final2: unknown[] = [];
  d1.addCallback((r) => (results1.push(r), 1)).addCallback((r) => final1.push(r));
  d2.addCallback((r) => (results2.push(r), 2)).addCallback((r) => final2.push(r));
  worker.next = "stop";
  scheduler.pump();
  assert.deepEqual(results1, [worker.iterator]);
  assert.equal(results2[0], worker.iterator);
  assert.deepEqual(final1, [1]);
  assert.deepEqual(final2, [2]);
});

Deno.test("CooperativeTask.whenDone() fails with the iterator's error", () => {
  const { scheduler, worker, task } = runState();
  const d = outcome(task.whenDone());
  worker.next = "die";
  scheduler.pump();
  assert.ok(d.failure?.check(SyntaxError));
  assert.equal(d.failure?.getErrorMessage(), "worker died");
});

Deno.test("CooperativeTask.whenDone() fails with TaskStopped on stop()", () => {
  const { task } = runState();
  const d = outcome(task.whenDone());
  task.stop();
  assert.ok(d.failure?.value instanceof TaskStopped);
});

Deno.test("CooperativeTask.whenDone() on a finished task fires at once", () => {
  const { scheduler, worker, task } = runState();
  worker.next = "stop";
  scheduler.pump();
  assert.equal(outcome(task.whenDone()).result, worker.iterator);
});

Deno.test("CooperativeTask.stop() removes the task; later stop() and pause() throw TaskStopped", () => {
  const { scheduler, worker, task } = runState();
  task.stop();
  scheduler.pump();
  assert.deepEqual(worker.work, []);
  assert.throws(() => task.stop(), TaskStopped);
  assert.throws(() => task.pause(), TaskStopped);
  scheduler.pump();
  assert.deepEqual(worker.work, []);
  assert.equal(scheduler.pending, 0);
});

Deno.test("CooperativeTask resume() after pause() and stop() does nothing", () => {
  const { scheduler, worker, task } = runState();
  task.pause();
  task.stop();
  task.resume();
  scheduler.pump();
  assert.deepEqual(worker.work, []);
});

Deno.test("CooperativeTask stopped while waiting on a Deferred does not go on when it fires", () => {
  const { scheduler, worker, task } = runState();
  worker.next = "defer";
  scheduler.pump();
  const d = worker.work.pop() as Deferred<number>;
  const results: unknown[] = [];
  d.addBoth((r) => results.push(r));
  scheduler.pump();
  task.stop();
  scheduler.pump();
  d.callback(7);
  scheduler.pump();
  assert.deepEqual(results, [undefined]);
  assert.deepEqual(worker.work, []);
});

Deno.test("CooperativeTask.stop() after the end throws TaskDone, after an error TaskFailed", async (t) => {
  await t.step("done", () => {
    const { scheduler, worker, task } = runState();
    worker.next = "stop";
    scheduler.pump();
    assert.throws(() => task.stop(), TaskDone);
  });
  await t.step("failed", () => {
    const { scheduler, worker, task } = runState();
    const d = outcome(task.whenDone());
    worker.next = "die";
    scheduler.pump();
    assert.throws(() => task.stop(), TaskFailed);
    assert.ok(d.failure?.check(SyntaxError));
  });
});

Deno.test("CooperativeTask is gone before its whenDone callbacks stop the cooperator", () => {
  const { scheduler, worker, task, cooperator } = runState();
  const phases: unknown[] = [];
  task.whenDone().addCallback((result) => {
    phases.push(result);
    cooperator.stop();
    phases.push("done");
  });
  worker.next = "stop";
  scheduler.pump();
  assert.deepEqual(phases, [worker.iterator, "done"]);
});

Deno.test("CooperativeTask steps a yielded fired Deferred without a pause", () => {
  const { cooperator, scheduler } = oneStepCooperator();
  const log: number[] = [];
  function* job() {
    log.push(1);
    yield succeed("x");
    log.push(2);
  }
  const d = outcome(cooperator.coiterate(job()));
  assert.equal(scheduler.drain(), 2);
  assert.deepEqual(log, [1, 2]);
  assert.ok(d.result !== undefined);
});

Deno.test("cooperate() runs a job on the process-wide cooperator in real time", async () => {
  const seen: number[] = [];
  function* job() {
    for (let i = 1; i <= 3; i++) yield seen.push(i);
  }
  const it = job();
  const task = cooperate(it);
  assert.deepEqual(seen, []);
  assert.equal(await task.whenDone(), it);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(realTime.getDelayedCalls().length, 0);
});

Deno.test("coiterate() shares the process-wide cooperator among jobs", async () => {
  const log: string[] = [];
  function* job(name: string) {
    for (let i = 0; i < 3; i++) yield log.push(`${name}${i}`);
  }
  const [a, b] = [job("a"), job("b")];
  const results = await Promise.all([coiterate(a), coiterate(b)]);
  assert.deepEqual(results, [a, b]);
  // Round-robin, wherever the ticks of 10 ms end.
  assert.deepEqual(log, ["a0", "b0", "a1", "b1", "a2", "b2"]);
  assert.equal(realTime.getDelayedCalls().length, 0);
});
