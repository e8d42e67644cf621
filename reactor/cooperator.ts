import { _isThenable, Deferred } from "../defer/deferred.ts";
import { Failure } from "../defer/failure.ts";
import { realTime } from "./_real_time.ts";

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * The base of the errors of a {@linkcode Cooperator} and its tasks: the
 * scheduler or a task was in the wrong state for what was asked. Catch it to
 * catch them all; it is not thrown itself.
 *
 * @example Matching any scheduler error
 * ```ts
 * import { SchedulerError, TaskDone } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new TaskDone() instanceof SchedulerError);
 * ```
 */
export class SchedulerError extends Error {
  /**
   * Makes the error; the cooperator and its tasks build it themselves.
   *
   * @param message What went wrong.
   */
  constructor(message = "The scheduler or its task is in the wrong state") {
    super(message);
    this.name = "SchedulerError";
  }
}

/**
 * The {@linkcode Cooperator} was stopped: the result of `whenDone()` for each
 * task it held then, and of every task given to it afterwards.
 *
 * @example A stopped cooperator refuses work
 * ```ts
 * import { Cooperator, SchedulerStopped } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const cooperator = new Cooperator({ scheduler: () => ({ cancel() {} }) });
 * cooperator.stop();
 * let error: unknown;
 * cooperator.coiterate([1, 2].values()).addErrback((f) => (error = f.value));
 * assert.ok(error instanceof SchedulerStopped);
 * ```
 */
export class SchedulerStopped extends SchedulerError {
  /**
   * Makes the error; the cooperator and its tasks build it themselves.
   *
   * @param message What went wrong.
   */
  constructor(message = "The cooperator was stopped") {
    super(message);
    this.name = "SchedulerStopped";
  }
}

/**
 * The task has finished, one way or another: the base of {@linkcode TaskDone},
 * {@linkcode TaskStopped} and {@linkcode TaskFailed}, thrown by `pause()` and
 * `stop()` on a finished task.
 *
 * @example Matching any way of finishing
 * ```ts
 * import { TaskFinished, TaskStopped } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new TaskStopped() instanceof TaskFinished);
 * ```
 */
export class TaskFinished extends SchedulerError {
  /**
   * Makes the error; the cooperator and its tasks build it themselves.
   *
   * @param message What went wrong.
   */
  constructor(message = "The task has finished") {
    super(message);
    this.name = "TaskFinished";
  }
}

/**
 * The task ran to its end: thrown by `pause()` or `stop()` on a task whose
 * iterator is exhausted.
 *
 * @example Stopping a task that is done
 * ```ts
 * import { Cooperator, TaskDone } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const ticks: Array<() => void> = [];
 * const cooperator = new Cooperator({
 *   scheduler: (fn) => (ticks.push(fn), { cancel() {} }),
 * });
 * const task = cooperator.cooperate([1].values());
 * ticks.shift()!(); // runs the task to its end
 * assert.throws(() => task.stop(), TaskDone);
 * ```
 */
export class TaskDone extends TaskFinished {
  /**
   * Makes the error; the cooperator and its tasks build it themselves.
   *
   * @param message What went wrong.
   */
  constructor(message = "The task has run to its end") {
    super(message);
    this.name = "TaskDone";
  }
}

/**
 * The task was stopped with {@linkcode CooperativeTask.stop}: its
 * `whenDone()` Deferreds fail with it, and `pause()` or `stop()` throw it.
 *
 * @example Stopping a task
 * ```ts
 * import { Cooperator, TaskStopped } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const cooperator = new Cooperator({ scheduler: () => ({ cancel() {} }) });
 * const task = cooperator.cooperate([1, 2, 3].values());
 * let error: unknown;
 * task.whenDone().addErrback((f) => (error = f.value));
 * task.stop();
 * assert.ok(error instanceof TaskStopped);
 * ```
 */
export class TaskStopped extends TaskFinished {
  /**
   * Makes the error; the cooperator and its tasks build it themselves.
   *
   * @param message What went wrong.
   */
  constructor(message = "The task was stopped") {
    super(message);
    this.name = "TaskStopped";
  }
}

