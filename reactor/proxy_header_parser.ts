/**
 * Reading a PROXY protocol header of either version from the start of a
 * connection: the first byte tells which one is coming.
 *
 * @module
 */
import { _showBytes } from "./_proxy_bytes.ts";
import { InvalidProxyHeader } from "./proxy_header_errors.ts";
import type { ProxyHeaderResult } from "./proxy_info.ts";
import { V1Parser } from "./proxy_v1_parser.ts";
import { V2Parser } from "./proxy_v2_parser.ts";

/** Options of {@linkcode ProxyHeaderParser}. */
export interface ProxyHeaderParserOptions {
  /**
   * The longest version 2 header accepted, in bytes (default 4096: the
   * addresses and the usual type-length-value fields, with room to spare).
   * A version 1 header is always at most 107 bytes.
   */
  maxLength?: number;
}

/**
 * Reads the PROXY header, version 1 or 2, at the start of a connection: a
 * first byte of `P` starts a version 1 header, `\r` a version 2 one, and
 * anything else is refused at once. The bytes are then fed to a
 * {@linkcode V1Parser} or a {@linkcode V2Parser}, which check each byte as it
 * arrives. This is what `haproxy:` endpoints use; feed it every chunk until
 * it returns the header.
 *
 * Memory: at most 107 bytes for version 1, `maxLength` for version 2,
 * allocated once the length field has been read.
 *
 * @example Any split gives the same header
 * ```ts
 * import { ProxyHeaderParser } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("PROXY TCP6 2001:db8::7 2001:db8::1 40000 443\r\nhi");
 * const parser = new ProxyHeaderParser();
 * let result = null;
 * for (const byte of bytes) result ??= parser.feed(new Uint8Array([byte]));
 * assert.deepEqual(result!.info.source, { type: "TCP", host: "2001:db8::7", port: 40000 });
 * ```
 */
export class ProxyHeaderParser {
  /** The longest version 2 header accepted, in bytes. */
  readonly maxLength: number;
  #parser: V1Parser | V2Parser | null = null;

  /**
   * Makes a parser for one header.
   *
   * @param options `maxLength`.
   * @throws {RangeError} If `maxLength` is not an integer from 232 to 65551.
   */
  constructor(options: ProxyHeaderParserOptions = {}) {
    this.maxLength = options.maxLength ?? 4096;
    // Checks the limit now rather than on the first connection.
    new V2Parser(this.maxLength);
  }

  /**
   * Takes the next bytes of the connection.
   *
   * @param data The bytes, in any split.
   * @returns The header and the bytes after it once complete, else `null`.
   *   The parser is then ready for a new header.
   * @throws {InvalidProxyHeader} As soon as the bytes cannot begin or
   *   continue a valid header of either version (its subclasses
   *   `InvalidNetworkProtocol` and `MissingAddressData` narrow the cause).
   *   The parser is then ready for a new header.
   */
  feed(data: Uint8Array): ProxyHeaderResult | null {
    if (data.length === 0) return null;
    let parser = this.#parser;
    if (parser === null) {
      if (data[0] === 0x50) parser = new V1Parser();
      else if (data[0] === 0x0d) parser = new V2Parser(this.maxLength);
      else {
        throw new InvalidProxyHeader(
          `Expected a PROXY protocol header, not ${_showBytes(data, 16)}`,
        );
      }
      this.#parser = parser;
    }
    let result: ProxyHeaderResult | null;
    try {
      result = parser.feed(data);
    } catch (error) {
      this.#parser = null;
      throw error;
    }
    if (result !== null) this.#parser = null;
    return result;
  }
}
