// AMP's scalar argument types, with Twisted's wire formats: Integer (and
// BigInteger for integers of any size), Float, Boolean, Unicode, Bytes and
// Decimal.
import type { ArgumentType } from "./argument.ts";
import { parsePythonFloat, parsePythonInt, pythonFloatRepr } from "./_python_number.ts";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** ASCII text to bytes, one byte per character. */
function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Bytes to text, one character per byte (never fails). */
function latin1(bytes: Uint8Array): string {
  if (bytes.length < 64) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return out;
}

/** A short, safe rendering of received bytes for an error message. */
export function preview(bytes: Uint8Array): string {
  const text = latin1(bytes.subarray(0, 40));
  return JSON.stringify(bytes.length > 40 ? `${text}...` : text);
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `a Uint8Array`;
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "an object";
  return String(value);
}

/** Decodes an integer: plain digits at once, anything else as Python's `int()` would. */
function decodeBigInt(bytes: Uint8Array, typeName: string): bigint {
  const value = parsePythonInt(latin1(bytes));
  if (value === null) throw new TypeError(`Bad ${typeName} value: ${preview(bytes)}`);
  return value;
}

/**
 * An integer, written in decimal: Twisted's `Integer`. Values are JavaScript
 * numbers, so only safe integers (±(2⁵³ − 1)) fit: encoding anything else is
 * a `TypeError` (not an integer) or `RangeError` (too large), and so is
 * decoding an integer outside that range. Use {@linkcode BigInteger}, which
 * has the same wire format, for integers of any size.
 *
 * Decoding accepts what Python's `int()` does (a sign, surrounding
 * whitespace, `_` between digits), so anything Twisted reads, this reads.
 *
 * @example
 * ```ts
 * import { Integer } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...Integer.encode(-42)], [...new TextEncoder().encode("-42")]);
 * assert.equal(Integer.decode(new TextEncoder().encode("1_000")), 1000);
 * assert.throws(() => Integer.decode(new TextEncoder().encode("9007199254740993")), RangeError);
 * ```
 */
export const Integer: ArgumentType<number> = {
  typeName: "Integer",
  encode(value: number): Uint8Array {
    if (!Number.isSafeInteger(value)) {
      if (typeof value === "number" && Number.isInteger(value)) {
        throw new RangeError(
          `Integer ${value} is outside the safe integer range: use BigInteger for large integers`,
        );
      }
      throw new TypeError(`Bad Integer value: ${describe(value)} is not an integer`);
    }
    return ascii(String(value));
  },
  decode(bytes: Uint8Array): number {
    return decodeIntegerAt(bytes, 0, bytes.length);
  },
};

/** {@linkcode Integer}'s decode of `bytes[from, to)`, with no view made for plain digits. */
export function decodeIntegerAt(bytes: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n > 0 && n < 16) {
    // Fast path: an optional minus sign and up to 15 digits is always safe.
    const negative = bytes[from] === 0x2d;
    let i = negative ? from + 1 : from;
    let value = 0;
    if (i < to) {
      for (; i < to; i++) {
        const d = bytes[i] - 0x30;
        if (d < 0 || d > 9) break;
        value = value * 10 + d;
      }
      if (i === to) return negative ? -value || 0 : value;
    }
  }
  return decodeSafeInteger(bytes.subarray(from, to));
}

function decodeSafeInteger(bytes: Uint8Array): number {
  const value = decodeBigInt(bytes, "Integer");
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(
      `Integer ${value} is outside the safe integer range: use BigInteger for large integers`,
    );
  }
  return Number(value);
}

/**
 * An integer of any size, as a `bigint`, in the same decimal wire format as
 * {@linkcode Integer} (and Twisted's `Integer`, which has no size limit). It
 * also encodes safe-integer numbers.
 *
 * @example
 * ```ts
 * import { BigInteger } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const bytes = BigInteger.encode(2n ** 100n);
 * assert.equal(BigInteger.decode(bytes), 1267650600228229401496703205376n);
 * ```
 */
export const BigInteger: ArgumentType<bigint, bigint | number> = {
  typeName: "BigInteger",
  encode(value: bigint | number): Uint8Array {
    if (typeof value === "number") return Integer.encode(value);
    if (typeof value !== "bigint") {
      throw new TypeError(`Bad BigInteger value: ${describe(value)} is not a bigint`);
    }
    return ascii(value.toString());
  },
  decode(bytes: Uint8Array): bigint {
    return decodeBigInt(bytes, "BigInteger");
  },
};

/**
 * A floating-point number, written as Python's `repr()` writes it (`1.0`,
 * `1e-05`, `1e+16`, `nan`, `inf`, `-inf`), so the bytes are Twisted's own.
 * Decoding accepts what Python's `float()` does.
 *
 * Divergence from Twisted: encoding takes any number (Twisted refuses an
 * `int` for a `Float`); JavaScript has one number type.
 *
 * @example
 * ```ts
 * import { Float } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const text = (x: number) => new TextDecoder().decode(Float.encode(x));
 * assert.deepEqual([text(1), text(0.1), text(1e16), text(-Infinity)], ["1.0", "0.1", "1e+16", "-inf"]);
 * assert.ok(Number.isNaN(Float.decode(new TextEncoder().encode("nan"))));
 * ```
 */
