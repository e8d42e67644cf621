/**
 * torsion's runner, in the manner of Twisted's `twist`: one command starts a
 * service, from a built-in plugin or from your own module, on the endpoints
 * you name, logs what happens, and shuts down gracefully on Ctrl-C (SIGINT)
 * or SIGTERM through the reactor's shutdown triggers.
 *
 * ```sh
 * deno run -A jsr:@torsion/torsion/cli start          # chat and echo on localhost
 * deno run -A jsr:@torsion/torsion/cli echo --listen tcp:8007:interface=127.0.0.1
 * deno run -A jsr:@torsion/torsion/cli chat --listen tcp:8023 --listen unix:/tmp/chat.sock
 * deno run -A jsr:@torsion/torsion/cli portforward --listen tcp:8080 --dest tcp:example.com:80
 * deno run -A jsr:@torsion/torsion/cli get https://example.com/
 * deno run -A jsr:@torsion/torsion/cli get -o big.iso https://example.com/big.iso
 * deno run -A jsr:@torsion/torsion/cli run ./server.ts --listen tcp:8080 --workers auto
 * deno run -A jsr:@torsion/torsion/cli --help
 * ```
 *
 * Plugins: `echo`, `discard`, `chargen`, `daytime`, `qotd`, `chat`,
 * `portforward`, `get`, and `start`, each a `ServiceMaker` (see
 * `@torsion/torsion/application`); `run MODULE` runs a module's default
 * export: a `Protocol` subclass or a `Factory` (served on each `--listen`),
 * or a `ServiceMaker`. Each listening port is printed as
 * `NAME listening on ADDRESS` once bound, so `--listen tcp:0` is usable
 * from scripts. `--workers N` runs N processes sharing the TCP ports
 * (Linux); `--grace SECONDS` is how long connections get to finish at
 * shutdown. The runner and every plugin take `-h`/`--help` (usage) and
 * `--version`. Exit codes: 0 after a graceful shutdown, 1 when a service
 * fails (a port in use, a page that cannot be fetched), 2 for bad
 * command-line input (an unknown option, a URL that is not `http:` or
 * `https:`) or a module that cannot be run.
 *
 * Divergences from `twist`: options follow the plugin name only (`twist`
 * takes its own before it); `--log-level` is the one runner option before
 * it, and logs always go to standard error.
 *
 * @example Running the runner from code
 * ```ts ignore
 * import { main } from "@torsion/torsion/cli";
 *
 * Deno.exit(await main(["echo", "--listen", "tcp:0:interface=127.0.0.1"]));
 * ```
 *
 * @module
 */
export { main, type MainOptions, usage } from "./application/runner/main.ts";
export type { RunnerIO } from "./application/runner/io.ts";
export { UsageError } from "./application/runner/usage_error.ts";
import { main } from "./application/runner/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
