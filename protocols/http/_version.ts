/**
 * The `User-Agent` the HTTP client sends unless told otherwise:
 * `torsion/<version>`, the version read from the package's `deno.json`.
 *
 * @module
 */
import config from "../../deno.json" with { type: "json" };

/** The package's version, as in `deno.json`. */
export const VERSION: string = config.version;

/** The default `User-Agent` of requests. */
export const USER_AGENT: string = `torsion/${VERSION}`;
