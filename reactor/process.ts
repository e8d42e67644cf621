/**
 * Child processes for the reactor: spawn a program, feed its stdin, receive
 * its stdout and stderr as events, learn how it ended, over `Deno.Command`.
 * The reactor's `spawnProcess` is {@linkcode spawnProcess}.
 *
 * @module
 */
import { Failure } from "../defer/failure.ts";
import { ProcessDone, ProcessExitedAlready, ProcessTerminated } from "./process_errors.ts";
import { Logger } from "./log.ts";

const logger = new Logger("process");

const encoder = new TextEncoder();

/**
 * What a child process calls on its protocol. `ProcessProtocol` in
 * `protocols/` implements it (and dispatches fd 1 to `outReceived`, fd 2 to
 * `errReceived`).
 */
export interface ProcessProtocolLike {
  /** Called once, right after the child is started, before any other event. */
  makeConnection(transport: Process): void;
  /** Called with each chunk read from the child's stdout (1) or stderr (2). */
  childDataReceived(childFD: number, data: Uint8Array): void;
  /** Called once for each of stdin (0), stdout (1) and stderr (2) when it closes. */
  childConnectionLost(childFD: number): void;
  /** Called as soon as the child exits, perhaps before its pipes are drained. */
  processExited?(reason: Failure): void;
  /** Called last, once the child has exited and its three pipes are closed. */
  processEnded(reason: Failure): void;
}

/** Options for {@linkcode spawnProcess}. */
export interface SpawnProcessOptions {
  /**
   * The child's whole environment. Omitted, the child gets an **empty**
   * environment, as in Twisted on POSIX; pass `Deno.env.toObject()` to hand
   * down this process's own.
   */
  env?: Record<string, string>;
  /** The child's working directory (default: this process's). */
  path?: string;
  /** The user id the child runs as (needs the privilege to change it). */
  uid?: number;
  /** The group id the child runs as (needs the privilege to change it). */
  gid?: number;
  /** Not supported: Deno cannot allocate a pseudo-terminal. Only `false` is accepted. */
  usePTY?: boolean;
  /**
   * Not supported: Deno gives a child exactly three pipes. Only Twisted's
   * default mapping, `{ 0: "w", 1: "r", 2: "r" }`, is accepted.
   */
  childFDs?: Record<number, "r" | "w" | number>;
}

function nameOf(value: unknown): string {
  const name = (value as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name !== "" ? name : "protocol";
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === "string") return encoder.encode(data);
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`Data must be a Uint8Array or a string, not ${nameOf(data)}`);
  }
  return data;
}

/** The reason for `processExited`/`processEnded`, from what Deno reports. */
function reasonFor(status: Deno.CommandStatus): Error {
  if (status.signal !== null) {
    // Deno reports a signal's death as exit code 128 + the signal's number.
    const number = status.code > 128 ? status.code - 128 : null;
    return new ProcessTerminated(null, number, number, status.signal);
  }
  if (status.code === 0) return new ProcessDone(0);
  return new ProcessTerminated(status.code, null, status.code << 8);
}

function isDefaultChildFDs(fds: Record<number, "r" | "w" | number>): boolean {
  const keys = Object.keys(fds).sort();
  return keys.length === 3 && keys.join() === "0,1,2" && fds[0] === "w" && fds[1] === "r" &&
    fds[2] === "r";
}

