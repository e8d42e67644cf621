/**
 * A class (matched with `instanceof`) or an error name (matched against the
 * `name` of the value and of every class in its prototype chain).
 */
// deno-lint-ignore no-explicit-any
export type FailureType = string | (abstract new (...args: any[]) => unknown);

/**
 * Wraps anything that was thrown, so it can travel down an errback chain.
 *
 * JavaScript can throw any value, not only `Error`s, so a Failure keeps the
 * original value untouched in {@linkcode Failure.value} and rethrows that very
 * value from {@linkcode Failure.trap} and {@linkcode Failure.raiseException}.
 *
 * Divergence from Twisted: there are no traceback frames to keep; `stack` is
 * the JavaScript stack of the value when it is an `Error`, or a stack captured
 * when the Failure was made for any other value. There is no
 * "current exception" in JavaScript, so the value must be given.
 *
 * @example Trapping an expected error
 * ```ts
 * import { Failure } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * const f = new Failure(new RangeError("too big"));
 * assert.equal(f.trap(TypeError, RangeError), RangeError);
 * assert.equal(f.getErrorMessage(), "too big");
 * ```
 */
export class Failure {
  /** The thrown value, exactly as it was thrown. */
  readonly value: unknown;
  /** The value's constructor, or `undefined` for `null`, `undefined` and bare objects. */
  // deno-lint-ignore ban-types
  readonly type: Function | undefined;
  #stack: string | undefined;

  /**
   * Wraps `value`. Wrapping a Failure copies it, so `new Failure(f).value`
   * is `f.value`.
   *
   * @param value The thrown value.
   */
  constructor(value: unknown) {
    if (value instanceof Failure) {
      this.value = value.value;
      this.type = value.type;
      this.#stack = value.#stack;
      return;
    }
    this.value = value;
    this.type = value === null || value === undefined
      ? undefined
      : (Object.getPrototypeOf(value)?.constructor ?? undefined);
    if (!(value instanceof Error)) {
      // A thrown string or object carries no stack of its own: keep where
      // the Failure was made, which is as close to the throw as we can get.
      const holder: { stack?: string } = {};
      Error.captureStackTrace?.(holder, Failure);
      this.#stack = holder.stack ?? "";
    }
  }

  /**
   * Returns `x` itself when it is already a Failure, else a new Failure
   * wrapping it. Cheaper than the constructor when the value may already be
   * wrapped.
   *
   * @param x A thrown value or a Failure.
   * @returns A Failure for `x`.
   */
  static from(x: unknown): Failure {
    return x instanceof Failure ? x : new Failure(x);
  }

  /** The stack of the value: the `Error`'s own, or one captured at wrapping time. */
  get stack(): string {
    if (this.#stack === undefined) {
      const value = this.value as Error;
      this.#stack = typeof value.stack === "string" ? value.stack : String(value);
    }
    return this.#stack;
  }

  /**
   * Tells which of `types` the value is.
   *
   * @param types Classes or error names to test, in order.
   * @returns The first matching entry of `types`, or `null`.
   */
  check<T extends FailureType[]>(...types: T): T[number] | null {
    for (const type of types) {
      if (typeof type === "string") {
        if (matchesName(this.value, type)) return type;
      } else if (this.value instanceof (type as unknown as typeof Object)) {
        return type;
      }
    }
    return null;
  }

  /**
   * Like {@linkcode Failure.check}, but rethrows the original value when
   * nothing matches: the idiom for errbacks that handle only some errors.
   *
   * @param types Classes or error names to accept.
   * @returns The first matching entry of `types`.
   * @throws The original value when none matches.
   */
  trap<T extends FailureType[]>(...types: T): T[number] {
    const found = this.check(...types);
    if (found === null) throw this.value;
    return found;
  }

  /** The value's message: `error.message` for errors, else the value as a string. */
  getErrorMessage(): string {
    const value = this.value;
    if (value instanceof Error) return value.message;
    if (
      typeof value === "object" && value !== null &&
      typeof (value as { message?: unknown }).message === "string"
    ) {
      return (value as { message: string }).message;
    }
    return describe(value);
  }

  /**
   * A printable report of the failure: for an `Error`, its stack (which
   * starts with its name and message) followed by its `cause` chain.
   */
  getTraceback(): string {
    const value = this.value;
    if (!(value instanceof Error)) {
      const rest = this.stack.split("\n").slice(1).join("\n");
      return rest ? `${describe(value)}\n${rest}` : describe(value);
    }
    const lines = [this.stack];
    let cause: unknown = value.cause;
    for (let depth = 0; cause !== undefined && depth < 8; depth++) {
      lines.push(
        `Caused by: ${cause instanceof Error ? (cause.stack ?? String(cause)) : describe(cause)}`,
      );
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    return lines.join("\n");
  }

  /**
   * Throws the original value.
   *
   * @throws Always: the wrapped value.
   */
  raiseException(): never {
    throw this.value;
  }

  /** A short description, for logs and debugging. */
  toString(): string {
    const name = this.type?.name ?? typeof this.value;
    return `[Failure ${name}: ${this.getErrorMessage()}]`;
  }
}

function matchesName(value: unknown, name: string): boolean {
  if (value === null || value === undefined) return false;
  if (value instanceof Error && value.name === name) return true;
  for (
    let proto = Object.getPrototypeOf(value);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (Object.hasOwn(proto, "constructor") && proto.constructor?.name === name) return true;
  }
  return false;
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
