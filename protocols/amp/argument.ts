// What an AMP argument type is, optional arguments, and the types that turn a
// schema of argument types into the shape of the values it carries.

/**
 * How one AMP argument travels: `encode` turns a value into the bytes of a
 * box value, `decode` turns them back. The built-in types ({@linkcode Integer},
 * {@linkcode Unicode}, {@linkcode ListOf} ...) are such objects, and so is
 * any type of your own: an object with a name and the two functions, as
 * Twisted's `Argument` subclasses override `toString` and `fromString`.
 *
 * `decode` gets bytes straight from the peer: check them, and throw a
 * `TypeError` or `RangeError` that says what was wrong. On the responder's
 * side that fails the call with `UNKNOWN`; on the caller's side the call fails
 * with your error.
 *
 * @typeParam T What `decode` gives.
 * @typeParam In What `encode` accepts (by default the same).
 *
 * @example An argument type of your own: a JSON document
 * ```ts
 * import { type ArgumentType, command } from "@torsion/torsion/protocols";
 *
 * const Json: ArgumentType<unknown> = {
 *   typeName: "Json",
 *   encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
 *   decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
 * };
 * const Store = command("Store", { doc: Json }, {});
 * ```
 */
export interface ArgumentType<T, In = T> {
  /** The type's name, for error messages. */
  readonly typeName: string;
  /**
   * Turns a value into bytes.
   *
   * @param value The value.
   * @returns At most 65,535 bytes.
   * @throws {TypeError} If the value is not of this type.
   */
  encode(value: In): Uint8Array;
  /**
   * Turns bytes from the peer into a value.
   *
   * @param bytes The box value.
   * @returns The value.
   * @throws {TypeError} If the bytes are not of this type.
   */
  decode(bytes: Uint8Array): T;
}

/**
 * An argument that may be left out: the result of {@linkcode optional}.
 * Encoding skips it when it is `undefined`; decoding leaves it out when the
 * box has no such key.
 *
 * @typeParam T What `decode` gives.
 * @typeParam In What `encode` accepts.
 */
export interface OptionalArgument<T, In = T> extends ArgumentType<T, In> {
  /** Always `true`: the mark of an optional argument. */
  readonly optional: true;
  /** The type it wraps. */
  readonly inner: ArgumentType<T, In>;
}

/**
 * Marks an argument as optional, as Twisted's `optional=True` does: it may be
 * missing from a box, and is then missing (`undefined`) in the values.
 *
 * Divergence from Twisted: a missing optional value is `undefined` (Twisted
 * gives `None`); `null` is not accepted in its place.
 *
 * @param type The argument's type.
 * @returns The same type, optional.
 * @throws {TypeError} If `type` is already optional.
 *
 * @example
 * ```ts
 * import { command, Integer, optional, Unicode } from "@torsion/torsion/protocols";
 *
 * const Greet = command("Greet", { name: Unicode, age: optional(Integer) }, { text: Unicode });
 * ```
 */
export function optional<T, In>(type: ArgumentType<T, In>): OptionalArgument<T, In> {
  checkArgumentType(type, "optional()");
  if ((type as Partial<OptionalArgument<T, In>>).optional === true) {
    throw new TypeError(`${type.typeName} is already optional`);
  }
  return {
    typeName: `optional(${type.typeName})`,
    optional: true,
    inner: type,
    encode: (value: In) => type.encode(value),
    decode: (bytes: Uint8Array) => type.decode(bytes),
  };
}

/** Throws a TypeError unless `type` looks like an {@linkcode ArgumentType}. */
export function checkArgumentType(type: unknown, where: string): void {
  const t = type as Partial<ArgumentType<unknown>> | null;
  if (
    typeof t !== "object" || t === null || typeof t.encode !== "function" ||
    typeof t.decode !== "function" || typeof t.typeName !== "string"
  ) {
    throw new TypeError(
      `${where} needs an argument type (an object with typeName, encode and decode), not ${
        typeof type === "function" ? "a function" : String(type)
      }`,
    );
  }
}

/**
 * Argument names to argument types: the arguments or the response of a
 * command, or the fields of an {@linkcode AmpList}. Names are the keys on
 * the wire, byte for byte (UTF-8, 1 to 255 bytes).
 *
 * Divergence from Twisted: names are used as they are, with no mapping of
 * `-` to `_` or of Python keywords.
 */
// deno-lint-ignore no-explicit-any
export type Schema = { readonly [name: string]: ArgumentType<any, any> };

/** Whether an argument type is optional: `true` for the result of {@linkcode optional}. */
// deno-lint-ignore no-explicit-any
export type IsOptional<A> = A extends OptionalArgument<any, any> ? true : false;

/** What an argument type decodes to. */
export type DecodedValue<A> = A extends ArgumentType<infer T, infer _In> ? T : never;

/** What an argument type encodes from. */
export type EncodedValue<A> = A extends ArgumentType<infer _T, infer In> ? In : never;

/** An object type with an intersection merged into one, for readable hover text. */
export type Flatten<T> = { [K in keyof T]: T[K] } & unknown;

/**
 * The values a schema decodes to: one property per name, optional ones
 * optional. A responder gets its command's arguments in this shape, and a
 * caller gets the response in it.
 *
 * @typeParam S The schema.
 */
export type Values<S extends Schema> = Flatten<
  & { -readonly [K in keyof S as IsOptional<S[K]> extends true ? never : K]: DecodedValue<S[K]> }
  & { -readonly [K in keyof S as IsOptional<S[K]> extends true ? K : never]?: DecodedValue<S[K]> }
>;

/**
 * The values a schema encodes from: what `callRemote` takes as arguments,
 * and what a responder returns.
 *
 * @typeParam S The schema.
 */
export type Inputs<S extends Schema> = Flatten<
  & { [K in keyof S as IsOptional<S[K]> extends true ? never : K]: EncodedValue<S[K]> }
  & { [K in keyof S as IsOptional<S[K]> extends true ? K : never]?: EncodedValue<S[K]> }
>;
