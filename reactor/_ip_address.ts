/**
 * Recognising IP address literals, for the code that must tell an address
 * from a host name without asking a resolver (UDP ports, `resolve`).
 *
 * @module
 */

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/**
 * Whether `text` is a dotted-quad IPv4 address (`127.0.0.1`), with no
 * leading zeros and no shorthand forms such as `127.1`.
 *
 * @param text The candidate.
 * @returns `true` for an IPv4 literal.
 */
export function _isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/**
 * Whether `text` is an IPv6 address (`::1`, `fe80::1%eth0`), without
 * brackets; a zone after `%` is allowed.
 *
 * @param text The candidate.
 * @returns `true` for an IPv6 literal.
 */
export function _isIPv6(text: string): boolean {
  const percent = text.indexOf("%");
  const bare = percent === -1 ? text : text.slice(0, percent);
  if (percent !== -1 && percent === text.length - 1) return false;
  if (!bare.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(bare)) return false;
  try {
    new URL(`http://[${bare}]/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `text` is an IPv4 or IPv6 literal.
 *
 * @param text The candidate.
 * @returns `true` for an IP address.
 */
export function _isIPAddress(text: string): boolean {
  return _isIPv4(text) || _isIPv6(text);
}

/**
 * The canonical text of an IPv6 address given as text or as 16 bytes:
 * lower case, the longest run of zero groups shortened to `::` (the form
 * `Deno.Addr` reports), by way of the URL parser.
 *
 * @param address The address: text without brackets or zone, or 16 bytes.
 * @returns The canonical text, or `null` if it is not an IPv6 address.
 */
export function _canonicalIPv6(address: string | Uint8Array): string | null {
  let text: string;
  if (typeof address === "string") {
    if (!/^[0-9A-Fa-f:.]+$/.test(address)) return null;
    text = address;
  } else {
    if (address.length !== 16) return null;
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((address[i] << 8) | address[i + 1]).toString(16));
    text = groups.join(":");
  }
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}
