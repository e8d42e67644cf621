/**
 * Twisted's three-phase system events (`startup`, `shutdown`, or any name):
 * the machinery behind `reactor.addSystemEventTrigger`. Private to the
 * reactor; `DenoReactor` and the testing fakes hold one each.
 *
 * @module
 */
import { _isThenable, Deferred } from "../defer/deferred.ts";
import { DeferredList } from "../defer/deferred_list.ts";
import { Failure } from "../defer/failure.ts";
import { Logger } from "./log.ts";

const logger = new Logger("reactor");

/** When a system event trigger runs, relative to the others of its event. */
export type TriggerPhase = "before" | "during" | "after";

/**
 * The handle `addSystemEventTrigger` returns, for `removeSystemEventTrigger`.
 * Treat it as opaque: only handles made by the same reactor are accepted.
 */
export interface TriggerId {
  /** The event the trigger belongs to, such as `"shutdown"`. */
  readonly event: string;
  /** The phase it runs in. */
  readonly phase: TriggerPhase;
}

const PHASES: readonly string[] = ["before", "during", "after"];

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => unknown;

class Trigger implements TriggerId {
  readonly event: string;
  readonly phase: TriggerPhase;
  readonly fn: AnyFn;
  readonly args: unknown[];
  readonly log: (message: string) => void;

  constructor(
    event: string,
    phase: TriggerPhase,
    fn: AnyFn,
    args: unknown[],
    log: (message: string) => void,
  ) {
    this.event = event;
    this.phase = phase;
    this.fn = fn;
    this.args = args;
    this.log = log;
  }

  describe(): string {
    return `${this.phase} ${this.event} trigger ${this.fn.name || "(anonymous)"}`;
  }

  // Runs the trigger; a thrown error or a failed result is logged, never
  // propagated. Returns a Deferred to wait for, if the trigger returned one.
  run(): Deferred<void> | undefined {
    let result: unknown;
    try {
      result = this.fn(...this.args);
    } catch (error) {
      this.#report(Failure.from(error));
      return undefined;
    }
    if (result instanceof Deferred || _isThenable(result)) {
      const d = result instanceof Deferred ? result : Deferred.fromPromise(result);
      return d.addCallbacks(() => undefined, (failure: Failure) => this.#report(failure));
    }
    return undefined;
  }

  #report(failure: Failure): void {
    this.log(`Error in system event ${this.describe()}:\n${failure.getTraceback()}`);
  }
}

// The triggers of one event. Lists are consumed as they run, so a trigger runs
// once, a trigger removed before its turn never runs, and one added to a
// later phase while the event fires still runs, all as in Twisted.
class ThreePhaseEvent {
  readonly before: Trigger[] = [];
  readonly during: Trigger[] = [];
  readonly after: Trigger[] = [];
  // "before" from the start of firing until the during phase begins.
  state: "base" | "before" = "base";
  finishedBefore: Trigger[] = [];

  fire(): Deferred<void> {
    this.state = "before";
    this.finishedBefore = [];
    const waits: Deferred<void>[] = [];
    while (this.before.length > 0) {
      const trigger = this.before.shift()!;
      this.finishedBefore.push(trigger);
      const wait = trigger.run();
      if (wait !== undefined) waits.push(wait);
    }
    return whenAll(waits).addCallback(() => this.#continueFiring());
  }

  #continueFiring(): Deferred<void> {
    this.state = "base";
    this.finishedBefore = [];
    const waits: Deferred<void>[] = [];
    for (const phase of [this.during, this.after]) {
      while (phase.length > 0) {
        const wait = phase.shift()!.run();
        if (wait !== undefined) waits.push(wait);
      }
    }
    return whenAll(waits);
  }
}

// Fires once every Deferred in `ds` has fired (they never fail: run() logs).
function whenAll(ds: Deferred<void>[]): Deferred<void> {
  return new DeferredList(ds).addCallback(() => undefined);
}

