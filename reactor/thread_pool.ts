import { Worker } from "node:worker_threads";
import { Deferred } from "../defer/deferred.ts";
import { Failure } from "../defer/failure.ts";
import { Logger } from "./log.ts";

import {
  type JobMessage,
  type ResultMessage,
  type SerializedError,
  WORKER_MODULE_URL,
} from "./_thread_worker.ts";

const logger = new Logger("threads");

/** Twisted's default `maxthreads`. */
const DEFAULT_MAX_WORKERS = 10;

interface Job {
  readonly id: number;
  readonly src: string;
  readonly args: unknown[];
  // Set for deferToThread; callInThread jobs log their errors instead.
  readonly deferred: Deferred<unknown> | undefined;
  worker: PoolWorker | undefined;
}

interface PoolWorker {
  readonly worker: Worker;
  job: Job | undefined;
}

/**
 * A pool of Web Workers that runs functions off the main thread: the Deno
 * counterpart of Twisted's `ThreadPool`, behind `deferToThread` and
 * `reactor.callInThread`.
 *
 * JavaScript has no shared-memory threads, so a function crosses to a worker
 * as **source text** (`fn.toString()`): it must be self-contained, using only
 * its parameters, globals (`Deno`, `fetch`, ...) and dynamic `import()`s of
 * absolute specifiers. Arguments and results are structured-cloned. A closure
 * over a variable of the calling module fails in the worker with a
 * `ReferenceError` that says so. Native and bound functions and classes are
 * refused up front with a `TypeError`; a method (`m() {}` in a class or an
 * object literal) is accepted and called with `this` undefined. A function may
 * be `async`: the job lasts until its promise settles.
 *
 * Workers start on demand, up to {@linkcode ThreadPool.maxWorkers}, and are
 * reused; jobs beyond that wait in a queue, first in, first out. An idle
 * worker does not keep the process alive (workers come from
 * `node:worker_threads` so they can be `unref()`ed; a busy one is `ref()`ed),
 * so a script that uses threads exits by itself. {@linkcode ThreadPool.stop}
 * ends every worker once the queue has drained; the pool starts new workers if
 * it is used again.
 *
 * Cancelling a job's Deferred takes it off the queue, or, if it is running,
 * terminates its worker (a fresh one replaces it on demand); either way the
 * Deferred fails with `CancelledError`. This is where workers beat Python
 * threads: a running job *can* be stopped.
 *
 * Divergences from Twisted: no `minthreads` (workers are started on demand
 * only) and no `start()` (the pool is usable at once).
 *
 * @example Running a function in a worker
 * ```ts
 * import { ThreadPool } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const pool = new ThreadPool(2);
 * const sum = await pool.deferToThread((n: number) => {
 *   let total = 0;
 *   for (let i = 1; i <= n; i++) total += i;
 *   return total;
 * }, 1000);
 * assert.equal(sum, 500500);
 * await pool.stop();
 * ```
 */
export class ThreadPool {
  #max: number;
  #workers = new Set<PoolWorker>();
  #idle: PoolWorker[] = [];
  #queue: Job[] = [];
  #queueHead = 0;
  #nextId = 1;
  #stopping = false;
  #stopWaiters: Deferred<void>[] = [];
  #terminations = new Set<Promise<unknown>>();

  /**
   * Makes an empty pool; workers start when jobs arrive.
   *
   * @param maxWorkers The most workers to run at once: 10 by default, as
   * Twisted's reactor pool (each Deno worker is a full V8 isolate, so more
   * than the machine's cores rarely helps CPU-bound work).
   * @throws {TypeError} If `maxWorkers` is not a number.
   * @throws {RangeError} If it is not a positive integer.
   */
  constructor(maxWorkers: number = DEFAULT_MAX_WORKERS) {
    this.#max = checkSize(maxWorkers);
  }

  /** The most workers the pool runs at once. */
  get maxWorkers(): number {
    return this.#max;
  }

  /** How many workers exist now, busy or idle. */
  get workers(): number {
    return this.#workers.size;
  }

  /** How many jobs wait for a free worker. */
  get pending(): number {
    return this.#queue.length - this.#queueHead;
  }

