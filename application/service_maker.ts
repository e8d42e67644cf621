/**
 * What a module exports to be run by the runner (Twisted's `IServiceMaker`):
 * a description, its command-line options, and a function that makes the
 * service from them.
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import type { DenoReactor } from "../reactor/deno_reactor.ts";
import type { Address } from "../reactor/interfaces.ts";
import type { ServiceLike } from "./service.ts";

/**
 * One command-line option of a {@linkcode ServiceMaker}, declared as
 * `node:util`'s `parseArgs` declares them, plus a description for `--help`.
 */
export interface ServiceMakerOption {
  /** `"string"` takes a value (`--name X`, `--name=X`); `"boolean"` is a flag. */
  type: "string" | "boolean";
  /** May be given more than once; the value is then an array. */
  multiple?: boolean;
  /** A one-letter alias: `short: "n"` makes `-n X` mean `--name X`. */
  short?: string;
  /** The value when the option is not given. */
  default?: string | boolean | string[] | boolean[];
  /** What it does, for `--help`. */
  description: string;
  /** The value's name in `--help` (default `VALUE`). */
  valueName?: string;
}

/** A parsed option's value. */
export type ServiceOptionValue = string | boolean | string[] | boolean[] | undefined;

/**
 * The options `makeService` receives: each declared option by name (absent
 * when not given and without default), plus `listen` (every `--listen`, or
 * the maker's `defaultListen`) and `positionals` (the other arguments).
 */
export interface ServiceOptions {
  /** The endpoints to listen on, such as `tcp:8080`. */
  listen: string[];
  /** Arguments that are not options (only with `positionals` declared). */
  positionals: string[];
  /** The declared options. */
  [name: string]: ServiceOptionValue;
}

/** A port the runner announces as `NAME listening on ADDRESS`. */
export interface ListeningAnnouncement {
  /** The name of the service that listens. */
  name: string;
  /** Where it listens. */
  address: Address;
}

/**
 * What the runner runs: the built-in plugins are ServiceMakers, and a
 * module's default export can be one (`cli.ts run ./my_service.ts`).
 * Options named `listen`, `workers`, `grace`, `help`, `version` and
 * `positionals`, and the short option `-h`, are the runner's.
 *
 * @example A greeting server with an option
 * ```ts
 * import type { ServiceMaker } from "@torsion/torsion/application";
 * import { MultiService, StreamServerEndpointService } from "@torsion/torsion/application";
 * import { Factory, Protocol, serverFromString } from "@torsion/torsion";
 *
 * class Greeter extends Protocol {
 *   greeting = "hello";
 *   override connectionMade(): void {
 *     this.transport!.write(`${this.greeting}\r\n`);
 *     this.transport!.loseConnection();
 *   }
 * }
 *
 * const maker: ServiceMaker = {
 *   description: "Greets each client, then hangs up",
 *   options: { greeting: { type: "string", default: "hello", description: "what to say" } },
 *   makeService(options, reactor) {
 *     const factory = Factory.forProtocol(Greeter);
 *     const build = factory.buildProtocol.bind(factory);
 *     factory.buildProtocol = (addr) => {
 *       const protocol = build(addr);
 *       if (protocol !== null) protocol.greeting = String(options.greeting);
 *       return protocol;
 *     };
 *     const root = new MultiService("greeter"); // the runner prints "greeter listening on ..."
 *     for (const description of options.listen) {
 *       new StreamServerEndpointService(serverFromString(reactor, description), factory)
 *         .setServiceParent(root);
 *     }
 *     return root;
 *   },
 * };
 * export default maker;
 * ```
 */
export interface ServiceMaker {
  /** One line saying what the service does, for `--help`. */
  description: string;
  /** Its command-line options, by name. */
  options?: Record<string, ServiceMakerOption>;
  /** The positional arguments' names for `--help` (e.g. `URL`); without it none are taken. */
  positionals?: string;
  /** Endpoints used when no `--listen` is given. */
  defaultListen?: string[];
  /** Whether `--listen` is taken (default true). */
  acceptsListen?: boolean;
  /** Whether it can run in several workers (`--workers`, default true). */
  acceptsWorkers?: boolean;
  /**
   * Text printed once, after the `listening on` lines, once the service
   * has started (how to connect, say).
   */
  banner?(ports: readonly ListeningAnnouncement[]): string;
  /**
   * Makes the service from the parsed options. Throw the runner's
   * `UsageError` for a bad option value (exit code 2); any other error, or
   * a service that fails to start, exits 1.
   */
  makeService(
    options: ServiceOptions,
    reactor: DenoReactor,
  ): ServiceLike | Deferred<ServiceLike> | PromiseLike<ServiceLike>;
}
