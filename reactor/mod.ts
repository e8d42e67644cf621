/**
 * The reactor over Deno's own event loop: time (`Clock`, `DelayedCall`),
 * lifecycle, threads as Web Workers, and scheduled tasks.
 *
 * @module
 */
export type { DelayedCall, ReactorTime } from "../defer/time.ts";
// Each part of the reactor adds its export lines below.
