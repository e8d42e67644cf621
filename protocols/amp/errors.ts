// The errors of AMP: the base class, the wire-level violations, and the
// errors that travel between peers as codes.

/**
 * The base class of every AMP error, so that one `instanceof` (or
 * `failure.check(AmpError)`) catches them all.
 *
 * @example
 * ```ts
 * import { AmpError, TooLong } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new TooLong({ isKey: true, isLocal: false, length: 300 }) instanceof AmpError);
 * ```
 */
export class AmpError extends Error {
  /**
   * Makes the error.
   *
   * @param message What went wrong.
   * @param options The `cause`, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AmpError";
  }
}

/** Where a {@linkcode TooLong} was found: see its fields. */
export interface TooLongOptions {
  /** Whether the string was a key (else a value, or a whole box). */
  isKey: boolean;
  /** Whether it was being encoded here (else it came from the peer). */
  isLocal: boolean;
  /** How long it was, in bytes. */
  length: number;
  /** For a value: the key it belongs to. */
  keyName?: string;
  /** A limit other than the key or value limit, such as the box limit. */
  limit?: number;
}

/**
 * One of AMP's length limits was broken: a key longer than 255 bytes (or an
 * empty key where one is needed), a value longer than 65,535 bytes, or a box
 * longer than {@linkcode AMP.maxBoxLength}. Raised locally when encoding; a
 * peer that sends one has its connection closed, and calls still waiting
 * fail with this error.
 *
 * Divergence from Twisted: it keeps the length, not the string itself, and
 * also reports a box over torsion's box limit (Twisted has none).
 *
 * @example Encoding a key that is too long
 * ```ts
 * import { encodeBox, TooLong } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => encodeBox(new Map([["k".repeat(256), new Uint8Array(0)]])), TooLong);
 * ```
 */
export class TooLong extends AmpError {
  /** Whether the string was a key. */
  readonly isKey: boolean;
  /** Whether it was being encoded here, rather than received. */
  readonly isLocal: boolean;
  /** Its length in bytes. */
  readonly length: number;
  /** For a value, its key. */
  readonly keyName: string | undefined;