/**
 * The task's iterator threw (or a Deferred it yielded failed): `pause()` or
 * `stop()` throw this afterwards, while the `whenDone()` Deferreds fail with
 * the original error.
 *
 * @example Pausing a task that failed
 * ```ts
 * import { Cooperator, TaskFailed } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const ticks: Array<() => void> = [];
 * const cooperator = new Cooperator({
 *   scheduler: (fn) => (ticks.push(fn), { cancel() {} }),
 * });
 * const task = cooperator.cooperate((function* () {
 *   throw new Error("broken");
 * })());
 * let message = "";
 * task.whenDone().addErrback((f) => (message = f.getErrorMessage()));
 * ticks.shift()!();
 * assert.equal(message, "broken");
 * assert.throws(() => task.pause(), TaskFailed);
 * ```
 */
export class TaskFailed extends TaskFinished {
  /**
   * Makes the error; the cooperator and its tasks build it themselves.
   *
   * @param message What went wrong.
   */
  constructor(message = "The task failed") {
    super(message);
    this.name = "TaskFailed";
  }
}

/**
 * Thrown by {@linkcode CooperativeTask.resume} on a task that is not paused:
 * every `resume()` must match a `pause()`.
 *
 * @example Resuming a running task
 * ```ts
 * import { Cooperator, NotPaused } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const cooperator = new Cooperator({ scheduler: () => ({ cancel() {} }) });
 * const task = cooperator.cooperate([1].values());
 * assert.throws(() => task.resume(), NotPaused);
 * task.stop();
 * ```
 */
export class NotPaused extends SchedulerError {
  /**
   * Makes the error; the cooperator and its tasks build it themselves.
   *
   * @param message What went wrong.
   */
  constructor(message = "The task is not paused") {
    super(message);
    this.name = "NotPaused";
  }
}

// ---------------------------------------------------------------------------
// Cooperator
// ---------------------------------------------------------------------------

/**
 * Schedules `fn` to run later, once; the cancel stops that. The reactor's
 * `(fn) => reactor.callLater(0, fn)` fits.
 */
export type CooperatorScheduler = (fn: () => void) => { cancel(): void };

/** Options for {@linkcode Cooperator}'s constructor. */
export interface CooperatorOptions {
  /**
   * Called at the start of each tick; returns a predicate that says when the
   * tick has done enough work. By default a tick lasts up to 10 ms.
   */
  terminationPredicateFactory?: () => () => boolean;
  /**
   * How each tick is scheduled. By default with the reactor's real time, a
   * hundred-millionth of a second later (as Twisted does), so that other
   * timers and I/O run between ticks.
   */
  scheduler?: CooperatorScheduler;
  /**
   * Whether tasks start running as soon as they are added (the default), or
   * wait for {@linkcode Cooperator.start}.
   */
  started?: boolean;
}

// Twisted's _Timer.MAX_SLICE and _EPSILON.
const MAX_SLICE_MS = 10;
const EPSILON = 0.00000001;

function defaultTerminationPredicateFactory(): () => boolean {
  const end = performance.now() + MAX_SLICE_MS;
  return () => performance.now() >= end;
}

function defaultScheduler(fn: () => void): { cancel(): void } {
  return realTime.callLater(EPSILON, fn);
}

type TaskState = "running" | "done" | "stopped" | "failed" | "schedulerStopped";

// What a CooperativeTask needs from its Cooperator.
interface TaskHost {
  add(task: CooperativeTask<Iterator<unknown>>): void;
  remove(task: CooperativeTask<Iterator<unknown>>): void;
}

let taskHost: (cooperator: Cooperator) => TaskHost;

/**
 * Shares the event loop among long jobs: each job is an iterator, and each
 * `next()` is one small unit of work. The cooperator calls the iterators
 * round-robin, as many times as fit in a tick (10 ms by default), then lets
 * the rest of the program run before the next tick. A job that yields a
 * Deferred (or another PromiseLike) is paused until it has fired: that is how
 * to keep a bounded number of requests in flight, or to wait for a consumer.
 *
 * Most programs use the process-wide cooperator through the module functions
 * {@linkcode cooperate} and {@linkcode coiterate}. In tests, make one with a
 * `scheduler` that queues the ticks and a `terminationPredicateFactory` that
 * counts steps, and run the ticks by hand.
 *
 * Divergences from Twisted: a yielded PromiseLike pauses the task as a
 * Deferred does; the default scheduler and time slice use the real time of
 * the process rather than an installed reactor.
 *
 * @example Two jobs, one step each per tick
 * ```ts
 * import { Cooperator } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const ticks: Array<() => void> = [];
 * const cooperator = new Cooperator({
 *   scheduler: (fn) => (ticks.push(fn), { cancel() {} }),
 *   terminationPredicateFactory: () => {
 *     let steps = 0;
 *     return () => ++steps >= 2; // two steps per tick
 *   },
 * });
 * const log: string[] = [];
 * function* job(name: string) {
 *   for (let i = 0; i < 2; i++) yield log.push(`${name}${i}`);
 * }
 * cooperator.coiterate(job("a"));
 * cooperator.coiterate(job("b"));
 * ticks.shift()!();
 * assert.deepEqual(log, ["a0", "b0"]);
 * while (ticks.length > 0) ticks.shift()!();
 * assert.deepEqual(log, ["a0", "b0", "a1", "b1"]);
 * ```
 */
