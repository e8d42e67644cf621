/**
 * The service: something with a start and a stop that lives in a tree
 * (Twisted's `twisted.application.service.IService` and `Service`).
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";

/**
 * What a child needs of its parent in a service tree:
 * {@linkcode MultiService} has this shape.
 */
export interface ServiceParent {
  /** Adds a child; starts it at once if the parent is running. */
  addService(service: ServiceLike): void;
  /** Removes a child; stops it if the parent is running, returning that stop. */
  removeService(service: ServiceLike): Deferred<void> | void;
}

/**
 * A service as a tree sees it (Twisted's `IService`): {@linkcode Service}
 * and its subclasses, and the reactor's `ClientService`.
 */
export interface ServiceLike {
  /** Its name among its parent's children, or `undefined`. */
  name: string | undefined;
  /** The service it is a child of, if any. */
  parent: ServiceParent | undefined;
  /** Whether it has been started and not stopped since. */
  readonly running: boolean;
  /** Makes it a child of `parent`, leaving any previous parent. */
  setServiceParent(parent: ServiceParent): void;
  /** Leaves its parent; returns the stop, if the parent was running. */
  disownServiceParent(): Deferred<void> | void;
  /** Work that needs the privileges the process starts with (binding port 80). */
  privilegedStartService(): void;
  /** Starts; a returned Deferred fires once started, or fails if it could not start. */
  startService(): Deferred<void> | void;
  /** Stops; a returned Deferred fires once stopped. */
  stopService(): Deferred<void> | void;
}

/**
 * The base of every service: it keeps the book of `name`, `parent` and
 * `running`. Subclasses override `startService` and `stopService` (calling
 * `super`), returning a Deferred when starting or stopping takes time.
 *
 * Divergences from Twisted: `startService()` may return a Deferred, which
 * fails when the service could not start (a port in use), so that a
 * runner can exit 1 rather than run without it; there is no `setName()`,
 * since `name` is a plain field, but {@linkcode MultiService.addService}
 * refuses a name taken by a sibling.
 *
 * @example A service that logs its life
 * ```ts
 * import { MultiService, Service } from "@torsion/torsion/application";
 * import assert from "node:assert/strict";
 *
 * const events: string[] = [];
 * class Greeter extends Service {
 *   override startService(): void {
 *     super.startService();
 *     events.push("hello");
 *   }
 *   override stopService(): void {
 *     super.stopService();
 *     events.push("goodbye");
 *   }
 * }
 * const root = new MultiService();
 * new Greeter("greeter").setServiceParent(root);
 * root.startService();
 * assert.equal(root.getServiceNamed("greeter").running, true);
 * await root.stopService();
 * assert.deepEqual(events, ["hello", "goodbye"]);
 * ```
 */
export class Service implements ServiceLike {
  /** Its name among its parent's children, or `undefined`. */
  name: string | undefined;
  /** The service it is a child of, if any. */
  parent: ServiceParent | undefined = undefined;
  #running = false;

  /**
   * Makes a stopped service.
   *
   * @param name Its name among its parent's children (optional).
   */
  constructor(name?: string) {
    this.name = name;
  }

  /** Whether it has been started and not stopped since. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Makes this a child of `parent`, leaving its previous parent first. The
   * parent starts it at once if the parent is running.
   *
   * @param parent The new parent.
   * @throws {Error} If the parent has a child of the same name.
   */
  setServiceParent(parent: ServiceParent): void {
    if (this.parent !== undefined) this.disownServiceParent();
    this.parent = parent;
    try {
      parent.addService(this);
    } catch (error) {
      this.parent = undefined;
      throw error;
    }
  }

  /**
   * Leaves the parent, which stops this service if the parent is running.
   *
   * @returns The stop's Deferred, when the parent was running and the stop
   *   takes time.
   * @throws {Error} If the service has no parent.
   */
  disownServiceParent(): Deferred<void> | void {
    const parent = this.parent;
    if (parent === undefined) throw new Error(`The service ${this.#label()} has no parent`);
    const stopped = parent.removeService(this);
    this.parent = undefined;
    return stopped;
  }

  /**
   * Runs before `startService`, while the process may still hold privileges
   * it gives up later. The base does nothing.
   */
  privilegedStartService(): void {}

  /**
   * Starts the service: the base sets `running`.
   *
   * @returns Nothing here; subclasses may return a Deferred of the start.
   */
  startService(): Deferred<void> | void {
    this.#running = true;
  }

  /**
   * Stops the service: the base clears `running`.
   *
   * @returns Nothing here; subclasses may return a Deferred of the stop.
   */
  stopService(): Deferred<void> | void {
    this.#running = false;
  }

  #label(): string {
    return this.name === undefined ? this.constructor.name : JSON.stringify(this.name);
  }
}
