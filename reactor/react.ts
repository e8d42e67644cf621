import { Deferred } from "../defer/deferred.ts";
import { Failure } from "../defer/failure.ts";
import { maybeDeferred } from "../defer/helpers.ts";
import { ensureDeferred } from "../defer/inline_callbacks.ts";
import { type DenoReactor, reactor as defaultReactor } from "./deno_reactor.ts";
import { ReactorNotRunning } from "./errors.ts";

/** Options for {@linkcode react}. */
export interface ReactOptions {
  /**
   * Ends the process with the exit code; `Deno.exit` by default. Tests pass
   * a function that records the code instead.
   */
  exit?: (code: number) => void;
}

const SIGNAL_EXIT_CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs a program whose work is one asynchronous `main` function, then exits:
 * the way to write a command-line client or a one-off job. It takes care of
 * what is easy to get wrong with `reactor.run()` by hand: it stops the
 * reactor exactly once, at the right time, reports a failure, and exits with
 * a meaningful code.
 *
 * `main(reactor, ...argv)` is called at once (before the reactor runs, as in
 * Twisted) and may return a Deferred, a promise (an `async` function), a
 * generator (as written for `inlineCallbacks`) or a plain value; a thrown
 * error counts as a failure. When that result settles, the reactor stops and
 * its shutdown triggers run; then the process exits with:
 *
 * - `0` when `main` succeeded;
 * - `1` when it failed, after printing `main function encountered error` and
 *   the failure's traceback with `console.error`;
 * - `130` (SIGINT) or `143` (SIGTERM) when a signal stopped the reactor
 *   before `main` finished (Twisted's `react` exits 0 then; a shell reports
 *   a signal this way).
 *
 * A `main` that settles during shutdown counts, as in Twisted: when a
 * shutdown trigger fails what an `async` main awaits, the exit code is 1. As
 * a promise passes its outcome on in promise jobs, not synchronously, `react`
 * lets them run (one turn of the event loop) after the reactor has stopped
 * and before it picks the code.
 *
 * Divergences from Twisted: there is no `SystemExit` to carry another code;
 * call `Deno.exit(code)` from `main` for that.
 *
 * @param main The program. It gets the reactor, then the `argv` elements.
 * @param argv Extra arguments for `main`, such as `Deno.args`.
 * @param reactorInstance The reactor to run: the process-wide one by default.
 * @param options An `exit` function to use instead of `Deno.exit`.
 * @returns A promise that never settles in a real program (the process has
 * exited); with an `exit` that returns, it resolves with the exit code.
 * @throws {ReactorAlreadyRunning} If the reactor is running already.
 * @throws {ReactorNotRestartable} If it has run before.
 *
 * @example A one-off job
 * ```ts ignore
 * import { deferLater, react } from "@torsion/torsion/reactor";
 *
 * react(async (reactor, name) => {
 *   await deferLater(reactor, 0.1, () => {});
 *   console.log(`hello, ${name}`);
 * }, ["world"]); // prints "hello, world", then exits with 0
 * ```
 */
export function react<A extends unknown[]>(
  main: (reactor: DenoReactor, ...argv: A) => unknown,
  argv: A = [] as unknown as A,
  reactorInstance: DenoReactor = defaultReactor,
  options: ReactOptions = {},
): Promise<number> {
  const exit = options.exit ?? ((code: number): void => Deno.exit(code));
  const finished = start(main, reactorInstance, argv);

  let code: number | undefined;
  let stopping = false;
  reactorInstance.addSystemEventTrigger("before", "shutdown", () => {
    stopping = true;
  });

  const stop = (result: unknown, stopReactor: boolean): void => {
    if (stopReactor) {
      try {
        reactorInstance.stop();
      } catch (error) {
        if (!(error instanceof ReactorNotRunning)) throw error;
      }
    }
    if (result instanceof Failure) {
      console.error(`main function encountered error\n${result.getTraceback()}`);
      code = 1;
    } else {
      code = 0;
    }
  };

  finished.addBoth((result: unknown) => {
    if (stopping) stop(result, false);
    else reactorInstance.callWhenRunning(stop, result, true);
  });

  return reactorInstance.run().then(async () => {
    // A shutdown trigger may have just settled what an async main awaits;
    // the news reaches `finished` through promise jobs, which all run before
    // the next macrotask. Twisted's coroutines resume synchronously instead.
    if (code === undefined) await new Promise((resolve) => setTimeout(resolve, 0));
    const signal = reactorInstance.exitSignal;
    const exitCode = code ?? (signal !== undefined ? SIGNAL_EXIT_CODES[signal] ?? 1 : 0);
    exit(exitCode);
    return exitCode;
  });
}

// Calls main and turns whatever it gives into a Deferred.
function start<A extends unknown[]>(
  main: (reactor: DenoReactor, ...argv: A) => unknown,
  reactorInstance: DenoReactor,
  argv: A,
): Deferred<unknown> {
  let result: unknown;
  try {
    result = main(reactorInstance, ...argv);
  } catch (error) {
    const d = new Deferred<unknown>();
    d.errback(error);
    return d;
  }
  if (isGenerator(result)) return ensureDeferred(result);
  return maybeDeferred(() => result);
}

function isGenerator(x: unknown): x is Generator<unknown, unknown, unknown> {
  return typeof x === "object" && x !== null &&
    typeof (x as Generator).next === "function" &&
    typeof (x as Generator).throw === "function" &&
    typeof (x as Generator)[Symbol.iterator] === "function";
}