export class Cooperator {
  readonly #terminationPredicateFactory: () => () => boolean;
  readonly #scheduler: CooperatorScheduler;
  #tasks: CooperativeTask<Iterator<unknown>>[] = [];
  // The round-robin position in #tasks; kept across ticks.
  #cursor = 0;
  #delayedCall: { cancel(): void } | undefined = undefined;
  #stopped = false;
  #started: boolean;
  #mustScheduleOnStart = false;

  static {
    taskHost = (cooperator) => ({
      add: (task) => cooperator.#addTask(task),
      remove: (task) => cooperator.#removeTask(task),
    });
  }

  /**
   * Makes a cooperator with no tasks.
   *
   * @param options How ticks are scheduled and how long they last, and
   * whether to start at once.
   */
  constructor(options: CooperatorOptions = {}) {
    this.#terminationPredicateFactory = options.terminationPredicateFactory ??
      defaultTerminationPredicateFactory;
    this.#scheduler = options.scheduler ?? defaultScheduler;
    this.#started = options.started ?? true;
  }

  /** Whether the cooperator is started and not stopped. */
  get running(): boolean {
    return this.#started && !this.#stopped;
  }

  /**
   * Adds a job and gives a handle to pause, resume, stop or wait for it.
   *
   * @param iterator The job: each `next()` does one unit of work. A generator
   * is the usual way to write one.
   * @returns The task.
   * @throws {TypeError} If `iterator` has no `next` method.
   */
  cooperate<I extends Iterator<unknown>>(iterator: I): CooperativeTask<I> {
    return new CooperativeTask(iterator, this);
  }

  /**
   * Adds a job, and gives only a Deferred of its end: the same as
   * `cooperate(iterator).whenDone()`.
   *
   * @param iterator The job.
   * @returns A Deferred that fires with `iterator` once it is exhausted, or
   * fails with its error, `TaskStopped` or `SchedulerStopped`.
   * @throws {TypeError} If `iterator` has no `next` method.
   */
  coiterate<I extends Iterator<unknown>>(iterator: I): Deferred<I> {
    return this.cooperate(iterator).whenDone();
  }

  /**
   * Starts running tasks: after `new Cooperator({ started: false })`, or
   * again after `stop()`.
   */
  start(): void {
    this.#stopped = false;
    this.#started = true;
    if (this.#mustScheduleOnStart) {
      this.#mustScheduleOnStart = false;
      this.#reschedule();
    }
  }

  /**
   * Stops running tasks: every task it holds fails with
   * {@linkcode SchedulerStopped} and is forgotten, and so does every task
   * added until `start()`.
   */
  stop(): void {
    this.#stopped = true;
    const tasks = this.#tasks;
    this.#tasks = [];
    this.#cursor = 0;
    for (const task of tasks) {
      completeTask(task, "schedulerStopped", new Failure(new SchedulerStopped()), false);
    }
    this.#cancelTick();
  }