  /**
   * Changes the most workers the pool runs at once. Extra idle workers are
   * ended at once, extra busy ones when their job is done.
   *
   * @param maxWorkers The new maximum.
   * @throws {TypeError} If `maxWorkers` is not a number.
   * @throws {RangeError} If it is not a positive integer.
   */
  adjustPoolsize(maxWorkers: number): void {
    this.#max = checkSize(maxWorkers);
    while (this.#workers.size > this.#max && this.#idle.length > 0) {
      this.#terminate(this.#idle.pop()!);
    }
    this.#schedule();
  }

  /**
   * Runs `fn(...args)` in a worker.
   *
   * @param fn A self-contained function (see the class documentation).
   * @param args Its arguments, structured-cloned to the worker.
   * @returns A Deferred of its result (awaited, if it is a promise), or of the
   * error it threw, rebuilt with the original name, message and stack.
   * Cancelling it stops the job (see the class documentation).
   * @throws {TypeError} If `fn` cannot be sent to a worker.
   */
  deferToThread<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: A
  ): Deferred<Awaited<R>> {
    const src = workerSource(fn, "deferToThread");
    let job: Job | undefined = undefined;
    const d = new Deferred<Awaited<R>>(() => this.#cancel(job!));
    job = { id: this.#nextId++, src, args, deferred: d as Deferred<unknown>, worker: undefined };
    this.#enqueue(job);
    return d;
  }

  /**
   * Runs `fn(...args)` in a worker and forgets about it; an error it throws
   * is logged (namespace `threads`), as Twisted logs it.
   *
   * @param fn A self-contained function (see the class documentation).
   * @param args Its arguments, structured-cloned to the worker.
   * @throws {TypeError} If `fn` cannot be sent to a worker.
   */
  callInThread<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    const src = workerSource(fn, "callInThread");
    this.#enqueue({ id: this.#nextId++, src, args, deferred: undefined, worker: undefined });
  }

  /**
   * Ends every worker once the queued and running jobs are done: idle
   * workers at once, busy ones as they finish. The reactor calls this during
   * shutdown. Using the pool again afterwards starts new workers.
   *
   * @returns A Deferred that fires when every worker has ended.
   */
  stop(): Deferred<void> {
    const d = new Deferred<void>();
    this.#stopping = true;
    this.#stopWaiters.push(d);
    while (this.#idle.length > 0) this.#terminate(this.#idle.pop()!);
    this.#checkStopped();
    return d;
  }

  #enqueue(job: Job): void {
    this.#queue.push(job);
    this.#schedule();
  }

  // Starts queued jobs on idle workers, starting workers up to the maximum.
  #schedule(): void {
    while (this.#queueHead < this.#queue.length) {
      let pw = this.#idle.pop();
      if (pw === undefined) {
        if (this.#workers.size >= this.#max) return;
        pw = this.#spawn();
      }
      const job = this.#queue[this.#queueHead];
      this.#queue[this.#queueHead++] = undefined as unknown as Job;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      this.#start(job, pw);
    }
  }

  #start(job: Job, pw: PoolWorker): void {
    const message: JobMessage = { id: job.id, src: job.src, args: job.args };
    try {
      pw.worker.postMessage(message);
    } catch (error) {
      // The arguments cannot be cloned: the worker stays idle.
      this.#idle.push(pw);
      this.#settle(job, false, error);
      return;
    }
    job.worker = pw;
    pw.job = job;
    pw.worker.ref();
  }

  #spawn(): PoolWorker {
    const worker = new Worker(WORKER_MODULE_URL);
    const pw: PoolWorker = { worker, job: undefined };
    worker.on("message", (message: ResultMessage) => this.#onMessage(pw, message));
    worker.on("error", (error: unknown) => this.#onGone(pw, error));
    worker.on("exit", (code: number) => {
      this.#onGone(pw, new Error(`The worker running the job exited with code ${code}`));
    });
    this.#workers.add(pw);
    return pw;
  }

  #onMessage(pw: PoolWorker, message: ResultMessage): void {
    const job = pw.job;
    if (job === undefined || job.id !== message.id || !this.#workers.has(pw)) return;
    job.worker = undefined;
    pw.job = undefined;
    pw.worker.unref();
    this.#release(pw);
    if (message.ok) this.#settle(job, true, message.value);
    else this.#settle(job, false, deserialize(message.error));
  }

  // A worker that is free again takes the next job, or ends when the pool
  // shrank or is stopping, or waits.
  #release(pw: PoolWorker): void {
    if (this.#workers.size > this.#max) {
      this.#terminate(pw);
    } else if (this.#queueHead < this.#queue.length) {
      this.#idle.push(pw);
      this.#schedule();
    } else if (this.#stopping) {
      this.#terminate(pw);
    } else {
      this.#idle.push(pw);
    }
  }

  // The worker died on its own (an uncaught error in it, or it exited).
  #onGone(pw: PoolWorker, error: unknown): void {
    if (!this.#workers.has(pw)) return;
    const job = pw.job;
    this.#terminate(pw);
    if (job !== undefined) {
      job.worker = undefined;
      this.#settle(job, false, error);
    }
    this.#schedule();
  }

  #cancel(job: Job): void {
    const pw = job.worker;
    if (pw !== undefined) {
      job.worker = undefined;
      pw.job = undefined;
      this.#terminate(pw);
      this.#schedule();
      return;
    }
    const index = this.#queue.indexOf(job, this.#queueHead);
    if (index !== -1) this.#queue.splice(index, 1);
    // The Deferred then fails with CancelledError.
  }

  #terminate(pw: PoolWorker): void {
    this.#workers.delete(pw);
    const i = this.#idle.indexOf(pw);
    if (i !== -1) this.#idle.splice(i, 1);
    const done = pw.worker.terminate().then(() => undefined, () => undefined);
    this.#terminations.add(done);
    done.then(() => {
      this.#terminations.delete(done);
      this.#checkStopped();
    });
  }

  #checkStopped(): void {
    if (!this.#stopping || this.#workers.size > 0 || this.#terminations.size > 0) return;
    this.#stopping = false;
    const waiters = this.#stopWaiters;
    this.#stopWaiters = [];
    for (const d of waiters) d.callback(undefined);
  }

  #settle(job: Job, ok: boolean, value: unknown): void {
    const d = job.deferred;
    if (d !== undefined) {
      if (d.called) return; // cancelled
      if (ok) d.callback(value);
      else d.errback(value);
    } else if (!ok) {
      logger.error("Unhandled error in a function run by callInThread", Failure.from(value));
    }
  }
}

