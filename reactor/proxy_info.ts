/**
 * What a PROXY protocol header says about a proxied connection, as the
 * version 1 and version 2 parsers return it.
 *
 * @module
 */
import type { Address } from "./interfaces.ts";

/**
 * The parsed header of one proxied connection (Twisted's `ProxyInfo`).
 * `source` is the real client, `destination` the address it connected to
 * on the balancer. Both are `null` when the header carries no addresses to
 * use: a version 2 `LOCAL` command (the balancer's own health checks), a
 * version 1 `UNKNOWN` protocol, or a version 2 `UNSPEC` family or
 * transport. The connection's real addresses apply then.
 *
 * Divergence from Twisted: `version` and `command` are added, so a server
 * can tell a health check (`LOCAL`) from a proxied client.
 */
export interface ProxyInfo {
  /** The header's bytes, exactly as received (the CRLF included, for version 1). */
  readonly header: Uint8Array;
  /** The client's address, or `null` for none. */
  readonly source: Address | null;
  /** The address the client connected to, or `null` for none. */
  readonly destination: Address | null;
  /** 1 for the text header, 2 for the binary one. */
  readonly version: 1 | 2;
  /** `PROXY` for a relayed connection, `LOCAL` for one the balancer made itself. */
  readonly command: "PROXY" | "LOCAL";
}

/** A complete header, and the bytes that followed it in what was fed. */
export interface ProxyHeaderResult {
  /** The parsed header. */
  readonly info: ProxyInfo;
  /** The connection's own bytes after the header (often empty). */
  readonly rest: Uint8Array;
}