  /**
   * Makes the error; the message says what was too long and the limit.
   *
   * @param options What was too long, and where.
   */
  constructor(options: TooLongOptions) {
    const where = options.isLocal ? "local" : "remote";
    const limit = options.limit ?? (options.isKey ? 255 : 65535);
    const what = options.limit !== undefined
      ? "box"
      : options.isKey
      ? "key"
      : `value for key ${JSON.stringify(options.keyName ?? "")}`;
    super(
      options.isKey && options.length === 0
        ? `Empty ${where} key: a key must be 1 to 255 bytes long`
        : `The ${where} ${what} is too long: ${options.length} bytes (at most ${limit})`,
    );
    this.name = "TooLong";
    this.isKey = options.isKey;
    this.isLocal = options.isLocal;
    this.length = options.length;
    this.keyName = options.keyName;
  }
}

/**
 * A box arrived with none of `_command`, `_answer` or `_error`: the peer is
 * not speaking AMP, so the connection is closed and calls still waiting fail
 * with this error.
 *
 * @example
 * ```ts
 * import { NoEmptyBoxes } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new NoEmptyBoxes("no command").name, "NoEmptyBoxes");
 * ```
 */
export class NoEmptyBoxes extends AmpError {
  /**
   * Makes the error.
   *
   * @param message What the box held.
   */
  constructor(message: string) {
    super(message);
    this.name = "NoEmptyBoxes";
  }
}

/**
 * A box that breaks AMP's rules other than length: an answer or error to a
 * question never asked, or an error box without `_error_code`. The connection
 * is closed, and calls still waiting fail with this error. Also thrown by
 * {@linkcode parseBoxes} for bytes that end inside a box.
 *
 * @example
 * ```ts
 * import { MalformedAmpBox, parseBoxes } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseBoxes(Uint8Array.of(0, 1, 0x61)), MalformedAmpBox);
 * ```
 */
export class MalformedAmpBox extends AmpError {
  /**
   * Makes the error.
   *
   * @param message What was wrong.
   */
  constructor(message: string) {
    super(message);
    this.name = "MalformedAmpBox";
  }
}

/**
 * The arguments of a call do not fit its command: a required one is missing,
 * or one is not in the command's schema. Also raised when a received box
 * lacks a required key.
 *
 * @example
 * ```ts
 * import { InvalidSignature } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new InvalidSignature("forgot b for Sum").message, "forgot b for Sum");
 * ```
 */
export class InvalidSignature extends AmpError {
  /**
   * Makes the error.
   *
   * @param message Which arguments were wrong.
   */
  constructor(message: string) {
    super(message);
    this.name = "InvalidSignature";
  }
}

/**
 * A responder returned something its command's response schema cannot
 * encode. It is logged where it happened and the caller gets `UNKNOWN`.
 *
 * @example
 * ```ts
 * import { BadLocalReturn } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const error = new BadLocalReturn("Sum's responder", new TypeError("not a number"));
 * assert.match(error.message, /not a number/);
 * ```
 */
export class BadLocalReturn extends AmpError {
  /**
   * Makes the error.
   *
   * @param what Whose return it was.
   * @param cause Why it could not be encoded.
   */
  constructor(what: string, cause: unknown) {
    super(`${what} returned a value that cannot be encoded: ${messageOf(cause)}`, { cause });
    this.name = "BadLocalReturn";
  }
}

/**
 * An error the peer reported for a call, with the code and description it
 * sent. A call fails with this class when the command does not map the code
 * to a class of its own; `UNKNOWN` gives its subclass
 * {@linkcode UnknownRemoteError} and `UNHANDLED` its subclass
 * {@linkcode UnhandledCommand}.
 *
 * A responder may also throw one to send any code: it travels as
 * `errorCode`, and closes the connection afterwards when `fatal` is set.
 *
 * Divergence from Twisted: codes and descriptions are strings (UTF-8 on the
 * wire), and a code the command does not map keeps its value (Twisted turns
 * it into `UNKNOWN`).
 *
 * @example Telling codes apart
 * ```ts
 * import { RemoteAmpError } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const error = new RemoteAmpError("QUOTA", "Too many requests");
 * assert.equal(error.errorCode, "QUOTA");
 * assert.equal(error.message, "Code<QUOTA>: Too many requests");
 * ```
 */
export class RemoteAmpError extends AmpError {
  /** The error code, as on the wire. */
  readonly errorCode: string;
  /** The text that came with it. */
  readonly description: string;
  /** Whether the connection closes once this error has been sent. */
  readonly fatal: boolean;

  /**
   * Makes the error.
   *
   * @param errorCode The code.
   * @param description The text for people.
   * @param fatal Whether sending it closes the connection.
   */
  constructor(errorCode: string, description: string, fatal: boolean = false) {
    super(`Code<${errorCode}>: ${description}`);
    this.name = "RemoteAmpError";
    this.errorCode = errorCode;
    this.description = description;
    this.fatal = fatal;
  }
}

/**
 * The peer failed with an error its command does not map: the code
 * `UNKNOWN`. The peer logged the details and, as Twisted does, closed the
 * connection after answering.
 *
 * @example
 * ```ts
 * import { UnknownRemoteError } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new UnknownRemoteError("Unknown Error").errorCode, "UNKNOWN");
 * ```
 */
export class UnknownRemoteError extends RemoteAmpError {
  /**
   * Makes the error.
   *
   * @param description The text the peer sent.
   */
  constructor(description: string) {
    super("UNKNOWN", description);
    this.name = "UnknownRemoteError";
  }
}

/**
 * The peer has no responder for the command: the code `UNHANDLED`.
 *
 * Divergence from Twisted: a subclass of {@linkcode RemoteAmpError}, so that
 * `errorCode` and `description` are there (Twisted's is a plain `AmpError`).
 *
 * @example
 * ```ts
 * import { RemoteAmpError, UnhandledCommand } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const error = new UnhandledCommand("Unhandled Command: b'Nope'");
 * assert.ok(error instanceof RemoteAmpError);
 * assert.equal(error.errorCode, "UNHANDLED");
 * ```
 */
export class UnhandledCommand extends RemoteAmpError {
  /**
   * Makes the error.
   *
   * @param description The text the peer sent.
   */
  constructor(description: string) {
    super("UNHANDLED", description);
    this.name = "UnhandledCommand";
  }
}

/** The message of an error, or the value as text. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  const value = (error as { value?: unknown } | null)?.value;
  if (value instanceof Error) return value.message;
  return String(error);
}
