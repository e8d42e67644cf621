import { _isThenable, Deferred } from "../defer/deferred.ts";
import { DeferredList } from "../defer/deferred_list.ts";
import { Failure } from "../defer/failure.ts";
import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import { SystemEventTriggers, type TriggerId, type TriggerPhase } from "./_event_triggers.ts";
import { realTime, setKeepAlive } from "./_real_time.ts";
import { ReactorAlreadyRunning, ReactorNotRestartable, ReactorNotRunning } from "./errors.ts";
import { CannotListenError } from "./connection_errors.ts";
import type { ThreadPool } from "./thread_pool.ts";
import { getThreadPool } from "./threads.ts";
import type { ClientFactoryLike, FactoryLike } from "./interfaces.ts";
import {
  _disconnectAll as disconnectAllTCP,
  connectTCP,
  type ConnectTCPOptions,
  listenTCP,
  type ListenTCPOptions,
  type TCPConnector,
  type TCPPort,
} from "./tcp.ts";
import {
  connectSSL,
  listenSSL,
  type TLSClientOptions,
  type TLSConnector,
  type TLSPort,
  type TLSServerOptions,
} from "./tls.ts";
import {
  connectUNIX,
  type ConnectUNIXOptions,
  listenUNIX,
  type ListenUNIXOptions,
  type UNIXConnector,
  type UNIXPort,
} from "./unix.ts";
import {
  _stopAllUDPPorts,
  type DatagramProtocolLike,
  listenUDP,
  type ListenUDPOptions,
  type UDPPort,
} from "./udp.ts";
import {
  type Process,
  type ProcessProtocolLike,
  spawnProcess,
  type SpawnProcessOptions,
} from "./process.ts";
import { resolve } from "./resolve.ts";

/** Options for {@linkcode DenoReactor}'s constructor. */
export interface DenoReactorOptions {
  /**
   * Where `seconds`, `callLater` and `getDelayedCalls` go: by default the
   * process-wide real-time scheduler; a `Clock` makes them deterministic.
   */
  time?: ReactorTime;
  /**
   * The pool behind `callInThread` and `suggestThreadPoolSize`: by default
   * the process-wide pool that `deferToThread` uses too.
   */
  threadPool?: ThreadPool;
}

/** Options for {@linkcode DenoReactor.run}. */
export interface RunOptions {
  /**
   * Whether SIGINT and SIGTERM stop the reactor while it runs (default
   * `true`), as Twisted's `installSignalHandlers`.
   */
  installSignalHandlers?: boolean;
  /**
   * Seconds that open connections get, once the shutdown has stopped every
   * listening port, to end by themselves (their peer or their protocol
   * closing them) before the reactor closes them (default 0: at once). The
   * runner's `--grace` sets it, so that a SIGTERM lets requests under way
   * finish.
   */
  gracePeriod?: number;
}

// The exit code of a process killed by the signal, as shells report it.
const EXIT_CODES: ReadonlyArray<readonly [Deno.Signal, number]> = [
  ["SIGINT", 130],
  ["SIGTERM", 143],
];

/**
 * Seconds within which a repeated stop signal counts as the same one. A
 * terminal's Ctrl-C goes to the whole foreground process group, so a program
 * run by `deno task` or `npx` gets it from the terminal and again, forwarded,
 * from its parent, a few milliseconds apart: that is one Ctrl-C, not two.
 */
export const _SIGNAL_REPEAT_WINDOW = 1;

// Reactors that are running hold the process open: one keep-alive for all.
let processHolders = 0;

function holdProcess(): () => void {
  if (processHolders++ === 0) setKeepAlive(true);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--processHolders === 0) setKeepAlive(false);
  };
}

