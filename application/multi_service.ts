/**
 * A service made of services (Twisted's `MultiService`).
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import { Service, type ServiceLike, type ServiceParent } from "./service.ts";
import type { Failure } from "../defer/failure.ts";
import { Logger } from "../reactor/log.ts";
import { _settleAll } from "./_settle.ts";

const logger = new Logger("service");

/**
 * Holds child services and starts and stops them with itself: children
 * start in the order they were added and stop in the reverse order. No
 * child waits for another (as in Twisted): each is started, or stopped, in
 * turn, and the returned Deferred waits for all of them.
 *
 * Divergence from Twisted: `startService()` returns a Deferred that fires
 * once every child has started and fails with the first child's failure to
 * start (once the others have settled); `stopService()` fails likewise with
 * the first failure to stop, where Twisted's DeferredList never fails.
 *
 * @example Order of starts and stops
 * ```ts
 * import { MultiService, Service } from "@torsion/torsion/application";
 * import assert from "node:assert/strict";
 *
 * const events: string[] = [];
 * class Step extends Service {
 *   override startService(): void {
 *     super.startService();
 *     events.push(`start ${this.name}`);
 *   }
 *   override stopService(): void {
 *     super.stopService();
 *     events.push(`stop ${this.name}`);
 *   }
 * }
 * const root = new MultiService();
 * for (const name of ["database", "web"]) new Step(name).setServiceParent(root);
 * await root.startService();
 * await root.stopService();
 * assert.deepEqual(events, ["start database", "start web", "stop web", "stop database"]);
 * ```
 */
export class MultiService extends Service implements ServiceParent, Iterable<ServiceLike> {
  #services: ServiceLike[] = [];
  #named = new Map<string, ServiceLike>();

  /**
   * Calls every child's `privilegedStartService`, in order.
   */
  override privilegedStartService(): void {
    super.privilegedStartService();
    for (const service of [...this.#services]) service.privilegedStartService();
  }

  /**
   * Starts every child, in the order added.
   *
   * @returns A Deferred that fires once every child has started, or fails
   *   with the first failure to start.
   */
  override startService(): Deferred<void> {
    super.startService();
    return _settleAll([...this.#services].map((service) => () => service.startService()), "start");
  }

  /**
   * Stops every child, the last added first.
   *
   * @returns A Deferred that fires once every child has stopped (or failed
   *   to), failing with the first failure.
   */
  override stopService(): Deferred<void> {
    super.stopService();
    return _settleAll(
      [...this.#services].reverse().map((service) => () => service.stopService()),
      "stop",
    );
  }

  /**
   * The child named `name`.
   *
   * @param name The name.
   * @returns The child.
   * @throws {RangeError} If no child has that name.
   */
  getServiceNamed(name: string): ServiceLike {
    const service = this.#named.get(name);
    if (service === undefined) throw new RangeError(`No service named ${JSON.stringify(name)}`);
    return service;
  }

  /**
   * Adds a child, which is started at once (privileged start included) if
   * this service is running. Prefer `child.setServiceParent(parent)`, which
   * also sets the child's `parent`.
   *
   * @param service The child.
   * @throws {Error} If a child of the same name is there already, or the
   *   service is a child already.
   */
  addService(service: ServiceLike): void {
    if (this.#services.includes(service)) throw new Error("The service is a child already");
    if (service.name !== undefined) {
      if (this.#named.has(service.name)) {
        throw new Error(`Cannot have two services named ${JSON.stringify(service.name)}`);
      }
      this.#named.set(service.name, service);
    }
    this.#services.push(service);
    if (this.running) {
      // Too late to report a failure to the caller: it is logged.
      _settleAll([() => {
        service.privilegedStartService();
        return service.startService();
      }], "start").addErrback((failure: Failure) => {
        logger.error(`a service added while running failed to start`, failure);
      });
    }
  }

  /**
   * Removes a child, stopping it if this service is running.
   *
   * @param service The child.
   * @returns The child's stop, if this service is running.
   * @throws {Error} If it is not a child.
   */
  removeService(service: ServiceLike): Deferred<void> | void {
    const index = this.#services.indexOf(service);
    if (index === -1) throw new Error("The service is not a child");
    this.#services.splice(index, 1);
    if (service.name !== undefined) this.#named.delete(service.name);
    if (this.running) return service.stopService();
  }

  /**
   * The children, in the order added.
   *
   * @returns An iterator over them.
   */
  [Symbol.iterator](): Iterator<ServiceLike> {
    return this.#services[Symbol.iterator]();
  }
}
