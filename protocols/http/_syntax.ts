/**
 * The bytes-and-text helpers of HTTP/1.1's syntax that the parser and the
 * header map share: the token rule, ISO-8859-1 both ways, whitespace trimming.
 *
 * @module
 */

const SP = 0x20;
const HTAB = 0x09;

/** An HTTP token: a method, a header name. */
export const TOKEN: RegExp = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Decodes bytes as ISO-8859-1, one character per byte, so nothing is lost
 * (`TextDecoder("latin1")` is windows-1252 and remaps 0x80-0x9f).
 *
 * @param bytes The bytes.
 * @returns The string.
 */
export function latin1(bytes: Uint8Array): string {
  if (bytes.length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return out;
}

/**
 * Joins `pieces` and `last` into one new array.
 *
 * @param pieces The first bytes.
 * @param last The last bytes.
 * @returns The bytes, copied.
 */
export function concat(pieces: Uint8Array[], last: Uint8Array): Uint8Array {
  let total = last.length;
  for (const piece of pieces) total += piece.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  out.set(last, offset);
  return out;
}

/**
 * Strips optional whitespace (spaces and tabs) from both ends.
 *
 * @param s The text.
 * @returns The text without them.
 */
export function trimOWS(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === SP || s.charCodeAt(start) === HTAB)) start++;
  while (end > start && (s.charCodeAt(end - 1) === SP || s.charCodeAt(end - 1) === HTAB)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/**
 * Encodes text as ISO-8859-1, one byte per character (each below 256).
 *
 * @param text The text.
 * @returns The bytes.
 */
export function encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
