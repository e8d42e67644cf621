/**
 * The text header of the PROXY protocol, version 1: one line such as
 * `PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n` that a load balancer
 * sends before the client's own bytes, naming the client and the address
 * it connected to.
 *
 * @module
 */
import { _canonicalIPv6, _isIPv4 } from "./_ip_address.ts";
import { _showBytes } from "./_proxy_bytes.ts";
import type { IPAddress } from "./interfaces.ts";
import {
  InvalidNetworkProtocol,
  InvalidProxyHeader,
  MissingAddressData,
} from "./proxy_header_errors.ts";
import type { ProxyHeaderResult, ProxyInfo } from "./proxy_info.ts";

const CR = 0x0d;
const LF = 0x0a;
const SIGNATURE = "PROXY ";
const PORT = /^(?:0|[1-9]\d{0,4})$/;

function port(text: string, which: string): number {
  const n = Number(text);
  if (!PORT.test(text) || n > 65535) {
    throw new MissingAddressData(
      `Invalid ${which} port ${JSON.stringify(text)} in PROXY v1 header`,
    );
  }
  return n;
}

/**
 * Parses the version 1 (text) PROXY header (Twisted's `V1Parser`). Feed it
 * the connection's bytes as they come; it keeps at most the 107 bytes the
 * specification allows for the line, and returns the header and the bytes
 * after it once the CRLF has arrived.
 *
 * It is strict, as the specification asks: exactly `PROXY`, one space, the
 * protocol (`TCP4`, `TCP6` or `UNKNOWN`), then for TCP four fields
 * separated by single spaces (addresses in the announced family, ports from
 * 0 to 65535 without leading zeros), and a CRLF within 107 bytes. For
 * `UNKNOWN`, anything up to the CRLF is ignored and the addresses are
 * `null`. Bytes that cannot begin a header are refused as soon as they
 * arrive, so a client that does not speak the protocol is dropped at once.
 *
 * Divergences from Twisted: Twisted accepts any text where the addresses
 * go, a bare LF and a final sixth field; here they are errors. IPv6
 * addresses are given in canonical form (`::1`), as Deno reports them.
 *
 * Testing advice: feed a header one byte at a time, and in every split,
 * and check the result is the same.
 *
 * @example
 * ```ts
 * import { V1Parser } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const parser = new V1Parser();
 * const bytes = new TextEncoder().encode("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET");
 * const { info, rest } = parser.feed(bytes)!;
 * assert.deepEqual(info.source, { type: "TCP", host: "192.0.2.7", port: 56324 });
 * assert.deepEqual(info.destination, { type: "TCP", host: "198.51.100.1", port: 443 });
 * assert.equal(new TextDecoder().decode(rest), "GET");
 * ```
 */
export class V1Parser {
  /** The longest header line, its CRLF included (from the specification). */
  static readonly MAX_LENGTH: number = 107;

  readonly #buffer = new Uint8Array(V1Parser.MAX_LENGTH);
  #length = 0;

