/**
 * The runner's error for bad command-line input.
 *
 * @module
 */

/**
 * Bad command-line input: the runner prints the message and a usage hint
 * and exits 2. A {@linkcode ServiceMaker}'s `makeService` throws it for a
 * bad option value. The runner recognises it by its `name`, so one thrown
 * by another copy of torsion counts too.
 *
 * @example Refusing a bad value
 * ```ts
 * import { UsageError } from "@torsion/torsion/application";
 * import assert from "node:assert/strict";
 *
 * function port(text: string): number {
 *   const port = Number(text);
 *   if (!Number.isInteger(port)) throw new UsageError(`--port must be a number, not ${text}`);
 *   return port;
 * }
 * assert.throws(() => port("eighty"), UsageError);
 * ```
 */
export class UsageError extends Error {
  /** The plugin whose usage applies, if any. */
  readonly plugin: string | undefined;

  /**
   * Makes the error.
   *
   * @param message What was wrong.
   * @param plugin The plugin whose usage applies.
   */
  constructor(message: string, plugin?: string) {
    super(message);
    this.name = "UsageError";
    this.plugin = plugin;
  }
}

/** Whether `error` is a {@linkcode UsageError}, from any copy of torsion. */
export function _isUsageError(error: unknown): error is Error & { plugin?: string } {
  return error instanceof Error && error.name === "UsageError";
}
