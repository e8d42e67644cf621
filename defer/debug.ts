import { Failure } from "./failure.ts";

let debugging = false;

/**
 * Turns on (or off) the recording of where each Deferred is created and first
 * fired. The stacks then appear in {@linkcode AlreadyCalledError} messages and
 * in unhandled-error reports. It costs a stack capture per Deferred, so leave
 * it off in production and turn it on while hunting a double `callback()`.
 *
 * @param on Whether to record.
 *
 * @example
 * ```ts
 * import { getDebugging, setDebugging } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * setDebugging(true);
 * assert.equal(getDebugging(), true);
 * setDebugging(false);
 * ```
 */
export function setDebugging(on: boolean): void {
  debugging = Boolean(on);
}

/**
 * Whether {@linkcode setDebugging} is on.
 *
 * @returns The current setting.
 *
 * @example
 * ```ts
 * import { getDebugging } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getDebugging(), false);
 * ```
 */
export function getDebugging(): boolean {
  return debugging;
}

/**
 * Receives the report of a failed Deferred that was garbage-collected with
 * nobody having handled its failure: `message` is the printable report
 * (starting "Unhandled error in Deferred:"), `failure` the failure.
 *
 * When the failure's value is an `Error`, `failure.value` is a copy of it:
 * same class, `name`, `message`, `stack`, `cause` chain and primitive
 * properties, but not the same object. The original cannot be kept for the
 * report: an `Error` holds on to the objects on its stack when it was made,
 * which usually include the Deferred itself, so keeping it would keep the
 * Deferred alive and the report would never come.
 */
export type UnhandledErrorHandler = (message: string, failure: Failure) => void;

const defaultHandler: UnhandledErrorHandler = (message) => console.error(message);
let handler: UnhandledErrorHandler = defaultHandler;

/**
 * Chooses where unhandled Deferred failures are reported. The default prints
 * them with `console.error`. Reports arrive when the garbage collector frees
 * a Deferred whose last result was a Failure, which may be long after the
 * failure happened; tests can force it with `--v8-flags=--expose-gc` and
 * `gc()`.
 *
 * @param fn The new handler, or `null` for the default.
 * @returns The handler that was in place, so it can be restored.
 *
 * @example Collecting reports in a test
 * ```ts
 * import { setUnhandledErrorHandler } from "@torsion/torsion/defer";
 *
 * const reports: string[] = [];
 * const previous = setUnhandledErrorHandler((message) => reports.push(message));
 * // ... code under test ...
 * setUnhandledErrorHandler(previous);
 * ```
 */
export function setUnhandledErrorHandler(
  fn: UnhandledErrorHandler | null,
): UnhandledErrorHandler {
  const previous = handler;
  handler = fn ?? defaultHandler;
  return previous;
}

/**
 * What survives a Deferred for the garbage-collection report. It must not
 * refer back to the Deferred, or the Deferred would never be collected.
 *
 * The Deferred sets `failResult` when it comes to rest with a failure nobody
 * has handled, and clears it when the failure is handled. The failure is held
 * only until the current job's microtasks run: if it is still unhandled then,
 * it is replaced by a detached copy, because an `Error` keeps the objects on
 * its stack (the Deferred among them) alive. Failures handled at once, as
 * after `fail(e).addErrback(...)`, never pay for the copy.
 */
export class DebugInfo {
  #failure: Failure | undefined = undefined;
  #detached: Failure | undefined = undefined;
  creator: string | undefined = undefined;
  invoker: string | undefined = undefined;

  /** The unhandled failure (or its detached copy), if any. */
  get failResult(): Failure | undefined {
    return this.#failure ?? this.#detached;
  }

  set failResult(failure: Failure | undefined) {
    this.#failure = failure;
    this.#detached = undefined;
    if (failure !== undefined) scheduleDetach(this);
  }

  /** Swaps a failure still unhandled for a copy that keeps nothing alive. */
  detach(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    this.#detached = detachFailure(failure);
  }
}

let pending: DebugInfo[] = [];

function scheduleDetach(info: DebugInfo): void {
  if (pending.length === 0) queueMicrotask(detachPending);
  pending.push(info);
}

function detachPending(): void {
  const batch = pending;
  pending = [];
  for (const info of batch) info.detach();
}

function detachFailure(failure: Failure): Failure {
  const value = failure.value;
  return value instanceof Error ? new Failure(detachError(value, 0)) : failure;
}

// A copy of `error` that refers to nothing but its prototype, strings and
// primitives: the stack is read (so formatted) now, the cause chain copied.
function detachError(error: Error, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(error)) as Error;
  // `name` and `message` too when they are inherited accessors (DOMException):
  // on the copy, those would throw.
  for (const key of new Set<PropertyKey>([...Reflect.ownKeys(error), "name", "message"])) {
    if (key === "stack") continue;
    let value: unknown;
    try {
      value = (error as unknown as Record<PropertyKey, unknown>)[key];
    } catch {
      continue;
    }
    if (key === "cause" && value instanceof Error) {
      value = depth < 8 ? detachError(value, depth + 1) : String(value);
    } else if ((typeof value === "object" && value !== null) || typeof value === "function") {
      continue;
    }
    Object.defineProperty(copy, key, { value, writable: true, configurable: true });
  }
  let stack: string;
  try {
    stack = typeof error.stack === "string" ? error.stack : String(error);
  } catch {
    stack = "";
  }
  Object.defineProperty(copy, "stack", { value: stack, writable: true, configurable: true });
  return copy;
}

const registry = new FinalizationRegistry<DebugInfo>((info) => {
  const failure = info.failResult;
  if (failure === undefined) return;
  info.failResult = undefined;
  const lines = ["Unhandled error in Deferred:"];
  if (info.creator !== undefined || info.invoker !== undefined) {
    lines.push(`(debug: ${formatDebugStacks(info.creator, info.invoker)})`);
  }
  lines.push(failure.getTraceback());
  try {
    handler(lines.join("\n"), failure);
  } catch (error) {
    console.error("Unhandled error handler failed:", error);
  }
});

/** Starts watching `deferred` for collection with its failure unhandled. */
export function watchForUnhandled(deferred: object, info: DebugInfo): void {
  registry.register(deferred, info);
}

/** The current stack without the frames of torsion's own machinery. */
export function captureStack(): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace?.(holder, captureStack);
  return (holder.stack ?? "").split("\n").slice(1).join("\n");
}

/** Formats creator (` C:`) and invoker (` I:`) stacks for messages. */
export function formatDebugStacks(creator?: string, invoker?: string): string {
  const out: string[] = [];
  for (const [tag, stack] of [[" C:", creator], [" I:", invoker]] as const) {
    if (stack === undefined) continue;
    for (const line of stack.split("\n")) if (line.trim()) out.push(`${tag} ${line.trim()}`);
  }
  return out.join("\n");
}