function checkSize(n: number): number {
  if (typeof n !== "number") {
    throw new TypeError(`Thread pool size must be a number, got ${typeof n} ${String(n)}`);
  }
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Thread pool size must be a positive integer, got ${n}`);
  }
  return n;
}

// Source text is checked and turned into an expression once per function.
const sources = new WeakMap<object, string>();

/**
 * The JavaScript expression a worker evaluates to get `fn`.
 *
 * @throws {TypeError} If `fn` is not a function whose source can be sent.
 */
function workerSource(fn: unknown, caller: string): string {
  if (typeof fn !== "function") {
    throw new TypeError(`${caller} requires a function, got ${typeof fn} ${String(fn)}`);
  }
  const cached = sources.get(fn);
  if (cached !== undefined) return cached;
  const name = fn.name || "(anonymous)";
  const text = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) {
    throw new TypeError(
      `${caller} cannot send ${
        fn.name.startsWith("bound ") ? "the bound function" : "the native function"
      } ${name} to a worker: only functions written in JavaScript, unbound, can be sent as source`,
    );
  }
  if (/^class\b/.test(text)) {
    throw new TypeError(`${caller} cannot call the class ${name}: pass a function`);
  }
  let src: string | undefined;
  if (compiles(text)) {
    src = text;
  } else if (!/^(?:get|set)\s+[^\s(]/.test(text)) {
    // A method's source (`m() {}`) is not an expression; an object literal
    // around it is, and gives the method back.
    const wrapped = `((o) => o[Reflect.ownKeys(o)[0]])({ ${text}\n})`;
    if (compiles(wrapped)) src = wrapped;
  }
  if (src === undefined) {
    throw new TypeError(
      `${caller} cannot send ${name} to a worker: its source text is not a function expression ` +
        `or a method (getters and setters cannot be sent)`,
    );
  }
  sources.set(fn, src);
  return src;
}

function compiles(expression: string): boolean {
  try {
    new Function(`return (${expression}\n);`);
    return true;
  } catch {
    return false;
  }
}

const ERROR_CLASSES: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
};

function deserialize(error: SerializedError): unknown {
  if (error.kind === "value") return error.value;
  const e = error.base === "AggregateError"
    ? new AggregateError([], error.message)
    : new (ERROR_CLASSES[error.base] ?? Error)(error.message);
  if (e.name !== error.name) {
    Object.defineProperty(e, "name", {
      value: error.name,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  Object.defineProperty(e, "stack", {
    value: error.stack,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return e;
}
