// AMP commands as values: a name, the argument and response schemas, and the
// errors that travel as codes. `command()` checks and compiles them once.
import type { Inputs, Schema, Values } from "./argument.ts";
import {
  ANSWER,
  ASK,
  COMMAND,
  ERROR,
  ERROR_CODE,
  ERROR_DESCRIPTION,
  UNHANDLED_ERROR_CODE,
  UNKNOWN_ERROR_CODE,
} from "./box.ts";
import { SchemaCodec } from "./_schema.ts";
import { RemoteAmpError, UnhandledCommand, UnknownRemoteError } from "./errors.ts";

/**
 * An error class an error code stands for. The caller's side makes one with
 * the peer's description as its only argument, so its constructor must take
 * a message first.
 */
export type ErrorClass = new (message: string) => Error;

/** Error codes to the classes they stand for. */
export type ErrorMap = { readonly [code: string]: ErrorClass };

/** The options of {@linkcode command}. */
export interface CommandOptions<Answer extends boolean = boolean> {
  /**
   * Error codes to classes: a responder that throws one of these classes
   * sends its code and message, and the caller's call fails with a new
   * instance of the same class made from that message.
   */
  errors?: ErrorMap;
  /** Like `errors`, but sending one closes the connection afterwards. */
  fatalErrors?: ErrorMap;
  /**
   * Whether the caller waits for an answer (default `true`). With `false`,
   * `callRemote` sends the command without a tag and returns nothing, and
   * the peer sends nothing back.
   */
  requiresAnswer?: Answer;
}

/**
 * An AMP command: made by {@linkcode command}, given to
 * `AMP.callRemote` and `AMP.respond`. Its type carries the types of its
 * arguments and response, so calls and responders are checked.
 *
 * @typeParam A The argument schema.
 * @typeParam R The response schema.
 * @typeParam Answer Whether callers wait for an answer.
 */
export interface Command<
  A extends Schema = Schema,
  R extends Schema = Schema,
  Answer extends boolean = boolean,
> {
  /** The name on the wire (`_command`). */
  readonly commandName: string;
  /** The argument schema. */
  readonly arguments: A;
  /** The response schema. */
  readonly response: R;
  /** Error codes to classes. */
  readonly errors: ErrorMap;
  /** Error codes to classes that close the connection. */
  readonly fatalErrors: ErrorMap;
  /** Whether callers wait for an answer. */
  readonly requiresAnswer: Answer;
}

/** The arguments a command's caller passes: `Inputs` of its argument schema. */
export type ArgumentsOf<C> = C extends Command<infer A, infer _R, infer _N> ? Inputs<A> : never;
/** What a command's caller gets: `Values` of its response schema. */
export type ResponseOf<C> = C extends Command<infer _A, infer R, infer _N> ? Values<R> : never;

/** The compiled form of a command, kept out of its public shape. */
export interface CommandCodec {
  readonly command: Command;
  readonly nameBytes: Uint8Array;
  readonly arguments: SchemaCodec;
  readonly response: SchemaCodec;
  /** The code and fatality of a thrown error, or `null` for an unmapped one. */
  codeFor(error: unknown): { code: string; fatal: boolean } | null;
  /** The error a received code and description stand for. */
  errorFor(code: string, description: string): Error;
}

const codecs = new WeakMap<Command, CommandCodec>();
const encoder = new TextEncoder();
const RESERVED = [ASK, ANSWER, COMMAND, ERROR, ERROR_CODE, ERROR_DESCRIPTION];

/** The compiled form of a command made by {@linkcode command}. */
export function codecOf(cmd: Command): CommandCodec {
  const codec = codecs.get(cmd);
  if (codec === undefined) {
    throw new TypeError(`${String(cmd)} is not a command: make commands with command()`);
  }
  return codec;
}

function checkErrors(name: string, what: string, map: unknown): Array<[string, ErrorClass]> {
  if (map === undefined) return [];
  if (typeof map !== "object" || map === null) {
    throw new TypeError(`${name}: ${what} must be an object of codes to error classes`);
  }
  const entries = Object.entries(map as Record<string, unknown>);
  for (const [code, cls] of entries) {
    if (typeof cls !== "function") {
      throw new TypeError(`${name}: ${what} code ${JSON.stringify(code)} needs an error class`);
    }
    if (code === "") throw new TypeError(`${name}: an error code cannot be empty`);
  }
  return entries as Array<[string, ErrorClass]>;
}