/**
 * A running child process as its protocol sees it, as returned by
 * {@linkcode spawnProcess}: Twisted's `Process`, the transport of a process
 * protocol. Writes go to the child's stdin; its stdout and stderr are read
 * as they come and handed to `childDataReceived(1 | 2, data)`.
 *
 * The events, in order: `makeConnection(process)` at once; then
 * `childDataReceived` for each chunk and `childConnectionLost(fd)` when each
 * pipe closes; `processExited(reason)` as soon as the child exits; and
 * `processEnded(reason)` last, once the child has exited and all three pipes
 * are closed. The reason is a `Failure` of {@linkcode ProcessDone} for exit
 * code 0 and of {@linkcode ProcessTerminated} otherwise. An exception thrown
 * by `childDataReceived` is logged and closes that pipe, as in Twisted; one
 * thrown by another event is logged.
 *
 * Divergences from Twisted:
 * - When the child exits, its stdin is closed from this side (after what is
 *   queued, if the pipe still takes it), so `childConnectionLost(0)` always
 *   comes after the exit; Twisted waits for the pipe to report the other end
 *   closed, which a grandchild holding it open delays.
 * - Only the three standard pipes exist: `writeToChild` and `closeChildFD`
 *   take descriptors 0 to 2 only.
 * - There is no producer support on stdin, and no `getHost`/`getPeer`.
 *
 * Test tip: spawn `Deno.execPath()` with `["deno", "eval", script]` for a
 * portable child, and wait for `processEnded` before the test ends, or the
 * sanitizers report the pipes.
 *
 * @example Killing a child that runs too long
 * ```ts ignore
 * import { reactor } from "@torsion/torsion/reactor";
 * import { ProcessProtocol } from "@torsion/torsion/protocols";
 *
 * const protocol = new ProcessProtocol();
 * reactor.spawnProcess(protocol, "/bin/sleep", ["sleep", "60"]);
 * reactor.callLater(5, () => protocol.transport?.signalProcess("KILL"));
 * ```
 */
export class Process {
  readonly #child: Deno.ChildProcess;
  readonly #protocol: ProcessProtocolLike;
  #pid: number | null;
  #reason: Error | undefined;
  #ended = false;
  #openPipes = 3;
  // stdin: "open" takes writes; "closing" flushes then closes; "closed" is done.
  #stdinState: "open" | "closing" | "closed" = "open";
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #readers: Map<number, ReadableStreamDefaultReader<Uint8Array>> = new Map();
  readonly #cancels: Map<number, Promise<void>> = new Map();

