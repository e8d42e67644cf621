/**
 * The module each thread-pool worker runs, built from the source text of
 * {@linkcode workerMain} so that it needs no file of its own: a `data:` URL
 * works the same from a local checkout, from JSR and from a compiled binary.
 *
 * @module
 */

/** A job, as posted to a worker. */
export interface JobMessage {
  /** Matches the reply to the job. */
  id: number;
  /** A JavaScript expression that evaluates to the function to call. */
  src: string;
  /** Its arguments (structured-cloned). */
  args: unknown[];
}

/** A thrown value, as posted back by a worker. */
export type SerializedError =
  | {
    kind: "error";
    /** The nearest built-in error class: "TypeError", "Error", ... */
    base: string;
    name: string;
    message: string;
    stack: string;
  }
  | { kind: "value"; value: unknown };

/** A worker's reply to a job. */
export type ResultMessage =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: SerializedError };

/** The part of `node:worker_threads`' `parentPort` the worker uses. */
interface Port {
  on(event: "message", listener: (job: JobMessage) => void): unknown;
  postMessage(message: ResultMessage): void;
}

/**
 * The worker's whole program. It runs in the worker, from its source text,
 * so it must not refer to anything outside itself.
 *
 * @param port The worker's `parentPort`.
 */
export function workerMain(port: Port): void {
  const BUILTIN_ERRORS = [
    "TypeError",
    "RangeError",
    "ReferenceError",
    "SyntaxError",
    "EvalError",
    "URIError",
    "AggregateError",
  ];
  const HINT = "functions passed to deferToThread run in a worker and must be " +
    "self-contained: variables and imports of the calling module do not exist there";
  const MAX_CACHED = 256;
  const compiled = new Map<string, (...args: unknown[]) => unknown>();

  const serialize = (thrown: unknown): SerializedError => {
    if (!(thrown instanceof Error)) {
      try {
        structuredClone(thrown);
        return { kind: "value", value: thrown };
      } catch {
        return { kind: "value", value: String(thrown) };
      }
    }
    let base = "Error";
    for (let p = Object.getPrototypeOf(thrown); p !== null; p = Object.getPrototypeOf(p)) {
      const ctorName = Object.hasOwn(p, "constructor") ? p.constructor?.name : undefined;
      if (BUILTIN_ERRORS.includes(ctorName)) {
        base = ctorName;
        break;
      }
    }
    let message = String(thrown.message);
    let stack = typeof thrown.stack === "string" ? thrown.stack : `${thrown.name}: ${message}`;
    if (base === "ReferenceError" && / is not defined$/.test(message)) {
      const longer = `${message} (${HINT})`;
      stack = stack.replace(message, longer);
      message = longer;
    }
    return { kind: "error", base, name: String(thrown.name), message, stack };
  };

  const reply = (message: ResultMessage): void => {
    try {
      port.postMessage(message);
    } catch (error) {
      const e = error as Error;
      port.postMessage({
        id: message.id,
        ok: false,
        error: {
          kind: "error",
          base: "Error",
          name: e?.name ?? "DataCloneError",
          message: `The result of a function run by deferToThread cannot be sent back from ` +
            `its worker: ${e?.message ?? String(error)}`,
          stack: String(e?.stack ?? ""),
        },
      });
    }
  };

  port.on("message", async (job: JobMessage): Promise<void> => {
    let value: unknown;
    try {
      let fn = compiled.get(job.src);
      if (fn === undefined) {
        fn = (0, eval)(`(${job.src}\n)`) as (...args: unknown[]) => unknown;
        if (compiled.size >= MAX_CACHED) compiled.clear();
        compiled.set(job.src, fn);
      }
      value = fn.apply(undefined, job.args);
      if (typeof (value as PromiseLike<unknown> | null)?.then === "function") value = await value;
    } catch (thrown) {
      reply({ id: job.id, ok: false, error: serialize(thrown) });
      return;
    }
    reply({ id: job.id, ok: true, value });
  });
}

/** The worker module: `workerMain` called with the worker's `parentPort`. */
export const WORKER_MODULE_URL: URL = new URL(
  "data:text/javascript," +
    encodeURIComponent(
      `import { parentPort } from "node:worker_threads";\n(${workerMain.toString()})(parentPort);\n`,
    ),
);