export const Float: ArgumentType<number> = {
  typeName: "Float",
  encode(value: number): Uint8Array {
    if (typeof value !== "number") {
      throw new TypeError(`Bad Float value: ${describe(value)} is not a number`);
    }
    return ascii(pythonFloatRepr(value));
  },
  decode(bytes: Uint8Array): number {
    const value = parsePythonFloat(latin1(bytes));
    if (value === null) throw new TypeError(`Bad Float value: ${preview(bytes)}`);
    return value;
  },
};

const TRUE = ascii("True");
const FALSE = ascii("False");

/**
 * `true` or `false`, written `True` or `False` as in Twisted; any other bytes
 * are a `TypeError` when decoding.
 *
 * Divergence from Twisted: encoding takes only booleans (Twisted takes any
 * value and writes its truth).
 *
 * @example
 * ```ts
 * import { Boolean } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TextDecoder().decode(Boolean.encode(true)), "True");
 * assert.equal(Boolean.decode(new TextEncoder().encode("False")), false);
 * ```
 */
export const Boolean: ArgumentType<boolean> = {
  typeName: "Boolean",
  encode(value: boolean): Uint8Array {
    if (value === true) return TRUE;
    if (value === false) return FALSE;
    throw new TypeError(`Bad Boolean value: ${describe(value)} is not a boolean`);
  },
  decode(bytes: Uint8Array): boolean {
    if (bytes.length === 4 && bytes[0] === 0x54 && latin1(bytes) === "True") return true;
    if (bytes.length === 5 && latin1(bytes) === "False") return false;
    throw new TypeError(`Bad Boolean value: ${preview(bytes)}`);
  },
};

/**
 * Text, sent as UTF-8: Twisted's `Unicode`. Decoding invalid UTF-8 is a
 * `TypeError`, as it is an error in Twisted; a byte-order mark is kept as
 * text. Encoding a string with a lone surrogate (which has no UTF-8 form) is
 * a `TypeError` too.
 *
 * @example
 * ```ts
 * import { Unicode } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.equal(Unicode.encode("héllo").length, 6);
 * assert.equal(Unicode.decode(Unicode.encode("☃")), "☃");
 * ```
 */
export const Unicode: ArgumentType<string> = {
  typeName: "Unicode",
  encode(value: string): Uint8Array {
    if (typeof value !== "string") {
      throw new TypeError(`Bad Unicode value: ${describe(value)} is not a string`);
    }
    if (!value.isWellFormed()) {
      throw new TypeError("Bad Unicode value: the string has a lone surrogate");
    }
    return encoder.encode(value);
  },
  decode(bytes: Uint8Array): string {
    try {
      return strictDecoder.decode(bytes);
    } catch {
      throw new TypeError(`Bad Unicode value: not valid UTF-8: ${preview(bytes)}`);
    }
  },
};

/**
 * Raw bytes, passed through unchanged: Twisted's `String` (renamed, since
 * in JavaScript a string is text).
 *
 * @example
 * ```ts
 * import { Bytes } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(Bytes.decode(Uint8Array.of(0, 255)), Uint8Array.of(0, 255));
 * ```
 */
export const Bytes: ArgumentType<Uint8Array> = {
  typeName: "Bytes",
  encode(value: Uint8Array): Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`Bad Bytes value: ${describe(value)} is not a Uint8Array`);
    }
    return value;
  },
  decode(bytes: Uint8Array): Uint8Array {
    return bytes;
  },
};

const DECIMAL_DIGITS = "\\d(?:_?\\d)*";
const DECIMAL = new RegExp(
  `^[+-]?(?:(?:${DECIMAL_DIGITS}(?:\\.(?:${DECIMAL_DIGITS})?)?|\\.${DECIMAL_DIGITS})` +
    `(?:e[+-]?${DECIMAL_DIGITS})?|inf(?:inity)?|s?nan(?:${DECIMAL_DIGITS})?)$`,
  "i",
);

/**
 * An exact decimal number, kept as its string (JavaScript has no decimal
 * type), such as `"1.50"`, `"-1E+2"`, `"Infinity"` or `"NaN"`: Twisted's
 * `Decimal`, whose wire format is the string. Both directions check the
 * syntax of Python's `decimal.Decimal`; decoding drops surrounding
 * whitespace and otherwise returns the text as sent, so precision such as
 * the trailing zero of `"1.50"` is kept.
 *
 * @example
 * ```ts
 * import { Decimal } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.equal(Decimal.decode(Decimal.encode("-12.50")), "-12.50");
 * assert.throws(() => Decimal.encode("12,5"), TypeError);
 * ```
 */
export const Decimal: ArgumentType<string> = {
  typeName: "Decimal",
  encode(value: string): Uint8Array {
    if (typeof value !== "string" || !DECIMAL.test(value)) {
      throw new TypeError(`Bad Decimal value: ${describe(value)} is not a decimal number`);
    }
    return ascii(value);
  },
  decode(bytes: Uint8Array): string {
    const text = latin1(bytes).replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, "");
    if (!DECIMAL.test(text)) throw new TypeError(`Bad Decimal value: ${preview(bytes)}`);
    return text;
  },
};