  /**
   * Wraps a spawned child and starts reading its pipes and waiting for its
   * exit; {@linkcode spawnProcess} makes processes and then connects the
   * protocol.
   *
   * @param child The spawned child, with all three pipes `"piped"`.
   * @param protocol The protocol that gets its events.
   */
  constructor(child: Deno.ChildProcess, protocol: ProcessProtocolLike) {
    this.#child = child;
    this.#protocol = protocol;
    this.#pid = child.pid;
    this.#stdin = child.stdin.getWriter();
    this.#readers.set(1, child.stdout.getReader());
    this.#readers.set(2, child.stderr.getReader());
    for (const fd of [1, 2]) this.#readLoop(fd);
    child.status.then((status) => this.#exited(status));
  }

  /** The child's process id; `null` once it has exited. */
  get pid(): number | null {
    return this.#pid;
  }

  /**
   * Writes to the child's stdin. Never blocks: the bytes are queued and
   * written in order. A Uint8Array is not copied: do not change it after
   * writing it. Data written after `closeStdin()`, or once the child has
   * closed its stdin, is dropped.
   *
   * @param data The bytes (a string is encoded as UTF-8).
   * @throws {TypeError} If `data` is neither a Uint8Array nor a string.
   */
  write(data: Uint8Array | string): void {
    const bytes = toBytes(data);
    if (this.#stdinState !== "open" || bytes.length === 0) return;
    this.#stdin.write(bytes).catch(() => this.#stdinBroken());
  }

  /**
   * Writes several chunks to the child's stdin, in order.
   *
   * @param chunks The chunks (strings are encoded as UTF-8).
   * @throws {TypeError} If a chunk is neither a Uint8Array nor a string;
   *   nothing is written then.
   */
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    const list = [...chunks].map(toBytes);
    for (const bytes of list) this.write(bytes);
  }

  /**
   * Writes to one of the child's descriptors: only stdin (0) exists.
   *
   * @param childFD Must be 0.
   * @param data The bytes (a string is encoded as UTF-8).
   * @throws {RangeError} If `childFD` is not 0.
   * @throws {TypeError} As for {@linkcode Process.write}.
   */
  writeToChild(childFD: number, data: Uint8Array | string): void {
    if (childFD !== 0) {
      throw new RangeError(`Cannot write to child descriptor ${childFD}: only 0 (stdin) exists`);
    }
    this.write(data);
  }

  /**
   * Closes the child's stdin once what is queued has been written; the
   * child then reads end-of-file, and `childConnectionLost(0)` follows.
   * Does nothing if it is already closed or closing.
   */
  closeStdin(): void {
    if (this.#stdinState !== "open") return;
    this.#stdinState = "closing";
    this.#stdin.close().then(
      () => this.#stdinClosed(),
      () => this.#stdinClosed(),
    );
  }

  /**
   * Stops reading the child's stdout and closes this end of the pipe (a
   * child that writes more may get `SIGPIPE`); `childConnectionLost(1)`
   * follows.
   */
  closeStdout(): void {
    this.#cancel(1);
  }

  /** Stops reading the child's stderr, as {@linkcode Process.closeStdout} does stdout. */
  closeStderr(): void {
    this.#cancel(2);
  }

  /**
   * Closes one of the child's pipes: 0 (stdin), 1 (stdout) or 2 (stderr);
   * any other descriptor is ignored, as Twisted ignores one it does not have.
   *
   * @param childFD The descriptor.
   */
  closeChildFD(childFD: number): void {
    if (childFD === 0) this.closeStdin();
    else if (childFD === 1 || childFD === 2) this.#cancel(childFD);
  }

  /**
   * Closes all three pipes: stdin after what is queued, stdout and stderr at
   * once. The child is not signalled; it usually ends on the closed pipes.
   */
  loseConnection(): void {
    this.closeStdin();
    this.closeStderr();
    this.closeStdout();
  }

  /**
   * Sends a signal to the child.
   *
   * Divergence from Twisted: any signal Deno knows may be named, with or
   * without the `SIG` prefix (Twisted takes only `HUP`, `STOP`, `INT`,
   * `KILL` and `TERM` by name).
   *
   * @param signal A name (`"TERM"`, `"SIGKILL"`) or a number (`15`).
   * @throws {ProcessExitedAlready} If the child has already exited.
   * @throws {TypeError} If Deno does not know the signal.
   */
  signalProcess(signal: string | number): void {
    if (this.#pid === null) {
      throw new ProcessExitedAlready(
        `Cannot send signal ${signal}: the process has already exited`,
      );
    }
    const signo = typeof signal === "number"
      ? signal
      : (signal.startsWith("SIG") ? signal : `SIG${signal}`) as Deno.Signal;
    try {
      this.#child.kill(signo);
    } catch (error) {
      if (
        error instanceof Deno.errors.NotFound ||
        (error instanceof TypeError && /already terminated/i.test(error.message))
      ) {
        throw new ProcessExitedAlready(
          `Cannot send signal ${signal}: the process has already exited`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  #cancel(fd: number): void {
    const reader = this.#readers.get(fd);
    if (reader === undefined || this.#cancels.has(fd)) return;
    this.#cancels.set(fd, reader.cancel().catch(() => {}));
  }

  async #readLoop(fd: number): Promise<void> {
    const reader = this.#readers.get(fd)!;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (this.#cancels.has(fd) || value.length === 0) continue;
        try {
          this.#protocol.childDataReceived(fd, value);
        } catch (error) {
          this.#log(`childDataReceived(${fd})`, error);
          this.#cancel(fd);
        }
      }
    } catch {
      // A read error ends the pipe, as end-of-file does.
    }
    await this.#cancels.get(fd);
    this.#readers.delete(fd);
    this.#pipeClosed(fd);
  }

  #stdinBroken(): void {
    // The child closed its stdin (or exited): what is queued cannot be written.
    if (this.#stdinState !== "open") return;
    this.#stdinState = "closing";
    this.#stdin.close().then(
      () => this.#stdinClosed(),
      () => this.#stdinClosed(),
    );
  }

  #stdinClosed(): void {
    if (this.#stdinState === "closed") return;
    this.#stdinState = "closed";
    this.#pipeClosed(0);
  }

  #pipeClosed(fd: number): void {
    this.#openPipes--;
    try {
      this.#protocol.childConnectionLost(fd);
    } catch (error) {
      this.#log(`childConnectionLost(${fd})`, error);
    }
    this.#maybeEnded();
  }

  #exited(status: Deno.CommandStatus): void {
    this.#pid = null;
    this.#reason = reasonFor(status);
    if (this.#protocol.processExited !== undefined) {
      try {
        this.#protocol.processExited(new Failure(this.#reason));
      } catch (error) {
        this.#log("processExited()", error);
      }
    }
    // Nothing is left to read what we would write: close our end of stdin.
    this.closeStdin();
    this.#maybeEnded();
  }

  #maybeEnded(): void {
    if (this.#ended || this.#reason === undefined || this.#openPipes > 0) return;
    this.#ended = true;
    try {
      this.#protocol.processEnded(new Failure(this.#reason));
    } catch (error) {
      this.#log("processEnded()", error);
    }
  }

  #log(what: string, error: unknown): void {
    logger.error(
      `Unhandled error in ${nameOf(this.#protocol)}.${what} for process ${this.#child.pid}`,
      error,
    );
  }
}

