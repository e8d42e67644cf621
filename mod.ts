/**
 * torsion: Twisted's programming model for Deno. Deferreds with synchronous
 * callback chains, `inlineCallbacks` generators, a reactor over Deno's own
 * event loop, and protocols over Deno sockets.
 *
 * Everything is also available from the narrower entry points
 * `@torsion/torsion/defer` (no Deno API, runs anywhere),
 * `@torsion/torsion/reactor`, `@torsion/torsion/protocols` and
 * `@torsion/torsion/application` (services); the test kit is
 * `@torsion/torsion/testing`.
 *
 * @example A Deferred fired by the reactor's clock
 * ```ts
 * import { deferLater, reactor } from "@torsion/torsion";
 * import assert from "node:assert/strict";
 *
 * const answer = await deferLater(reactor, 0.001, () => 42);
 * assert.equal(answer, 42);
 * ```
 *
 * @module
 */
export * from "./defer/mod.ts";
export * from "./reactor/mod.ts";
export * from "./protocols/mod.ts";
export * from "./application/mod.ts";
