// `--workers N`: the runner as a supervisor of N worker processes, each
// re-running cli.ts with the same command line and sharing the TCP ports
// through SO_REUSEPORT.
//
// Why processes and not Web Workers: a worker that crashes (or calls
// Deno.exit) takes only itself down and is restarted; each has its own
// reactor, signal handling and shutdown triggers exactly as a single
// runner; and the kernel spreads connections over the processes.
//
// Signals: workers run in their own session (detached), so a Ctrl-C at the
// terminal, which goes to the whole foreground process group, reaches only
// the supervisor; it sends each worker one SIGTERM and waits for them all.
// A second signal kills them, unless it comes within a second of the first:
// under `deno task` or `npx` one Ctrl-C arrives twice, from the terminal and
// forwarded by the parent, as the reactor's own signal handling allows for. If the supervisor dies without that, each
// worker sees its standard input end and stops by itself.
import { Deferred } from "../../defer/deferred.ts";
import type { DelayedCall } from "../../defer/time.ts";
import { backoffPolicy, type RetryPolicy } from "../../reactor/client_service.ts";
import { _SIGNAL_REPEAT_WINDOW, type DenoReactor } from "../../reactor/deno_reactor.ts";
import { serverFromString } from "../../reactor/endpoints.ts";
import { Logger } from "../../reactor/log.ts";
import { Service } from "../service.ts";
import type { RunnerIO } from "./io.ts";
import { UsageError } from "./usage_error.ts";
import { CONTROL_MARK, WORKER_ENV } from "./worker_link.ts";

const log = new Logger("runner");

/** A worker's run that ends the start: it exited before it was ready. */
export class WorkerStartError extends Error {
  /** The worker's exit code, which the runner exits with. */
  readonly exitCode: number;

  constructor(id: number, code: number) {
    super(`worker ${id} exited with code ${code} before it started`);
    this.name = "WorkerStartError";
    this.exitCode = code === 2 ? 2 : 1;
  }
}

/**
 * Checks that the endpoints can be shared by several processes.
 *
 * @throws {UsageError} On a platform without SO_REUSEPORT, for a UNIX
 *   socket, or for port 0.
 */
export function _checkShareable(
  plugin: string,
  listen: readonly string[],
  reactor: DenoReactor,
  os: string = Deno.build.os,
): void {
  if (os !== "linux") {
    throw new UsageError(
      `--workers needs SO_REUSEPORT, which Deno supports on Linux only, not ${os}; use one worker`,
      plugin,
    );
  }
  for (const description of listen) {
    let endpoint: unknown;
    try {
      endpoint = serverFromString(reactor, description);
    } catch (error) {
      throw new UsageError(`Bad --listen ${description}: ${(error as Error).message}`, plugin);
    }
    // A `haproxy:` endpoint listens with the endpoint it wraps.
    while (typeof endpoint === "object" && endpoint !== null && "wrappedEndpoint" in endpoint) {
      endpoint = endpoint.wrappedEndpoint;
    }
    const { port, path } = endpoint as { port?: unknown; path?: unknown };
    if (typeof path === "string") {
      throw new UsageError(
        `--listen ${description}: a UNIX socket cannot be shared by several workers`,
        plugin,
      );
    }
    if (port === 0) {
      throw new UsageError(
        `--listen ${description}: port 0 cannot be shared by several workers (each would get its own port); name a port`,
        plugin,
      );
    }
  }
}

/** The command line a worker runs with: the runner's, without `--workers`. */
export function _workerArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (args[i] === "--workers") {
      i++;
      continue;
    }
    if (args[i].startsWith("--workers=")) continue;
    out.push(args[i]);
  }
  return out;
}

interface Slot {
  id: number;
  child: Deno.ChildProcess | undefined;
  readyAt: number | undefined;
  failures: number;
  restart: DelayedCall | undefined;
}

/** Options of {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** The module to run in each worker (default: this package's cli.ts). */
  cli?: string;
  /** Seconds to wait before restarting a worker, by failures in a row. */
  restartPolicy?: RetryPolicy;
  /** Seconds a worker must run to reset its failure count (default 10). */
  stableAfter?: number;
  /** Seconds after the SIGTERM before a worker is killed (default 30). */
  killAfter?: number;
}

