/**
 * The root of a service tree, started and stopped by the reactor (Twisted's
 * `Application` with `startApplication`).
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import { reactor as defaultReactor } from "../reactor/deno_reactor.ts";
import { MultiService } from "./multi_service.ts";

/** What an {@linkcode Application} needs of its reactor; `DenoReactor` has it. */
export interface ApplicationReactor {
  /** Whether the reactor is running. */
  readonly running: boolean;
  /** Calls `fn` once the reactor runs (at once if it does). */
  callWhenRunning(fn: () => unknown): unknown;
  /** Registers `fn` for a phase of a system event. */
  addSystemEventTrigger(
    phase: "before" | "during" | "after",
    event: string,
    fn: () => unknown,
  ): unknown;
}

/**
 * The root service of a program: a named {@linkcode MultiService} that
 * {@linkcode Application.startWith} ties to the reactor's life. The tree
 * starts once the reactor runs and stops in the reactor's `before shutdown`
 * phase, children in reverse order, and the shutdown waits for every stop;
 * so one Ctrl-C (or SIGTERM, or `reactor.stop()`) stops the whole tree in
 * order before the reactor closes what is left.
 *
 * The runner (`cli.ts`) puts every service it runs under an Application;
 * use one yourself when you write your own main module.
 *
 * Divergence from Twisted, where `Application(name)` is a componentized
 * object read through `IService(app)` and `IServiceCollection(app)`, and
 * `twistd` starts it: here it is a plain MultiService subclass, started by
 * `startWith`, and it has no uid, gid or persistence.
 *
 * @example A program with its own main
 * ```ts ignore
 * import { Application, StreamServerEndpointService } from "@torsion/torsion/application";
 * import { Echo, Factory, reactor, serverFromString } from "@torsion/torsion";
 *
 * const app = new Application("echo");
 * new StreamServerEndpointService(serverFromString(reactor, "tcp:8007"), Factory.forProtocol(Echo))
 *   .setServiceParent(app);
 * app.startWith(reactor).addErrback(() => reactor.stop()); // could not listen
 * await reactor.run(); // until Ctrl-C: the port closes, then the process exits
 * ```
 */
export class Application extends MultiService {
  #attached = false;

  /**
   * Makes an empty, stopped application.
   *
   * @param name The application's name.
   */
  constructor(name: string) {
    super(name);
  }

  /**
   * Ties the tree to `reactor`: `privilegedStartService()` and
   * `startService()` once it runs (at once if it does), and
   * `stopService()` in its `before shutdown` phase.
   *
   * @param reactor The reactor (default: the process-wide one).
   * @returns A Deferred that fires once the tree has started, or fails with
   *   its first failure to start; add an errback, such as one that stops
   *   the reactor.
   * @throws {Error} If called twice.
   */
  startWith(reactor: ApplicationReactor = defaultReactor): Deferred<void> {
    if (this.#attached) throw new Error(`The application ${this.name} is started already`);
    this.#attached = true;
    const started = new Deferred<void>();
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      if (this.running) return this.stopService();
    });
    reactor.callWhenRunning(() => {
      try {
        this.privilegedStartService();
      } catch (error) {
        started.errback(error);
        return;
      }
      this.startService().addCallbacks(
        () => started.callback(undefined),
        (failure: Failure) => started.errback(failure),
      );
    });
    return started;
  }
}