  #addTask(task: CooperativeTask<Iterator<unknown>>): void {
    if (this.#stopped) {
      completeTask(task, "schedulerStopped", new Failure(new SchedulerStopped()), false);
      return;
    }
    this.#tasks.push(task);
    this.#reschedule();
  }

  #removeTask(task: CooperativeTask<Iterator<unknown>>): void {
    const index = this.#tasks.indexOf(task);
    if (index < 0) return;
    this.#tasks.splice(index, 1);
    if (index < this.#cursor) this.#cursor--;
    if (this.#tasks.length === 0) this.#cancelTick();
  }

  #cancelTick(): void {
    const call = this.#delayedCall;
    this.#delayedCall = undefined;
    call?.cancel();
  }

  #reschedule(): void {
    if (!this.#started) {
      this.#mustScheduleOnStart = true;
      return;
    }
    if (this.#delayedCall === undefined && this.#tasks.length > 0) {
      this.#delayedCall = this.#scheduler(this.#tick);
    }
  }

  // One tick: steps the tasks round-robin until the slice is used up or no
  // task is left to step.
  #tick = (): void => {
    this.#delayedCall = undefined;
    const done = this.#terminationPredicateFactory();
    while (this.#tasks.length > 0) {
      if (this.#cursor >= this.#tasks.length) {
        this.#cursor = 0;
        continue;
      }
      const task = this.#tasks[this.#cursor++];
      oneWorkUnit(task);
      if (done()) break;
    }
    this.#reschedule();
  };
}

let completeTask: (
  task: CooperativeTask<Iterator<unknown>>,
  state: TaskState,
  result: unknown,
  remove: boolean,
) => void;
let oneWorkUnit: (task: CooperativeTask<Iterator<unknown>>) => void;

/**
 * One job in a {@linkcode Cooperator}: made by `cooperate(iterator)`, it can
 * be paused, resumed, stopped and waited for.
 *
 * @typeParam I The iterator's type; `whenDone()` gives it back.
 *
 * @example Pausing a job
 * ```ts
 * import { Clock, Cooperator } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const cooperator = new Cooperator({
 *   scheduler: (fn) => clock.callLater(1, fn), // a tick per second
 *   terminationPredicateFactory: () => () => true, // one step per tick
 * });
 * const seen: number[] = [];
 * const task = cooperator.cooperate([1, 2, 3].values().map((n) => seen.push(n)));
 * clock.advance(1);
 * task.pause();
 * clock.advance(5);
 * assert.deepEqual(seen, [1]);
 * task.resume();
 * clock.pump([1, 1]);
 * assert.deepEqual(seen, [1, 2, 3]);
 * ```
 */
export class CooperativeTask<I extends Iterator<unknown> = Iterator<unknown>> {
  readonly #iterator: I;
  readonly #host: TaskHost;
  #waiters: Deferred<I>[] = [];
  #pauseCount = 0;
  #state: TaskState = "running";
  #result: unknown = undefined;

  static {
    completeTask = (task, state, result, remove) => task.#completeWith(state, result, remove);
    oneWorkUnit = (task) => task.#oneWorkUnit();
  }

  /**
   * Adds a job to `cooperator`; {@linkcode Cooperator.cooperate} is the way
   * to call this.
   *
   * @param iterator The job.
   * @param cooperator Where it runs.
   * @throws {TypeError} If `iterator` has no `next` method.
   */
  constructor(iterator: I, cooperator: Cooperator) {
    if (typeof (iterator as { next?: unknown } | null)?.next !== "function") {
      throw new TypeError(`Cannot cooperate on something that is not an iterator: ${iterator}`);
    }
    this.#iterator = iterator;
    this.#host = taskHost(cooperator);
    this.#host.add(this as CooperativeTask<Iterator<unknown>>);
  }