/**
 * N worker processes as one service: starting it starts them and waits
 * until each has started its own service; stopping it sends each SIGTERM
 * and waits for them to exit. A worker that exits while the pool runs is
 * logged and restarted, after a delay that grows while it keeps failing.
 */
export class WorkerPool extends Service {
  readonly #count: number;
  readonly #args: string[];
  readonly #reactor: DenoReactor;
  readonly #io: RunnerIO;
  readonly #cli: string;
  readonly #policy: RetryPolicy;
  readonly #stableAfter: number;
  readonly #killAfter: number;
  #slots: Slot[] = [];
  #started: Deferred<void> | undefined;
  #stopping = false;
  #exits = new Map<number, Promise<unknown>>();
  #signals: Array<[Deno.Signal, () => void]> = [];
  // When (performance.now(), ms) the signal that started the stop came.
  #signalledAt = -Infinity;

  /**
   * @param count How many workers.
   * @param args The command line each runs (the runner's, without `--workers`).
   * @param reactor Schedules restarts; stopped by the first signal.
   * @param io Where the announcement and the workers' standard error go.
   * @param options The worker module and the restart policy.
   */
  constructor(
    count: number,
    args: string[],
    reactor: DenoReactor,
    io: RunnerIO,
    options: WorkerPoolOptions = {},
  ) {
    super("workers");
    this.#count = count;
    this.#args = args;
    this.#reactor = reactor;
    this.#io = io;
    this.#cli = options.cli ?? new URL("../../cli.ts", import.meta.url).href;
    this.#policy = options.restartPolicy ?? backoffPolicy(0.25, 30, 2, () => Math.random() * 0.1);
    this.#stableAfter = options.stableAfter ?? 10;
    this.#killAfter = options.killAfter ?? 30;
  }

  /** The workers' process ids, those running. */
  get pids(): number[] {
    return this.#slots.flatMap((slot) => slot.child === undefined ? [] : [slot.child.pid]);
  }

  override startService(): Deferred<void> {
    super.startService();
    this.#listenForSignals();
    const started = this.#started = new Deferred<void>();
    for (let id = 1; id <= this.#count; id++) {
      const slot: Slot = {
        id,
        child: undefined,
        readyAt: undefined,
        failures: 0,
        restart: undefined,
      };
      this.#slots.push(slot);
      this.#spawn(slot);
    }
    return started;
  }

  override stopService(): Deferred<void> {
    super.stopService();
    this.#stopping = true;
    const live = this.#slots.filter((slot) => slot.child !== undefined);
    for (const slot of this.#slots) slot.restart?.cancel();
    if (live.length > 0) log.info(`stopping ${live.length} worker${live.length === 1 ? "" : "s"}`);
    for (const slot of live) signal(slot.child!, "SIGTERM");
    const killer = setTimeout(() => this.#killAll(), this.#killAfter * 1000);
    return Deferred.fromPromise(Promise.all(this.#exits.values())).addCallback(() => {
      clearTimeout(killer);
      this.#unlistenForSignals();
      log.info("every worker has stopped");
    });
  }

  #spawn(slot: Slot): void {
    slot.restart = undefined;
    slot.readyAt = undefined;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--unstable-net", this.#cli, ...this.#args],
        env: { [WORKER_ENV]: String(slot.id) },
        stdin: "piped",
        stdout: "inherit",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (error) {
      this.#startFailed(new Error(`Cannot start worker ${slot.id}: ${(error as Error).message}`));
      return;
    }
    slot.child = child;
    const relayed = this.#relay(slot, child);
    const exit = Promise.all([child.status, relayed]).then(([status]) =>
      this.#exited(slot, child, status)
    );
    this.#exits.set(child.pid, exit);
    exit.finally(() => this.#exits.delete(child.pid));
  }

  // Copies the worker's standard error, line by line, taking out control lines.
  async #relay(slot: Slot, child: Deno.ChildProcess): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    const line = (text: string): void => {
      const mark = text.indexOf(CONTROL_MARK);
      if (mark === -1) {
        this.#io.stderr(`[worker ${slot.id}] ${text}`);
        return;
      }
      if (mark > 0) this.#io.stderr(`[worker ${slot.id}] ${text.slice(0, mark)}`);
      try {
        const message = JSON.parse(text.slice(mark + CONTROL_MARK.length)) as { ready?: string };
        if (typeof message.ready === "string") this.#ready(slot, child, message.ready);
      } catch {
        this.#io.stderr(`[worker ${slot.id}] ${text}`);
      }
    };
    for await (const chunk of child.stderr) {
      pending += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = pending.indexOf("\n")) !== -1) {
        line(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    }
    pending += decoder.decode();
    if (pending !== "") line(pending);
  }

