// Numbers as Python writes and reads them, so that AMP's Integer and Float
// match Twisted's `b"%d" % n`, `int(s)`, `str(f)` and `float(s)`.

const SPACE = "[ \\t\\n\\r\\f\\v]*";
const DIGITS = "\\d(?:_?\\d)*";
const INT = new RegExp(`^${SPACE}([+-]?${DIGITS})${SPACE}$`);
const FLOAT = new RegExp(
  `^${SPACE}([+-]?)(?:((?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?)` +
    `|(inf|infinity)|(nan))${SPACE}$`,
  "i",
);

/** Parses what Python's `int()` accepts in base 10, or returns `null`. */
export function parsePythonInt(text: string): bigint | null {
  const match = INT.exec(text);
  if (match === null) return null;
  return BigInt(match[1].replaceAll("_", ""));
}

/** Parses what Python's `float()` accepts, or returns `null`. */
export function parsePythonFloat(text: string): number | null {
  const match = FLOAT.exec(text);
  if (match === null) return null;
  const negative = match[1] === "-";
  let value: number;
  if (match[2] !== undefined) value = Number(match[2].replaceAll("_", ""));
  else if (match[3] !== undefined) value = Infinity;
  else value = NaN;
  return negative ? -value : value;
}

/**
 * Formats a number as Python's `repr(float)` does: the shortest digits that
 * read back as the same number, in fixed notation for exponents from -4 to
 * 15 (always with a fraction), in scientific notation with at least two
 * exponent digits otherwise; `nan`, `inf`, `-inf`.
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() with no argument gives the shortest round-trip digits,
  // the same digits Python's repr picks.
  const text = x.toExponential();
  const at = text.indexOf("e");
  let mantissa = text.slice(0, at);
  const exponent = Number(text.slice(at + 1));
  const sign = mantissa[0] === "-" ? "-" : "";
  if (sign) mantissa = mantissa.slice(1);
  const digits = mantissa.replace(".", "");
  if (exponent >= -4 && exponent < 16) {
    if (exponent >= 0) {
      const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
      const fraction = digits.slice(exponent + 1);
      return `${sign}${whole}.${fraction === "" ? "0" : fraction}`;
    }
    return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = String(Math.abs(exponent)).padStart(2, "0");
  return `${sign}${head}e${exponent < 0 ? "-" : "+"}${e}`;
}

/** Python's `repr(bytes)`, for messages that must match Twisted's. */
export function pythonBytesRepr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const quote = hasSingle && !bytes.includes(0x22) ? '"' : "'";
  let out = "b" + quote;
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x09) out += "\\t";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === quote.charCodeAt(0)) out += "\\" + quote;
    else if (b < 0x20 || b >= 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += String.fromCharCode(b);
  }
  return out + quote;
}
