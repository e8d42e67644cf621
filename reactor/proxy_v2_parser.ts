/**
 * The binary header of the PROXY protocol, version 2: a 12-byte signature,
 * a version and command byte, a family and transport byte, a length, then
 * the addresses and optional type-length-value fields. HAProxy sends it
 * with `send-proxy-v2`, and sends the `LOCAL` command for its own health
 * checks.
 *
 * @module
 */
import { _canonicalIPv6 } from "./_ip_address.ts";
import { _showBytes } from "./_proxy_bytes.ts";
import type { Address } from "./interfaces.ts";
import {
  InvalidNetworkProtocol,
  InvalidProxyHeader,
  MissingAddressData,
} from "./proxy_header_errors.ts";
import type { ProxyHeaderResult, ProxyInfo } from "./proxy_info.ts";

const SIGNATURE = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);
const FIXED = 16;
/** Address block sizes by family: INET, INET6, UNIX. */
const ADDRESS_BYTES: Readonly<Record<number, number>> = { 1: 12, 2: 36, 3: 216 };
const FAMILY_NAMES: Readonly<Record<number, string>> = { 1: "IPv4", 2: "IPv6", 3: "UNIX" };
const UNIX_PATH_BYTES = 108;
const utf8 = new TextDecoder();

/** The first problem with the version and command byte, or `null`. */
function versionProblem(byte: number): string | null {
  if ((byte & 0xf0) !== 0x20) {
    return `PROXY v2 header has version ${byte >> 4}, not 2`;
  }
  if ((byte & 0x0f) > 1) {
    return `PROXY v2 header has command ${byte & 0x0f}, not 0 (LOCAL) or 1 (PROXY)`;
  }
  return null;
}

function unixPath(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return utf8.decode(bytes.subarray(0, end));
}

/**
 * Parses the version 2 (binary) PROXY header (Twisted's `V2Parser`). Feed
 * it the connection's bytes as they come; once the 16 fixed bytes are in,
 * the length field says how many more belong to the header, and the header
 * is returned with the bytes after it as soon as they have all arrived.
 *
 * - The `LOCAL` command (a connection the balancer made itself, such as a
 *   health check) gives `null` addresses: the real connection's apply. Its
 *   address block is skipped whatever it holds, as the specification asks.
 * - The `PROXY` command gives the addresses: TCP or UDP over IPv4 or IPv6
 *   (IPv6 in canonical form), or UNIX paths (trailing NULs removed). An
 *   unspecified family or transport gives `null` addresses.
 * - Type-length-value fields after the addresses are skipped; their framing
 *   is checked, so a field that runs past the header is an error.
 *
 * Headers longer than `maxLength` bytes (16 + the length field) are refused
 * as soon as the length field arrives, before any of it is stored.
 *
 * Divergences from Twisted: Twisted refuses a header fed in pieces smaller
 * than 16 bytes, ignores a length field shorter than the addresses, and
 * gives IPv6 addresses with every group written out; here any split works,
 * a short block is `MissingAddressData`, and IPv6 is canonical (`::1`).
 *
 * Testing advice: feed a header one byte at a time, and in every split,
 * and check the result is the same.
 *
 * @example A health check's LOCAL header
 * ```ts
 * import { V2Parser } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const header = new Uint8Array([...V2Parser.SIGNATURE, 0x20, 0x00, 0x00, 0x00]);
 * const { info, rest } = new V2Parser().feed(header)!;
 * assert.equal(info.command, "LOCAL");
 * assert.equal(info.source, null);
 * assert.equal(rest.length, 0);
 * ```
 */
export class V2Parser {
  /** The 12 bytes every version 2 header starts with. */
  static readonly SIGNATURE: Uint8Array = SIGNATURE.slice();

  /** The longest header accepted, in bytes. */
  readonly maxLength: number;
  #buffer = new Uint8Array(FIXED);
  #length = 0;

  /**
   * Makes a parser.
   *
   * @param maxLength The longest header accepted, the 16 fixed bytes
   *   included (default 65551, the most the length field can say).
   * @throws {RangeError} If `maxLength` is not an integer from 232 (the
   *   largest address block, UNIX, with its 16 fixed bytes) to 65551.
   */
  constructor(maxLength: number = FIXED + 0xffff) {
    if (!Number.isInteger(maxLength) || maxLength < FIXED + 216 || maxLength > FIXED + 0xffff) {
      throw new RangeError(`maxLength must be an integer from 232 to 65551, not ${maxLength}`);
    }
    this.maxLength = maxLength;
  }

