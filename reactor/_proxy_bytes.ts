/**
 * Small helpers shared by the PROXY protocol header parsers: showing
 * unexpected bytes in an error message.
 *
 * @module
 */

/**
 * Shows up to `max` bytes as a quoted string with escapes, for messages:
 * `"GET / HTTP/1.1\r\n"`, `"\u0000\u0001"`.
 *
 * @param bytes The bytes.
 * @param max How many to show at most; more are marked with `...`.
 * @returns The quoted text.
 */
export function _showBytes(bytes: Uint8Array, max = 24): string {
  const shown = String.fromCharCode(...bytes.subarray(0, max));
  return JSON.stringify(shown) + (bytes.length > max ? "..." : "");
}