/**
 * The system event triggers of one reactor.
 *
 * Firing an event runs its `before` triggers in order, waits for every
 * Deferred (or PromiseLike) they returned, then runs the `during` and then the
 * `after` triggers. An error thrown by a trigger, or a failure of the Deferred
 * it returned, is logged (namespace `reactor`) and does not stop the others.
 *
 * Divergences from Twisted: `fireSystemEvent` returns a Deferred that fires
 * once the `after` triggers have run and every Deferred returned by a
 * `during` or `after` trigger has fired too (Twisted returns nothing and does
 * not wait for those); a PromiseLike counts as a Deferred; removing a
 * `before` trigger that has already run while its event is still in the
 * `before` phase is silently ignored (Twisted warns that it will raise one
 * day). Removing a trigger that already ran otherwise throws.
 */
export class SystemEventTriggers {
  #events = new Map<string, ThreePhaseEvent>();
  #log: (message: string) => void;

  /**
   * @param log Where errors in triggers are reported (default: the
   * `reactor` log).
   */
  constructor(log: (message: string) => void = (message) => logger.error(message)) {
    this.#log = log;
  }

  /**
   * Registers `fn(...args)` to run in `phase` of `event`.
   *
   * @param phase `"before"`, `"during"` or `"after"`.
   * @param event The event name: `"startup"`, `"shutdown"` or your own.
   * @param fn The trigger; a `before` trigger may return a Deferred or a
   * PromiseLike to hold the `during` phase until it fires.
   * @param args Arguments for `fn`.
   * @returns A handle for {@linkcode SystemEventTriggers.removeSystemEventTrigger}.
   * @throws {TypeError} For an unknown phase, a non-string event or a
   * non-function `fn`.
   */
  addSystemEventTrigger<A extends unknown[]>(
    phase: TriggerPhase,
    event: string,
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerId {
    if (!PHASES.includes(phase)) {
      throw new TypeError(
        `Invalid system event trigger phase: ${
          JSON.stringify(phase) ?? String(phase)
        } (expected "before", "during" or "after")`,
      );
    }
    if (typeof event !== "string") {
      throw new TypeError(`System event name must be a string, got ${String(event)}`);
    }
    if (typeof fn !== "function") {
      throw new TypeError(`System event trigger must be a function, got ${String(fn)}`);
    }
    let threePhase = this.#events.get(event);
    if (threePhase === undefined) {
      threePhase = new ThreePhaseEvent();
      this.#events.set(event, threePhase);
    }
    const trigger = new Trigger(event, phase, fn as AnyFn, args, this.#log);
    threePhase[phase].push(trigger);
    return trigger;
  }

  /**
   * Unregisters a trigger. A trigger removed before its turn does not run,
   * even while its event is firing.
   *
   * @param id A handle from {@linkcode SystemEventTriggers.addSystemEventTrigger}.
   * @throws {TypeError} If `id` is not such a handle.
   * @throws {Error} If the trigger has already been removed or has already run.
   */
  removeSystemEventTrigger(id: TriggerId): void {
    if (!(id instanceof Trigger)) {
      throw new TypeError(`Not a system event trigger id: ${String(id)}`);
    }
    const threePhase = this.#events.get(id.event);
    if (threePhase === undefined) throw notRegistered(id);
    if (
      id.phase === "before" && threePhase.state === "before" &&
      threePhase.finishedBefore.includes(id)
    ) {
      return;
    }
    const list = threePhase[id.phase];
    const index = list.indexOf(id);
    if (index === -1) throw notRegistered(id);
    list.splice(index, 1);
  }

  /**
   * Fires `event`: its `before` triggers, then (once their Deferreds have
   * fired) its `during` and `after` triggers. Each trigger runs once: firing
   * the event again runs only triggers added since.
   *
   * @param event The event name.
   * @returns A Deferred that fires when the `after` triggers have run and
   * every Deferred returned by a trigger has fired. It never fails.
   */
  fireSystemEvent(event: string): Deferred<void> {
    const threePhase = this.#events.get(event);
    if (threePhase === undefined) {
      const d = new Deferred<void>();
      d.callback(undefined);
      return d;
    }
    return threePhase.fire();
  }
}

function notRegistered(id: Trigger): Error {
  return new Error(
    `System event ${id.describe()} is not registered (already removed or already run)`,
  );
}
