/**
 * Small helpers shared by the PROXY protocol header parsers: showing
 * unexpected bytes in an error message.
 *
 * @module
 */

const ESCAPES: Readonly<Record<number, string>> = {
  0x09: "\\t",
  0x0a: "\\n",
  0x0d: "\\r",
  0x22: '\\"',
  0x5c: "\\\\",
};

/**
 * Shows up to `max` bytes as a quoted ASCII string, so that what a client
 * sent can go into a log line safely: `"GET / HTTP/1.1\r\n"`,
 * `"\x00\xff"`.
 *
 * @param bytes The bytes.
 * @param max How many to show at most; more are marked with `...`.
 * @returns The quoted text.
 */
export function _showBytes(bytes: Uint8Array, max = 24): string {
  let text = '"';
  for (const byte of bytes.subarray(0, max)) {
    text += ESCAPES[byte] ??
      (byte >= 0x20 && byte < 0x7f
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, "0")}`);
  }
  return `${text}"${bytes.length > max ? "..." : ""}`;
}
