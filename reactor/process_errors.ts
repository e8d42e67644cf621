/**
 * Why a child process ended, and the error for signalling one that has
 * already exited. A process protocol's `processExited` and `processEnded`
 * get a `Failure` wrapping {@linkcode ProcessDone} or
 * {@linkcode ProcessTerminated}; as in Twisted they derive from
 * `ConnectionDone` and `ConnectionLost`, so code that only asks "clean or
 * not?" treats a process like a connection.
 *
 * @module
 */
import { ConnectionDone, ConnectionLost } from "./connection_errors.ts";

/**
 * The reason given to `processExited` and `processEnded` when the child
 * exited with code 0: it finished without apparent errors.
 *
 * Divergence from Twisted: `status` is rebuilt from what Deno reports (the
 * exit code shifted left by 8, as POSIX `waitpid` encodes it), not read from
 * `waitpid` itself.
 *
 * @example Telling success from failure in processEnded
 * ```ts
 * import { Failure } from "@torsion/torsion/defer";
 * import { ProcessDone, ProcessTerminated } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const reason = new Failure(new ProcessDone(0));
 * assert.equal(reason.check(ProcessDone, ProcessTerminated), ProcessDone);
 * assert.equal(reason.value instanceof ProcessDone && reason.value.exitCode, 0);
 * ```
 */
export class ProcessDone extends ConnectionDone {
  /** Always 0. */
  readonly exitCode: 0 = 0;
  /** Always `null`: the child was not killed by a signal. */
  readonly signal: null = null;
  /** The name of the signal: always `null`. */
  readonly signalName: null = null;
  /** The raw wait status (0 for exit code 0). */
  readonly status: number;

  /**
   * Makes the reason; the reactor builds it when a child exits with code 0.
   *
   * @param status The raw wait status, normally 0.
   */
  constructor(status: number = 0) {
    super("Process finished with exit code 0");
    this.name = "ProcessDone";
    this.status = status;
  }
}

/**
 * The reason given to `processExited` and `processEnded` when the child
 * ended with a probable error: a non-zero exit code (`exitCode`, with
 * `signal` `null`) or a signal (`signal` and `signalName`, with `exitCode`
 * `null`).
 *
 * Divergences from Twisted: `signalName` is added (`"SIGKILL"`), as signal
 * numbers differ between platforms while names do not; `status` is rebuilt
 * from what Deno reports (the exit code shifted left by 8, or the signal
 * number), not read from `waitpid`, so it never has the core-dump bit.
 *
 * @example Checking why a child failed
 * ```ts
 * import { Failure } from "@torsion/torsion/defer";
 * import { ProcessTerminated } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const exited = new ProcessTerminated(3, null, 3 << 8);
 * assert.equal(exited.message, "Process ended with exit code 3");
 *
 * const reason = new Failure(new ProcessTerminated(null, 9, 9, "SIGKILL"));
 * assert.ok(reason.value instanceof ProcessTerminated);
 * assert.equal(reason.value.signalName, "SIGKILL");
 * assert.equal(reason.value.exitCode, null);
 * assert.equal(reason.getErrorMessage(), "Process ended by signal 9 (SIGKILL)");
 * ```
 */
export class ProcessTerminated extends ConnectionLost {
  /** The exit code, or `null` if a signal ended the child. */
  readonly exitCode: number | null;
  /** The number of the signal that ended the child, or `null`. */
  readonly signal: number | null;
  /** The name of that signal (`"SIGTERM"`), or `null`. */
  readonly signalName: string | null;
  /** The raw wait status, when known. */
  readonly status: number | null;

  /**
   * Makes the reason; the reactor builds it when a child exits with a
   * non-zero code or is killed by a signal. The message names the code or
   * the signal.
   *
   * @param exitCode The exit code, or `null` if a signal ended the child.
   * @param signal The signal's number, or `null`.
   * @param status The raw wait status, or `null` if unknown.
   * @param signalName The signal's name, or `null`.
   */
  constructor(
    exitCode: number | null = null,
    signal: number | null = null,
    status: number | null = null,
    signalName: string | null = null,
  ) {
    let message = "Process ended";
    if (exitCode !== null) message += ` with exit code ${exitCode}`;
    if (signal !== null || signalName !== null) {
      const parts = [signal, signalName].filter((part) => part !== null);
      message += ` by signal ${parts[0]}${parts.length > 1 ? ` (${parts[1]})` : ""}`;
    }
    super(message);
    this.name = "ProcessTerminated";
    this.exitCode = exitCode;
    this.signal = signal;
    this.signalName = signalName;
    this.status = status;
  }
}

/**
 * Thrown by `signalProcess` when the child has already exited, so there is
 * no process left to signal. Code that races a kill against the child's own
 * exit catches it, as Twisted code does.
 *
 * @example Killing a child that may have exited already
 * ```ts ignore
 * import { ProcessExitedAlready } from "@torsion/torsion/reactor";
 *
 * try {
 *   protocol.transport!.signalProcess("KILL");
 * } catch (error) {
 *   if (!(error instanceof ProcessExitedAlready)) throw error;
 * }
 * ```
 */
export class ProcessExitedAlready extends Error {
  /**
   * Makes the error.
   *
   * @param message What could not be done.
   * @param options The `cause`, if any: the Deno error.
   */
  constructor(
    message: string = "The process has already exited",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ProcessExitedAlready";
  }
}