  #ready(slot: Slot, child: Deno.ChildProcess, text: string): void {
    if (slot.child !== child) return;
    slot.readyAt = this.#reactor.seconds();
    const started = this.#started;
    if (started !== undefined && !started.called) {
      if (this.#slots.every((each) => each.readyAt !== undefined)) {
        this.#io.stdout(text);
        log.info(
          `${this.#count} workers running (pids ${this.pids.join(", ")}); press Ctrl-C to stop`,
        );
        started.callback(undefined);
      }
    } else {
      log.info(`worker ${slot.id} (pid ${child.pid}) running`);
    }
  }

  #exited(slot: Slot, child: Deno.ChildProcess, status: Deno.CommandStatus): void {
    try {
      child.stdin.close();
    } catch {
      // closed already
    }
    if (slot.child === child) slot.child = undefined;
    const how = status.signal === null ? `code ${status.code}` : `signal ${status.signal}`;
    if (this.#stopping) {
      if (status.code !== 0) log.warn(`worker ${slot.id} (pid ${child.pid}) exited with ${how}`);
      return;
    }
    if (this.#started !== undefined && !this.#started.called) {
      this.#startFailed(new WorkerStartError(slot.id, status.code));
      return;
    }
    const ran = slot.readyAt === undefined ? 0 : this.#reactor.seconds() - slot.readyAt;
    slot.failures = ran >= this.#stableAfter ? 1 : slot.failures + 1;
    const delay = Math.max(0, this.#policy(slot.failures));
    log.error(
      `worker ${slot.id} (pid ${child.pid}) exited with ${how}; restarting in ${
        delay.toFixed(1)
      } s`,
    );
    slot.restart = this.#reactor.callLater(delay, () => this.#spawn(slot));
  }

  // The start failed: stop the others, then fail the start.
  #startFailed(error: Error): void {
    const started = this.#started;
    if (started === undefined || started.called) return;
    this.#stopping = true;
    for (const slot of this.#slots) if (slot.child !== undefined) signal(slot.child, "SIGTERM");
    Promise.all(this.#exits.values()).then(() => {
      this.#unlistenForSignals();
      started.errback(error);
    });
  }

  #killAll(): void {
    for (const slot of this.#slots) if (slot.child !== undefined) signal(slot.child, "SIGKILL");
  }

  // The first SIGINT or SIGTERM stops the reactor, and so the pool; a
  // second, a second or more later, kills the workers and exits.
  #listenForSignals(): void {
    for (const [name, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const listener = (): void => {
        // Real time, as the reactor's window: it is about how signals arrive.
        const now = performance.now();
        // Stopping: since an earlier signal (even one whose stop has not
        // reached the pool yet), or for another reason.
        if (this.#stopping || this.#signalledAt !== -Infinity) {
          if (now - this.#signalledAt < _SIGNAL_REPEAT_WINDOW * 1000) return;
          log.warn("killing the workers");
          this.#killAll();
          Deno.exit(code);
        }
        this.#signalledAt = now;
        try {
          this.#reactor.stop();
        } catch {
          // stopping already
        }
      };
      try {
        Deno.addSignalListener(name, listener);
      } catch {
        continue;
      }
      this.#signals.push([name, listener]);
    }
  }

  #unlistenForSignals(): void {
    for (const [name, listener] of this.#signals.splice(0)) {
      Deno.removeSignalListener(name, listener);
    }
  }
}

function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch {
    // exited already
  }
}