  /**
   * A Deferred of the end of the job; each call gives a new one.
   *
   * @returns A Deferred that fires with the iterator once it is exhausted, or
   * fails with the error it threw (or that a Deferred it yielded failed with),
   * {@linkcode TaskStopped} or {@linkcode SchedulerStopped}.
   */
  whenDone(): Deferred<I> {
    const d = new Deferred<I>();
    if (this.#state === "running") this.#waiters.push(d);
    else fire(d, this.#result);
    return d;
  }

  /**
   * Stops doing the job's work until {@linkcode CooperativeTask.resume}; calls
   * are counted, so two pauses need two resumes.
   *
   * @throws {TaskFinished} The subclass for how the task finished, if it has.
   */
  pause(): void {
    this.#checkFinish();
    this.#pauseCount++;
    if (this.#pauseCount === 1) this.#host.remove(this as CooperativeTask<Iterator<unknown>>);
  }

  /**
   * Undoes one `pause()`; after the last, the job's work goes on (if it has
   * not finished meanwhile).
   *
   * @throws {NotPaused} If the task is not paused.
   */
  resume(): void {
    if (this.#pauseCount === 0) throw new NotPaused();
    this.#pauseCount--;
    if (this.#pauseCount === 0 && this.#state === "running") {
      this.#host.add(this as CooperativeTask<Iterator<unknown>>);
    }
  }

  /**
   * Stops the job for good: its `whenDone()` Deferreds fail with
   * {@linkcode TaskStopped}. The iterator is not closed.
   *
   * @throws {TaskFinished} The subclass for how the task finished, if it has:
   * {@linkcode TaskDone} after the job ran to its end.
   */
  stop(): void {
    this.#checkFinish();
    this.#completeWith("stopped", new Failure(new TaskStopped()), true);
  }

  #checkFinish(): void {
    switch (this.#state) {
      case "running":
        return;
      case "done":
        throw new TaskDone();
      case "stopped":
        throw new TaskStopped();
      case "failed":
        throw new TaskFailed();
      case "schedulerStopped":
        throw new SchedulerStopped();
    }
  }

  // Records the end and fires the waiters; the task leaves the cooperator
  // first, so that a waiter may stop the cooperator or other tasks.
  #completeWith(state: TaskState, result: unknown, remove: boolean): void {
    this.#state = state;
    this.#result = result;
    if (remove && this.#pauseCount === 0) {
      this.#host.remove(this as CooperativeTask<Iterator<unknown>>);
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const d of waiters) fire(d, result);
  }

  #oneWorkUnit(): void {
    let step: IteratorResult<unknown>;
    try {
      step = this.#iterator.next();
    } catch (error) {
      this.#completeWith("failed", Failure.from(error), true);
      return;
    }
    if (step.done) {
      this.#completeWith("done", this.#iterator, true);
      return;
    }
    const value = step.value;
    let wait: Deferred<unknown> | undefined;
    if (value instanceof Deferred) wait = value;
    else if (_isThenable(value)) wait = Deferred.fromPromise(value);
    if (wait === undefined) return;
    this.pause();
    wait.addCallbacks(
      () => {
        // Unless an extra resume() from outside has undone our pause already.
        if (this.#pauseCount > 0) this.resume();
      },
      (failure: Failure) => {
        if (this.#state !== "running") return failure;
        this.#completeWith("failed", failure, true);
        return undefined;
      },
    );
  }
}

function fire<I>(d: Deferred<I>, result: unknown): void {
  if (result instanceof Failure) d.errback(result);
  else d.callback(result as I);
}

const theCooperator = new Cooperator();

/**
 * Runs `iterator` as a long job in the process-wide {@linkcode Cooperator},
 * sharing the event loop with every other job given to it: each `next()` is
 * one unit of work, and a yielded Deferred pauses the job until it fires.
 * Break heavy work into small steps and hand it here, and the program stays
 * responsive.
 *
 * @param iterator The job; usually a generator.
 * @returns The task, to pause, resume, stop or wait for.
 * @throws {TypeError} If `iterator` has no `next` method.
 *
 * @example Summing in the background
 * ```ts
 * import { cooperate } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * let sum = 0;
 * function* work() {
 *   for (let i = 1; i <= 100; i++) yield (sum += i);
 * }
 * await cooperate(work()).whenDone();
 * assert.equal(sum, 5050);
 * ```
 */
export function cooperate<I extends Iterator<unknown>>(iterator: I): CooperativeTask<I> {
  return theCooperator.cooperate(iterator);
}

/**
 * Runs `iterator` as a long job in the process-wide {@linkcode Cooperator},
 * like {@linkcode cooperate}, giving only a Deferred of its end.
 *
 * @param iterator The job; usually a generator.
 * @returns A Deferred that fires with `iterator` once it is exhausted, or
 * fails with its error.
 * @throws {TypeError} If `iterator` has no `next` method.
 *
 * @example Waiting for a job
 * ```ts
 * import { coiterate } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const seen: number[] = [];
 * const job = [1, 2, 3].values().map((n) => seen.push(n * 10));
 * assert.equal(await coiterate(job), job);
 * assert.deepEqual(seen, [10, 20, 30]);
 * ```
 */
export function coiterate<I extends Iterator<unknown>>(iterator: I): Deferred<I> {
  return theCooperator.coiterate(iterator);
}
