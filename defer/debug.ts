import type { Failure } from "./failure.ts";

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
 * (starting "Unhandled error in Deferred:"), `failure` the failure itself.
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
 */
export class DebugInfo {
  failResult: Failure | undefined = undefined;
  creator: string | undefined = undefined;
  invoker: string | undefined = undefined;
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