/**
 * Twisted's reactor over Deno's own event loop.
 *
 * Deno's loop is always running, so the reactor is live from the moment it is
 * imported: `callLater` timers fire, and listeners and connections serve,
 * without `run()`. {@linkcode DenoReactor.run} adds
 * Twisted's lifecycle on top: `startup` and `shutdown` system events with
 * their three phases, SIGINT/SIGTERM handling, and keeping the process alive
 * until {@linkcode DenoReactor.stop}. `run()` does not block: it returns a
 * Deferred that fires once the reactor has stopped and every shutdown trigger
 * has finished.
 *
 * As in Twisted, `running` is false in the `before startup` phase, true from
 * `during startup` until `during shutdown`; `stop()` starts the shutdown on a
 * later turn of the event loop; and a reactor runs once. While it runs, the
 * first SIGINT or SIGTERM stops it gracefully (shutdown triggers run); a
 * second one, or one that arrives while a shutdown is already under way,
 * exits the process at once with 130 (SIGINT) or 143 (SIGTERM). Signals
 * that arrive within a second of the one that started the shutdown are that
 * same signal delivered again (a terminal's Ctrl-C reaches a program under
 * `deno task` or `npx` both directly and forwarded by its parent), and are
 * ignored: press Ctrl-C again after a second to force the exit.
 *
 * Use the process-wide {@linkcode reactor} in programs; in tests, build a
 * fresh `new DenoReactor()` for each lifecycle, with
 * `run({ installSignalHandlers: false })` unless signals are what you test.
 *
 * During shutdown, a reactor that opened sockets closes every TCP and UDP
 * port and connection of the process: ports stop listening and connections
 * flush what they can before they close (they are aborted after a grace
 * period of 5 seconds), where Twisted drops them at once.
 *
 * Divergences from Twisted: `run()` returns a Deferred instead of blocking;
 * there is no `crash()` or `iterate()` (Deno owns the loop); `callFromThread`
 * runs its function in a microtask.
 *
 * @example A whole lifecycle
 * ```ts
 * import { DenoReactor } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const reactor = new DenoReactor();
 * const events: string[] = [];
 * reactor.addSystemEventTrigger("before", "shutdown", () => events.push("closing"));
 * reactor.callWhenRunning(() => {
 *   events.push(`running: ${reactor.running}`);
 *   reactor.callLater(0.01, () => reactor.stop());
 * });
 * await reactor.run({ installSignalHandlers: false });
 * assert.deepEqual(events, ["running: true", "closing"]);
 * assert.equal(reactor.running, false);
 * ```
 */
export class DenoReactor implements ReactorTime {
  #time: ReactorTime;
  #threadPool: ThreadPool | undefined;
  #triggers = new SystemEventTriggers();

  // Lifecycle flags, as Twisted's ReactorBase: `#started` from run() until
  // `during shutdown`; `#stopped` is false from run() until stop();
  // `#startedBefore` once stop() was called.
  #running = false;
  #started = false;
  #stopped = true;
  #startedBefore = false;
  #whenStopped: Deferred<void> | undefined;
  #releaseProcess: (() => void) | undefined;

  #installSignals = true;
  #gracePeriod = 0;
  #sharePorts = false;
  #signalListeners: Array<[Deno.Signal, () => void]> = [];
  #exitSignal: Deno.Signal | undefined;
  // When (performance.now(), ms) the signal that started the shutdown came.
  #signalledAt = -Infinity;

  #disconnectHooks = new Set<() => unknown>();
  #usesNetwork = false;

  /**
   * Makes a reactor that is not running yet. Its `callLater` works at once.
   *
   * @param options Where time and threads come from; the defaults are the
   * process-wide ones.
   */
  constructor(options: DenoReactorOptions = {}) {
    this.#time = options.time ?? realTime;
    this.#threadPool = options.threadPool;
    this.#triggers.addSystemEventTrigger("during", "startup", () => this.#reallyStartRunning());
    this.#triggers.addSystemEventTrigger("during", "shutdown", () => this.#crash());
    this.#triggers.addSystemEventTrigger("during", "shutdown", () => this.disconnectAll());
    this.#triggers.addSystemEventTrigger("during", "shutdown", () => this.#disconnectNetwork());
    this.#triggers.addSystemEventTrigger("during", "shutdown", () => this.#stopThreadPool());
  }

  // -------------------------------------------------------------------------
  // Time (IReactorTime)
  // -------------------------------------------------------------------------