/**
 * Defines an AMP command, as a Twisted `Command` subclass does: its name on
 * the wire, its arguments and response (names to argument types), and the
 * errors that travel as codes. The result is a value to pass to
 * `amp.callRemote()` and `amp.respond()`, and its type makes both checked:
 * `callRemote(Sum, { a: 1, b: 2 })` is a `Deferred<{ total: number }>`.
 *
 * A thrown error is matched to a code by its exact class first, then by
 * `instanceof` in the order the codes are listed.
 *
 * Divergences from Twisted: the name is given, not taken from a class name;
 * schemas are objects, not lists of pairs; codes are strings; commands do not
 * inherit errors from one another (spread one map into another instead).
 *
 * @param name The command's name on the wire (1 to 255 bytes of UTF-8 by
 * convention; Twisted sends it as a value).
 * @param args Argument names to types.
 * @param response Response names to types.
 * @param options Error codes, fatal error codes, `requiresAnswer`.
 * @returns The command.
 * @throws {TypeError} For a bad name, schema or error map, or a reserved
 * argument name such as `_ask`.
 *
 * @example A command with a mapped error
 * ```ts
 * import { command, Integer } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class DivideByZero extends Error {}
 * const Divide = command(
 *   "Divide",
 *   { numerator: Integer, denominator: Integer },
 *   { result: Integer },
 *   { errors: { ZERO_DIVISION: DivideByZero } },
 * );
 * assert.equal(Divide.commandName, "Divide");
 * assert.equal(Divide.requiresAnswer, true);
 * ```
 */
export function command<A extends Schema, R extends Schema, Answer extends boolean = true>(
  name: string,
  args: A,
  response: R,
  options: CommandOptions<Answer> = {},
): Command<A, R, Answer> {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`A command's name must be a non-empty string, not ${String(name)}`);
  }
  const errors = checkErrors(name, "errors", options.errors);
  const fatalErrors = checkErrors(name, "fatalErrors", options.fatalErrors);
  const requiresAnswer = options.requiresAnswer ?? true;
  if (typeof requiresAnswer !== "boolean") {
    throw new TypeError(`${name}: requiresAnswer must be a boolean`);
  }
  const cmd: Command<A, R, Answer> = Object.freeze({
    commandName: name,
    arguments: args,
    response,
    errors: Object.freeze(Object.fromEntries(errors)),
    fatalErrors: Object.freeze(Object.fromEntries(fatalErrors)),
    requiresAnswer: requiresAnswer as Answer,
  });
  const all: Array<[string, ErrorClass, boolean]> = [
    ...errors.map(([code, cls]): [string, ErrorClass, boolean] => [code, cls, false]),
    ...fatalErrors.map(([code, cls]): [string, ErrorClass, boolean] => [code, cls, true]),
  ];
  const byCode = new Map(all.map(([code, cls]) => [code, cls]));
  codecs.set(cmd as Command, {
    command: cmd as Command,
    nameBytes: encoder.encode(name),
    arguments: new SchemaCodec(args, [ASK, COMMAND], `${name} arguments`, RESERVED),
    response: new SchemaCodec(response, [ANSWER], `${name} response`, RESERVED),
    codeFor(error: unknown) {
      if (typeof error !== "object" || error === null) return null;
      for (const [code, cls, fatal] of all) {
        if (error.constructor === cls) return { code, fatal };
      }
      for (const [code, cls, fatal] of all) {
        if (error instanceof cls) return { code, fatal };
      }
      return null;
    },
    errorFor(code: string, description: string): Error {
      const cls = byCode.get(code);
      if (cls !== undefined) return new cls(description);
      if (code === UNKNOWN_ERROR_CODE) return new UnknownRemoteError(description);
      if (code === UNHANDLED_ERROR_CODE) return new UnhandledCommand(description);
      return new RemoteAmpError(code, description);
    },
  });
  return cmd;
}