  /**
   * Takes the next bytes of the connection.
   *
   * @param data The bytes, in any split.
   * @returns The header and the bytes after it once the line is complete,
   *   else `null` (then feed more). The parser is then ready for a new header.
   * @throws {InvalidProxyHeader} As soon as the bytes cannot be a valid
   *   header: not starting with `PROXY `, a byte that is not printable
   *   ASCII, a CR not followed by LF (or a LF without CR), no CRLF within
   *   107 bytes, or a line that {@linkcode V1Parser.parse} refuses.
   */
  feed(data: Uint8Array): ProxyHeaderResult | null {
    const buffer = this.#buffer;
    for (let i = 0; i < data.length; i++) {
      const byte = data[i];
      const at = this.#length;
      buffer[at] = byte;
      this.#length = at + 1;
      if (at < SIGNATURE.length && byte !== SIGNATURE.charCodeAt(at)) {
        this.#length = 0;
        throw new InvalidProxyHeader(
          `A PROXY v1 header must start with "PROXY ", not ${
            _showBytes(buffer.subarray(0, at + 1))
          }`,
        );
      }
      const afterCR = at > 0 && buffer[at - 1] === CR;
      if (afterCR !== (byte === LF)) {
        this.#length = 0;
        throw new InvalidProxyHeader(
          `A PROXY v1 header must end with CRLF: ${
            afterCR ? "a CR without LF" : "a LF without CR"
          } at byte ${at}`,
        );
      }
      if (byte === LF) {
        const header = buffer.slice(0, at + 1);
        this.#length = 0;
        return {
          info: V1Parser.parse(header.subarray(0, at - 1), header),
          rest: data.subarray(i + 1),
        };
      }
      if (byte !== CR && (byte < 0x20 || byte > 0x7e)) {
        this.#length = 0;
        throw new InvalidProxyHeader(
          `A PROXY v1 header is printable ASCII, not byte 0x${
            byte.toString(16).padStart(2, "0")
          } at byte ${at}`,
        );
      }
      if (at + 1 === V1Parser.MAX_LENGTH) {
        this.#length = 0;
        throw new InvalidProxyHeader(
          `No CRLF within the ${V1Parser.MAX_LENGTH} bytes of a PROXY v1 header`,
        );
      }
    }
    return null;
  }

  /**
   * Parses one complete header line, without its CRLF.
   *
   * @param line The line, such as `PROXY TCP6 ::1 ::1 40000 80`.
   * @param header The bytes to report as `info.header` (default `line`).
   * @returns What the header says; `source` and `destination` are `null` for `UNKNOWN`.
   * @throws {InvalidProxyHeader} If the line does not start with `PROXY `
   *   or is not ASCII.
   * @throws {InvalidNetworkProtocol} For a protocol other than `TCP4`,
   *   `TCP6` and `UNKNOWN`.
   * @throws {MissingAddressData} For missing, extra or invalid addresses or ports.
   */
  static parse(line: Uint8Array, header: Uint8Array = line): ProxyInfo {
    for (const byte of line) {
      if (byte < 0x20 || byte > 0x7e) {
        throw new InvalidProxyHeader(`A PROXY v1 header is printable ASCII: ${_showBytes(line)}`);
      }
    }
    const text = String.fromCharCode(...line);
    if (!text.startsWith(SIGNATURE)) {
      throw new InvalidProxyHeader(
        `A PROXY v1 header must start with "PROXY ", not ${_showBytes(line, 6)}`,
      );
    }
    const fields = text.slice(SIGNATURE.length).split(" ");
    const protocol = fields[0];
    if (protocol === "UNKNOWN") {
      return { header, source: null, destination: null, version: 1, command: "PROXY" };
    }
    if (protocol !== "TCP4" && protocol !== "TCP6") {
      throw new InvalidNetworkProtocol(
        `Unknown protocol ${
          JSON.stringify(protocol)
        } in PROXY v1 header (known: TCP4, TCP6, UNKNOWN)`,
      );
    }
    if (fields.length !== 5) {
      throw new MissingAddressData(
        `A PROXY v1 ${protocol} header has 4 fields after the protocol, not ${fields.length - 1}`,
      );
    }
    const [, sourceHost, destinationHost, sourcePort, destinationPort] = fields;
    const address = (host: string, which: string, portText: string): IPAddress => {
      const canonical = protocol === "TCP4"
        ? (_isIPv4(host) ? host : null)
        : (host.includes(":") ? _canonicalIPv6(host) : null);
      if (canonical === null) {
        throw new MissingAddressData(
          `Invalid ${which} address ${JSON.stringify(host)} in PROXY v1 ${protocol} header`,
        );
      }
      return { type: "TCP", host: canonical, port: port(portText, which) };
    };
    return {
      header,
      source: address(sourceHost, "source", sourcePort),
      destination: address(destinationHost, "destination", destinationPort),
      version: 1,
      command: "PROXY",
    };
  }
}
