/**
 * Errors of the PROXY protocol header a load balancer such as HAProxy sends
 * before a proxied connection's own bytes. Every way a header can be wrong
 * (garbage instead of a header, a malformed or oversized one, addresses that
 * do not parse) is an {@linkcode InvalidProxyHeader}; the two subclasses,
 * named as in Twisted's `twisted.protocols.haproxy`, narrow the cause.
 *
 * @module
 */

/**
 * The bytes at the start of a connection are not a valid PROXY protocol
 * header, version 1 or 2: the one error the header parsers throw, whatever
 * they are fed. The message says what was wrong and where.
 *
 * @example Catching any header error
 * ```ts
 * import { InvalidProxyHeader, ProxyHeaderParser } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const parser = new ProxyHeaderParser();
 * assert.throws(
 *   () => parser.feed(new TextEncoder().encode("GET / HTTP/1.1\r\n")),
 *   InvalidProxyHeader,
 * );
 * ```
 */
export class InvalidProxyHeader extends Error {
  /**
   * Makes the error.
   *
   * @param message What is wrong with the header.
   */
  constructor(message = "Invalid PROXY protocol header") {
    super(message);
    this.name = "InvalidProxyHeader";
  }
}

/**
 * The header names a protocol or address family the PROXY protocol does not
 * define: a version 1 protocol other than `TCP4`, `TCP6` and `UNKNOWN`, or a
 * version 2 family or transport byte out of range.
 *
 * @example
 * ```ts
 * import { InvalidNetworkProtocol, InvalidProxyHeader, V1Parser } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const line = new TextEncoder().encode("PROXY SCTP4 1.2.3.4 5.6.7.8 1 2");
 * assert.throws(() => V1Parser.parse(line), InvalidNetworkProtocol);
 * assert.ok(new InvalidNetworkProtocol() instanceof InvalidProxyHeader);
 * ```
 */
export class InvalidNetworkProtocol extends InvalidProxyHeader {
  /**
   * Makes the error.
   *
   * @param message Which protocol or family was given.
   */
  constructor(message = "Unknown network protocol in PROXY header") {
    super(message);
    this.name = "InvalidNetworkProtocol";
  }
}

/**
 * The header's addresses or ports are missing, incomplete or not valid for
 * the family it announced.
 *
 * @example
 * ```ts
 * import { MissingAddressData, V1Parser } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const line = new TextEncoder().encode("PROXY TCP4 1.2.3.4 5.6.7.8 1");
 * assert.throws(() => V1Parser.parse(line), MissingAddressData);
 * ```
 */
export class MissingAddressData extends InvalidProxyHeader {
  /**
   * Makes the error.
   *
   * @param message What is missing or wrong.
   */
  constructor(message = "Missing or invalid addresses in PROXY header") {
    super(message);
    this.name = "MissingAddressData";
  }
}
