/**
 * torsion: Twisted's programming model for Deno. Deferreds with synchronous
 * callback chains, `inlineCallbacks` generators, a reactor over Deno's own
 * event loop, and protocols over Deno sockets.
 *
 * @module
 */
export * from "./defer/mod.ts";