  /**
   * The current time in seconds, as a float.
   *
   * @returns The time from the reactor's time source.
   */
  seconds(): number {
    return this.#time.seconds();
  }

  /**
   * Schedules `fn(...args)` to run `delay` seconds from now. An error it
   * throws is logged and does not stop other calls.
   *
   * @param delay Seconds from now, zero or more.
   * @param fn The function to call.
   * @param args Its arguments.
   * @returns A handle to cancel, reset or delay the call.
   * @throws {RangeError} For a negative or non-finite delay.
   */
  // deno-lint-ignore no-explicit-any
  callLater<A extends any[]>(delay: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    return this.#time.callLater(delay, fn, ...args);
  }

  /**
   * Every scheduled call that is still active.
   *
   * @returns The calls, in no particular order.
   */
  getDelayedCalls(): DelayedCall[] {
    return this.#time.getDelayedCalls();
  }

  // -------------------------------------------------------------------------
  // Lifecycle (IReactorCore)
  // -------------------------------------------------------------------------

  /** True from `during startup` until `during shutdown`, as in Twisted. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * The signal (`"SIGINT"` or `"SIGTERM"`) that stopped the reactor, if one
   * did; `react` turns it into the exit code a shell expects.
   */
  get exitSignal(): Deno.Signal | undefined {
    return this.#exitSignal;
  }

  /**
   * Whether this process shares its listening ports with copies of itself,
   * as each of the runner's workers does (`--workers`): then every TCP and
   * TLS port listens with `reusePort` (`SO_REUSEPORT`: Linux only, and Deno
   * needs `--unstable-net`), and listening on port 0 or on a UNIX socket
   * throws {@linkcode CannotListenError}, since each copy would get a port
   * or a socket of its own. Default false.
   */
  get sharePorts(): boolean {
    return this.#sharePorts;
  }

  set sharePorts(share: boolean) {
    this.#sharePorts = share;
  }