/**
 * Starts a child process and connects `processProtocol` to it: the way to
 * run another program without blocking the reactor. The child's stdin,
 * stdout and stderr are pipes; see {@linkcode Process} for the events the
 * protocol gets and the transport's methods. `makeConnection` runs before
 * this returns.
 *
 * Divergences from Twisted:
 * - `args[0]` is the program's name as Twisted passes it to the child
 *   (`argv[0]`), but Deno cannot set `argv[0]`: it is ignored, the child
 *   sees `executable` there, and `args.slice(1)` are the arguments.
 * - As in Twisted, omitting `env` gives the child an empty environment. Deno
 *   then still finds `executable` on this process's `PATH`; with `env` given,
 *   on that `PATH`.
 * - A program that cannot be started (missing, not executable, a missing
 *   `path`) throws from `spawnProcess`, with Deno's error, before the
 *   protocol is connected; Twisted reports it through the child, as exit
 *   code 1 with a traceback on stderr.
 * - No pseudo-terminal (`usePTY`) and no extra descriptors (`childFDs`).
 * - The program needs `--allow-run` (Deno's permission error is thrown).
 *
 * @param processProtocol The protocol that gets the child's events.
 * @param executable The program: a path, or a name looked up on `PATH`.
 * @param args The child's `argv`, program name first (see above).
 * @param options `env`, `path` (working directory), `uid`, `gid`.
 * @returns The running process, already connected to the protocol.
 * @throws {TypeError} If an argument or an environment value is not a
 *   string, or `usePTY` or a non-default `childFDs` is asked for.
 * @throws {Deno.errors.NotFound} If the program or the directory does not
 *   exist (other Deno errors for other spawn failures).
 *
 * @example Running a command and collecting its output
 * ```ts ignore
 * import { Failure } from "@torsion/torsion/defer";
 * import { ProcessProtocol } from "@torsion/torsion/protocols";
 * import { ProcessDone, reactor } from "@torsion/torsion/reactor";
 *
 * class Collect extends ProcessProtocol {
 *   out = "";
 *   override outReceived(data: Uint8Array): void {
 *     this.out += new TextDecoder().decode(data);
 *   }
 *   override processEnded(reason: Failure): void {
 *     console.log(reason.check(ProcessDone) ? this.out : reason.getErrorMessage());
 *   }
 * }
 *
 * reactor.spawnProcess(new Collect(), "ls", ["ls", "-l"], {
 *   env: Deno.env.toObject(),
 *   path: "/tmp",
 * });
 * ```
 */
export function spawnProcess(
  processProtocol: ProcessProtocolLike,
  executable: string,
  args: readonly string[] = [],
  options: SpawnProcessOptions = {},
): Process {
  if (typeof executable !== "string" || executable === "") {
    throw new TypeError(`Executable must be a non-empty string, not ${JSON.stringify(executable)}`);
  }
  for (const arg of args) {
    if (typeof arg !== "string") {
      throw new TypeError(`Arguments must be strings, not ${nameOf(arg)}: ${String(arg)}`);
    }
  }
  const env = options.env ?? {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value !== "string") {
      throw new TypeError(`Environment value of ${key} must be a string, not ${nameOf(value)}`);
    }
  }
  if (options.usePTY) {
    throw new TypeError("usePTY is not supported: Deno cannot allocate a pseudo-terminal");
  }
  if (
    options.childFDs !== undefined && !isDefaultChildFDs(options.childFDs)
  ) {
    throw new TypeError(
      `childFDs ${
        JSON.stringify(options.childFDs)
      } is not supported: Deno gives a child only stdin, stdout and stderr pipes`,
    );
  }
  const child = new Deno.Command(executable, {
    args: args.slice(1),
    env,
    clearEnv: true,
    cwd: options.path,
    uid: options.uid,
    gid: options.gid,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const transport = new Process(child, processProtocol);
  processProtocol.makeConnection(transport);
  return transport;
}
