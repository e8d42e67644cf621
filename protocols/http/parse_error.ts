/**
 * The errors of malformed responses: {@linkcode ParseError}, and
 * {@linkcode BadResponseVersion} for a version that is not HTTP/1.x.
 *
 * @module
 */
import { latin1 } from "./_syntax.ts";

/**
 * Raised for bytes that are not a valid HTTP response: a malformed status
 * line or header, a bad `Content-Length`, a bad chunk size, a chunk not
 * followed by CRLF, headers over the size limit. As in Twisted, it carries a
 * short reason and the offending data.
 *
 * The HTTP client never lets it out on its own: a request fails with
 * `ResponseFailed` whose `reasons` hold it.
 *
 * @example Checking what was wrong
 * ```ts
 * import { ParseError } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new ParseError("Status code is not 3 digits", new TextEncoder().encode("HTTP/1.1 2000 OK"));
 * assert.equal(e.reason, "Status code is not 3 digits");
 * assert.match(e.message, /HTTP\/1\.1 2000 OK/);
 * ```
 */
export class ParseError extends Error {
  /** What was wrong, in a few words. */
  readonly reason: string;
  /** The offending bytes (a line, a header, a chunk-size line), as received. */
  readonly data: Uint8Array;

  /**
   * Makes the error; the message shows the reason and the start of the data.
   *
   * @param reason What was wrong.
   * @param data The offending bytes.
   */
  constructor(reason: string, data: Uint8Array) {
    super(`${reason}: ${preview(data)}`);
    this.name = "ParseError";
    this.reason = reason;
    this.data = data.slice(); // its own copy: the data may be a reused read buffer
  }
}

/**
 * A {@linkcode ParseError} for a status line whose version is not
 * `HTTP/1.x`, as Twisted's `BadResponseVersion`.
 *
 * @example
 * ```ts
 * import { BadResponseVersion, ParseError } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new BadResponseVersion("Not an HTTP version", new TextEncoder().encode("ICY"));
 * assert.ok(e instanceof ParseError);
 * ```
 */
export class BadResponseVersion extends ParseError {
  /**
   * Makes the error.
   *
   * @param reason What was wrong.
   * @param data The version as received.
   */
  constructor(reason: string, data: Uint8Array) {
    super(reason, data);
    this.name = "BadResponseVersion";
  }
}

/** Shows up to 80 bytes of `data`, with control bytes escaped. */
function preview(data: Uint8Array): string {
  const shown = latin1(data.subarray(0, 80));
  const escaped = JSON.stringify(shown).slice(1, -1).replace(/[\x7f-\xff]/g, (c) => {
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
  return data.length > 80 ? `"${escaped}..." (${data.length} bytes)` : `"${escaped}"`;
}