  /**
   * Takes the next bytes of the connection.
   *
   * @param data The bytes, in any split.
   * @returns The header and the bytes after it once complete, else `null`
   *   (then feed more). The parser is then ready for a new header.
   * @throws {InvalidProxyHeader} As soon as the bytes cannot be a valid
   *   header: a wrong signature byte, version or command, a length over
   *   `maxLength`, or a header {@linkcode V2Parser.parse} refuses.
   */
  feed(data: Uint8Array): ProxyHeaderResult | null {
    let i = 0;
    while (this.#length < FIXED && i < data.length) {
      const at = this.#length;
      const byte = data[i++];
      this.#buffer[at] = byte;
      this.#length = at + 1;
      let problem: string | null = null;
      if (at < SIGNATURE.length && byte !== SIGNATURE[at]) {
        problem = `A PROXY v2 header must start with its signature, not ${
          _showBytes(this.#buffer.subarray(0, at + 1))
        }`;
      } else if (at === 12) {
        problem = versionProblem(byte);
      } else if (at === 15) {
        const total = FIXED + ((this.#buffer[14] << 8) | byte);
        if (total > this.maxLength) {
          problem =
            `PROXY v2 header of ${total} bytes is longer than the limit of ${this.maxLength}`;
        } else if (total > FIXED) {
          const whole = new Uint8Array(total);
          whole.set(this.#buffer);
          this.#buffer = whole;
        }
      }
      if (problem !== null) {
        this.#reset();
        throw new InvalidProxyHeader(problem);
      }
    }
    if (this.#length < FIXED) return null;
    const buffer = this.#buffer;
    const take = Math.min(buffer.length - this.#length, data.length - i);
    buffer.set(data.subarray(i, i + take), this.#length);
    this.#length += take;
    i += take;
    if (this.#length < buffer.length) return null;
    this.#reset();
    return { info: V2Parser.parse(buffer), rest: data.subarray(i) };
  }

  #reset(): void {
    this.#buffer = new Uint8Array(FIXED);
    this.#length = 0;
  }

  /**
   * Parses one complete header.
   *
   * @param header Exactly the header's bytes: 16 plus its length field.
   * @returns What the header says.
   * @throws {InvalidProxyHeader} For a wrong signature, version, command or
   *   length, or a type-length-value field running past the end.
   * @throws {InvalidNetworkProtocol} For a `PROXY` command with a family
   *   byte other than 0 to 3 or a transport other than 0 to 2.
   * @throws {MissingAddressData} For an address block shorter than its family needs.
   */
  static parse(header: Uint8Array): ProxyInfo {
    if (header.length < FIXED) {
      throw new InvalidProxyHeader(`PROXY v2 header of ${header.length} bytes is shorter than 16`);
    }
    for (let i = 0; i < SIGNATURE.length; i++) {
      if (header[i] !== SIGNATURE[i]) {
        throw new InvalidProxyHeader(
          `A PROXY v2 header must start with its signature, not ${_showBytes(header, 12)}`,
        );
      }
    }
    const problem = versionProblem(header[12]);
    if (problem !== null) throw new InvalidProxyHeader(problem);
    const blockLength = (header[14] << 8) | header[15];
    if (header.length !== FIXED + blockLength) {
      throw new InvalidProxyHeader(
        `PROXY v2 header of ${header.length} bytes, but its length field says ${
          FIXED + blockLength
        }`,
      );
    }
    if ((header[12] & 0x0f) === 0) {
      return { header, source: null, destination: null, version: 2, command: "LOCAL" };
    }
    const family = header[13] >> 4;
    const transport = header[13] & 0x0f;
    if (family > 3 || transport > 2) {
      throw new InvalidNetworkProtocol(
        `Unknown family and transport byte 0x${
          header[13].toString(16).padStart(2, "0")
        } in PROXY v2 header`,
      );
    }
    if (family === 0 || transport === 0) {
      return { header, source: null, destination: null, version: 2, command: "PROXY" };
    }
    const size = ADDRESS_BYTES[family];
    if (blockLength < size) {
      throw new MissingAddressData(
        `A PROXY v2 ${FAMILY_NAMES[family]} header needs ${size} address bytes, not ${blockLength}`,
      );
    }
    for (let at = FIXED + size; at < header.length;) {
      if (header.length - at < 3) {
        throw new InvalidProxyHeader(
          `PROXY v2 header ends inside a type-length-value field at byte ${at}`,
        );
      }
      const end = at + 3 + ((header[at + 1] << 8) | header[at + 2]);
      if (end > header.length) {
        throw new InvalidProxyHeader(
          `PROXY v2 type-length-value field 0x${
            header[at].toString(16).padStart(2, "0")
          } at byte ${at} runs past the header's end`,
        );
      }
      at = end;
    }
    const block = header.subarray(FIXED, FIXED + size);
    let source: Address;
    let destination: Address;
    if (family === 3) {
      source = { type: "UNIX", path: unixPath(block.subarray(0, UNIX_PATH_BYTES)) };
      destination = { type: "UNIX", path: unixPath(block.subarray(UNIX_PATH_BYTES)) };
    } else {
      const type = transport === 1 ? "TCP" : "UDP";
      const width = family === 1 ? 4 : 16;
      const host = (bytes: Uint8Array): string =>
        family === 1 ? bytes.join(".") : _canonicalIPv6(bytes)!;
      const ports = 2 * width;
      source = {
        type,
        host: host(block.subarray(0, width)),
        port: (block[ports] << 8) | block[ports + 1],
      };
      destination = {
        type,
        host: host(block.subarray(width, ports)),
        port: (block[ports + 2] << 8) | block[ports + 3],
      };
    }
    return { header, source, destination, version: 2, command: "PROXY" };
  }
}