  /**
   * Starts the reactor's lifecycle: fires the `startup` event (synchronously,
   * as far as its triggers allow), installs signal handlers, and keeps the
   * process alive until {@linkcode DenoReactor.stop} and the `shutdown`
   * event have run.
   *
   * @param options Whether to handle SIGINT and SIGTERM (default yes), and
   *   the grace period connections get at shutdown.
   * @returns A Deferred that fires once the reactor has stopped and every
   * shutdown trigger has finished, including Deferreds they returned, the
   * disconnect hooks and the jobs still running in the worker pool. It never
   * fails.
   * @throws {ReactorAlreadyRunning} If the reactor is running.
   * @throws {ReactorNotRestartable} If it has been stopped before.
   * @throws {RangeError} For a negative grace period.
   */
  run(options: RunOptions = {}): Deferred<void> {
    if (this.#started) throw new ReactorAlreadyRunning();
    if (this.#startedBefore) throw new ReactorNotRestartable();
    this.#started = true;
    this.#stopped = false;
    const grace = options.gracePeriod ?? 0;
    if (!(grace >= 0)) {
      throw new RangeError(`The grace period must be 0 or more seconds, not ${grace}`);
    }
    this.#installSignals = options.installSignalHandlers ?? true;
    this.#gracePeriod = grace;
    const whenStopped = this.#whenStopped = new Deferred<void>();
    this.#releaseProcess = holdProcess();
    this.#triggers.fireSystemEvent("startup");
    return whenStopped;
  }

  /**
   * Stops the reactor: the `shutdown` event fires on a later turn of the
   * event loop (never synchronously, as in Twisted), then the Deferred from
   * {@linkcode DenoReactor.run} fires and the process may exit.
   *
   * @throws {ReactorNotRunning} If the reactor is not running or a stop is
   * already under way.
   */
  stop(): void {
    if (this.#stopped) throw new ReactorNotRunning();
    this.#stopped = true;
    this.#startedBefore = true;
    setTimeout(() => this.#shutdown(), 0);
  }

  /**
   * Calls `fn(...args)` once the reactor is running: now, if it is (an error
   * it throws reaches the caller), otherwise as an `after startup` trigger.
   *
   * @param fn The function to call.
   * @param args Its arguments.
   * @returns The trigger's id if the call was deferred, else `undefined`.
   */
  callWhenRunning<A extends unknown[]>(
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerId | undefined {
    if (this.#running) {
      fn(...args);
      return undefined;
    }
    return this.#triggers.addSystemEventTrigger("after", "startup", fn, ...args);
  }

  /**
   * Registers `fn(...args)` to run in `phase` of a system event: `startup`,
   * `shutdown` or one of your own, fired with
   * {@linkcode DenoReactor.fireSystemEvent}. The `during` phase waits for
   * every Deferred (or promise) returned by a `before` trigger, so a
   * `before shutdown` trigger can hold the shutdown until, say, a connection
   * has closed. Errors in triggers are logged and do not stop the others.
   *
   * @param phase `"before"`, `"during"` or `"after"`.
   * @param event The event name.
   * @param fn The trigger.
   * @param args Its arguments.
   * @returns An id for {@linkcode DenoReactor.removeSystemEventTrigger}.
   * @throws {TypeError} For an unknown phase.
   */
  addSystemEventTrigger<A extends unknown[]>(
    phase: TriggerPhase,
    event: string,
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerId {
    return this.#triggers.addSystemEventTrigger(phase, event, fn, ...args);
  }

  /**
   * Unregisters a system event trigger; one removed while its event fires
   * does not run if its turn has not come.
   *
   * @param id What {@linkcode DenoReactor.addSystemEventTrigger} returned.
   * @throws {TypeError} If `id` is not a trigger id.
   * @throws {Error} If the trigger was already removed or has already run.
   */
  removeSystemEventTrigger(id: TriggerId): void {
    this.#triggers.removeSystemEventTrigger(id);
  }

  /**
   * Fires a system event's `before`, `during` and `after` triggers. The
   * reactor fires `startup` and `shutdown` itself; use this for your own.
   *
   * @param event The event name.
   * @returns A Deferred that fires once every trigger has finished.
   */
  fireSystemEvent(event: string): Deferred<void> {
    return this.#triggers.fireSystemEvent(event);
  }

  /**
   * Registers work for `during shutdown`: closing a listening port or a
   * connection. Transports register here when they open and unregister when
   * they close; applications should prefer shutdown triggers.
   *
   * @param hook Called once by {@linkcode DenoReactor.disconnectAll}; it may
   * return a Deferred or a promise, which the shutdown then waits for.
   * @returns A function that unregisters the hook.
   */
  addDisconnectHook(hook: () => unknown): () => void {
    this.#disconnectHooks.add(hook);
    return () => {
      this.#disconnectHooks.delete(hook);
    };
  }

  /**
   * Runs and clears every disconnect hook; the reactor calls this during
   * shutdown. An error in one hook is logged and does not stop the others.
   *
   * @returns A Deferred that fires when every hook's result has fired.
   */
  disconnectAll(): Deferred<void> {
    const hooks = [...this.#disconnectHooks];
    this.#disconnectHooks.clear();
    const waits: Deferred<unknown>[] = [];
    for (const hook of hooks) {
      let result: unknown;
      try {
        result = hook();
      } catch (error) {
        logError("a disconnect hook", error);
        continue;
      }
      if (result instanceof Deferred || _isThenable(result)) {
        const d = result instanceof Deferred ? result : Deferred.fromPromise(result);
        waits.push(d.addErrback((f: Failure) => logError("a disconnect hook", f)));
      }
    }
    return whenAll(waits);
  }

  // -------------------------------------------------------------------------
  // Threads (IReactorThreads, IReactorFromThreads)
  // -------------------------------------------------------------------------

  /**
   * Schedules `fn(...args)` to run soon on the reactor's thread, the only
   * thread-safe call in Twisted. A Deno isolate has one JavaScript thread, and
   * workers talk to it by messages, so here this just defers the call: it
   * runs in a microtask, after the current synchronous code and before
   * timers and I/O, in the order of the calls. An error it throws is logged.
   *
   * @param fn The function to call.
   * @param args Its arguments.
   */
  callFromThread<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    queueMicrotask(() => {
      try {
        fn(...args);
      } catch (error) {
        logError("a function passed to callFromThread", error);
      }
    });
  }

  /**
   * Runs a self-contained function in the reactor's worker pool and forgets
   * about it (see {@linkcode ThreadPool} for what `fn` may use); errors are
   * logged. Use `deferToThread` for the result.
   *
   * @param fn The function to run.
   * @param args Its arguments, structured-cloned.
   * @throws {TypeError} If `fn` cannot be sent to a worker.
   */
  callInThread<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    this.getThreadPool().callInThread(fn, ...args);
  }

  /**
   * Sets the most workers the reactor's pool runs at once.
   *
   * @param size A positive integer (10 by default).
   * @throws {RangeError} If `size` is not a positive integer.
   */
  suggestThreadPoolSize(size: number): void {
    this.getThreadPool().adjustPoolsize(size);
  }

  /**
   * The reactor's worker pool; its workers end during shutdown.
   *
   * @returns The pool.
   */
  getThreadPool(): ThreadPool {
    return this.#threadPool ?? getThreadPool();
  }

  // -------------------------------------------------------------------------
  // Networking and processes (IReactorTCP, IReactorUDP, IReactorProcess)
  // -------------------------------------------------------------------------

  /**
   * Listens for TCP connections, binding at once: with port 0, the port the
   * system chose is `getHost().port` as soon as this returns. Each accepted
   * connection gets a protocol from `factory.buildProtocol(addr)`; `null`
   * refuses it. The reactor stops listening during shutdown.
   *
   * @param port The port, or 0 for any free one.
   * @param factory Makes a protocol per connection.
   * @param options `interface` (default every IPv4 one) and `backlog` (50).
   * @returns The listening port.
   * @throws {CannotListenError} If the address cannot be bound, with the
   *   Deno error as `cause`.
   *
   * @example An echo server on a free port
   * ```ts ignore
   * import { Factory, Protocol, reactor } from "@torsion/torsion";
   *
   * class Echo extends Protocol {
   *   override dataReceived(data: Uint8Array): void {
   *     this.transport!.write(data);
   *   }
   * }
   * const port = reactor.listenTCP(0, Factory.forProtocol(Echo), { interface: "127.0.0.1" });
   * console.log(`nc 127.0.0.1 ${port.getHost().port}`);
   * ```
   */
  listenTCP(port: number, factory: FactoryLike, options: ListenTCPOptions = {}): TCPPort {
    this.#usesNetwork = true;
    return listenTCP(port, factory, this.#shared(port, options), this);
  }

  /**
   * Connects to a TCP server. The factory hears `startedConnecting` at once,
   * then `buildProtocol` and the protocol's `connectionMade` on success, or
   * `clientConnectionFailed` with `ConnectionRefusedError`, `DNSLookupError`
   * or `TimeoutError` (after `timeout` seconds, default 30); later
   * `clientConnectionLost`. The connector can connect again from those
   * callbacks, which is how reconnecting factories work.
   *
   * @param host A host name or address.
   * @param port The port.
   * @param factory The client factory.
   * @param options `timeout` in seconds; `bindAddress` is not supported by Deno.
   * @returns The connector.
   * @throws {TypeError} If `bindAddress` is given.
   * @throws {RangeError} For a bad port or timeout.
   */
  connectTCP(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    options: ConnectTCPOptions = {},
  ): TCPConnector {
    this.#usesNetwork = true;
    return connectTCP(host, port, factory, options, this);
  }

  /**
   * Listens for TLS connections (Twisted's `listenSSL`): as
   * {@linkcode DenoReactor.listenTCP}, presenting the certificate and key in
   * `contextFactory`. The reactor stops the port during shutdown.
   *
   * @param port The port, or 0 for any free one.
   * @param factory Makes a protocol per connection.
   * @param contextFactory The certificate chain and key, PEM.
   * @param options `interface` and `backlog`.
   * @returns The listening port.
   * @throws {CannotListenError} If the address cannot be bound or the
   *   certificate cannot be used.
   * @throws {TypeError} If `cert` or `key` is missing.
   */
  listenSSL(
    port: number,
    factory: FactoryLike,
    contextFactory: TLSServerOptions,
    options: ListenTCPOptions = {},
  ): TLSPort {
    this.#usesNetwork = true;
    return listenSSL(port, factory, contextFactory, this.#shared(port, options), this);
  }

  /**
   * Connects over TLS (Twisted's `connectSSL`): as
   * {@linkcode DenoReactor.connectTCP}, with the handshake completed before
   * the protocol is built. Unlike Twisted's default, the server's
   * certificate is verified; trust a private one with `caCerts`.
   *
   * @param host A host name or address.
   * @param port The port.
   * @param factory The client factory.
   * @param contextFactory `hostname`, `caCerts`, `alpnProtocols`, client `cert` and `key`.
   * @param options `timeout` in seconds (default 30).
   * @returns The connector.
   */
  connectSSL(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    contextFactory: TLSClientOptions = {},
    options: ConnectTCPOptions = {},
  ): TLSConnector {
    this.#usesNetwork = true;
    return connectSSL(host, port, factory, contextFactory, options, this);
  }

  /**
   * Listens on a UNIX socket (see `listenUNIX` in this module): each
   * connection gets a protocol from `factory`; stopping the port removes the
   * socket file. The reactor stops the port during shutdown.
   *
   * @param path The socket file's path.
   * @param factory Makes a protocol per connection.
   * @param options `backlog` (50) and `mode` (`0o666`).
   * @returns The listening port.
   * @throws {CannotListenError} If the path cannot be bound, with the Deno
   *   error as `cause`, or if {@linkcode DenoReactor.sharePorts} is set.
   * @throws {TypeError} For `wantPID`, which is not supported.
   */
  listenUNIX(path: string, factory: FactoryLike, options: ListenUNIXOptions = {}): UNIXPort {
    if (this.#sharePorts) {
      throw new CannotListenError("", path, {
        cause: new Error("a UNIX socket cannot be shared between workers; use one worker"),
      });
    }
    this.#usesNetwork = true;
    return listenUNIX(path, factory, options, this);
  }

  /**
   * Connects to a UNIX socket, with the same factory calls as
   * {@linkcode DenoReactor.connectTCP}.
   *
   * @param path The socket's path.
   * @param factory The client factory.
   * @param options `timeout` in seconds (default 30).
   * @returns The connector.
   * @throws {TypeError} For `checkPID`, which is not supported.
   */
  connectUNIX(
    path: string,
    factory: ClientFactoryLike,
    options: ConnectUNIXOptions = {},
  ): UNIXConnector {
    this.#usesNetwork = true;
    return connectUNIX(path, factory, options, this);
  }

  /**
   * Listens for UDP datagrams (needs Deno's `--unstable-net` flag). The
   * protocol's `startProtocol` runs once bound; `datagramReceived(data, addr)`
   * for each datagram. The reactor stops the port during shutdown.
   *
   * @param port The port, or 0 for any free one.
   * @param protocol The datagram protocol.
   * @param options `interface` and `maxPacketSize` (8192).
   * @returns The port.
   * @throws {Error} Naming the flag, without `--unstable-net`.
   * @throws {CannotListenError} If the address cannot be bound.
   */
  listenUDP(
    port: number,
    protocol: DatagramProtocolLike,
    options: ListenUDPOptions = {},
  ): UDPPort {
    this.#usesNetwork = true;
    return listenUDP(port, protocol, options);
  }

  /**
   * Starts a child process and connects its standard streams to
   * `processProtocol` (see `spawnProcess` in this module for the details and
   * the divergences from Twisted: `args[0]` is the program name as Twisted
   * has it, and the environment is empty unless `env` is given).
   *
   * @param processProtocol Gets the output, the exit and the end.
   * @param executable The program.
   * @param args The argument vector, program name first, as in Twisted.
   * @param options `env` and `path` (the working directory).
   * @returns The process transport.
   * @throws {TypeError} For options Deno cannot honour (`uid`, `gid`, `usePTY`, `childFDs`).
   */
  spawnProcess(
    processProtocol: ProcessProtocolLike,
    executable: string,
    args: readonly string[] = [],
    options: SpawnProcessOptions = {},
  ): Process {
    return spawnProcess(processProtocol, executable, args, options);
  }

  /**
   * Finds an IPv4 address for a host name: the hosts file first, then DNS.
   *
   * @param name A host name or an IPv4 address.
   * @param timeout Seconds to wait (or a list of per-try timeouts).
   * @returns A Deferred of the address; `DNSLookupError` if there is none.
   */
  resolve(name: string, timeout?: number | readonly number[]): Deferred<string> {
    return resolve(name, timeout, { clock: this });
  }

  // -------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------

  // Closes every socket this process has open: ports stop listening,
  // connections get the grace period to end, then flush and close (aborted
  // if they cannot flush within 5 seconds).
  #disconnectNetwork(): Deferred<void> | undefined {
    if (!this.#usesNetwork) return undefined;
    return whenAll([disconnectAllTCP(5, this.#gracePeriod), _stopAllUDPPorts()]);
  }

  // The listening options when ports are shared between workers.
  #shared(port: number, options: ListenTCPOptions): ListenTCPOptions {
    if (!this.#sharePorts) return options;
    if (port === 0) {
      throw new CannotListenError(options.interface ?? "", port, {
        cause: new Error("port 0 cannot be shared between workers: name a port"),
      });
    }
    return { ...options, reusePort: true };
  }

  #reallyStartRunning(): void {
    this.#running = true;
    if (this.#installSignals) this.#addSignalListeners();
  }

  #crash(): void {
    this.#started = false;
    this.#running = false;
  }

  #shutdown(): void {
    this.#triggers.fireSystemEvent("shutdown").addCallback(() => {
      this.#removeSignalListeners();
      this.#releaseProcess?.();
      this.#releaseProcess = undefined;
      const whenStopped = this.#whenStopped;
      this.#whenStopped = undefined;
      whenStopped?.callback(undefined);
    });
  }

  #stopThreadPool(): Deferred<void> {
    return this.getThreadPool().stop();
  }

  #addSignalListeners(): void {
    for (const [signal, code] of EXIT_CODES) {
      const listener = (): void => this.#onSignal(signal, code);
      try {
        Deno.addSignalListener(signal, listener);
      } catch {
        continue; // not available on this platform (SIGTERM on Windows)
      }
      this.#signalListeners.push([signal, listener]);
    }
  }

  #removeSignalListeners(): void {
    for (const [signal, listener] of this.#signalListeners) {
      Deno.removeSignalListener(signal, listener);
    }
    this.#signalListeners = [];
  }

  #onSignal(signal: Deno.Signal, exitCode: number): void {
    // Real time, not the reactor's (which a test may have frozen): the
    // window is about how signals are delivered.
    const now = performance.now();
    if (this.#stopped) {
      // A shutdown is already under way: a repeat of the signal that started
      // it is the same keypress; a later one insists.
      if (now - this.#signalledAt < _SIGNAL_REPEAT_WINDOW * 1000) return;
      Deno.exit(exitCode);
    }
    this.#signalledAt = now;
    this.#exitSignal = signal;
    this.stop();
  }
}

function logError(where: string, error: unknown): void {
  console.error(`Unhandled error in ${where}:\n${Failure.from(error).getTraceback()}`);
}

function whenAll(ds: Deferred<unknown>[]): Deferred<void> {
  return new DeferredList(ds).addCallback(() => undefined);
}

/**
 * The process-wide reactor, live from the moment it is imported: its
 * `callLater` timers run without `run()`. Call `run()` once, in a program's
 * main module, for the startup/shutdown lifecycle and signal handling; it
 * cannot be restarted, so tests build their own `new DenoReactor()`.
 *
 * @example Stopping on a timer
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * reactor.addSystemEventTrigger("before", "shutdown", () => console.log("bye"));
 * reactor.callLater(1, () => reactor.stop());
 * await reactor.run(); // Ctrl-C also stops it, after "bye"
 * ```
 */
export const reactor: DenoReactor = new DenoReactor();
