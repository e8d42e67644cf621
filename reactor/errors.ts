/**
 * Errors raised by the reactor. Each class has its `name` set, so it can be
 * matched by class or by name (`failure.check("ReactorNotRunning")`).
 *
 * @module
 */

// ---------------------------------------------------------------------------
// Lifecycle: run() and stop()
// ---------------------------------------------------------------------------

/**
 * Thrown by `reactor.stop()` when the reactor is not running: it was never
 * started, or a stop is already under way. Code that may race with another
 * stop (a signal, `react`) catches it, as Twisted code does.
 *
 * @example Stopping a reactor that never ran
 * ```ts
 * import { DenoReactor, ReactorNotRunning } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const reactor = new DenoReactor();
 * assert.throws(() => reactor.stop(), ReactorNotRunning);
 * ```
 */
export class ReactorNotRunning extends Error {
  /**
   * Makes the error.
   *
   * @param message What was attempted.
   */
  constructor(message = "Can't stop a reactor that isn't running") {
    super(message);
    this.name = "ReactorNotRunning";
  }
}

/**
 * Thrown by `reactor.run()` while the reactor is already running: `run()` is
 * called once per program, usually at the end of the main module.
 *
 * @example Running twice
 * ```ts ignore
 * import { reactor, ReactorAlreadyRunning } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * reactor.callWhenRunning(() => {
 *   assert.throws(() => reactor.run(), ReactorAlreadyRunning);
 *   reactor.stop();
 * });
 * await reactor.run();
 * ```
 */
export class ReactorAlreadyRunning extends Error {
  /**
   * Makes the error.
   *
   * @param message What was attempted.
   */
  constructor(message = "The reactor is already running") {
    super(message);
    this.name = "ReactorAlreadyRunning";
  }
}

/**
 * Thrown by `reactor.run()` after the reactor has been stopped: as in
 * Twisted, a reactor runs at most once. Tests that need a full lifecycle
 * build a fresh `new DenoReactor()` each time.
 *
 * @example Running after a stop
 * ```ts
 * import { DenoReactor, ReactorNotRestartable } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const reactor = new DenoReactor();
 * reactor.callWhenRunning(() => reactor.stop());
 * await reactor.run({ installSignalHandlers: false });
 * assert.throws(() => reactor.run(), ReactorNotRestartable);
 * ```
 */
export class ReactorNotRestartable extends Error {
  /**
   * Makes the error.
   *
   * @param message What was attempted.
   */
  constructor(message = "The reactor cannot be restarted once it has been stopped") {
    super(message);
    this.name = "ReactorNotRestartable";
  }
}
