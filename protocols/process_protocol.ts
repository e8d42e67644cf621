import type { Failure } from "../defer/failure.ts";

/**
 * A child process as its protocol sees it: write to its stdin, close its
 * pipes, signal it. `reactor.spawnProcess` gives one to the protocol.
 *
 * Divergence from Twisted: only the three standard pipes exist (Deno has no
 * arbitrary `childFDs`), so there is no `writeToChild` or `closeChildFD`.
 */
export interface ProcessTransport {
  /** The child's process id; `null` once it has exited. */
  readonly pid: number | null;
  /**
   * Writes to the child's stdin. Never blocks.
   *
   * @param data The bytes (a string is encoded as UTF-8).
   */
  write(data: Uint8Array | string): void;
  /** Closes the child's stdin, once what is queued has been written. */
  closeStdin(): void;
  /** Closes our end of the child's stdout. */
  closeStdout(): void;
  /** Closes our end of the child's stderr. */
  closeStderr(): void;
  /** Closes all three pipes. */
  loseConnection(): void;
  /**
   * Sends a signal to the child.
   *
   * @param signal A signal name (`"TERM"`, `"SIGKILL"`...) or number.
   */
  signalProcess(signal: string | number): void;
}

/**
 * The base class of the protocols that talk to child processes: subclass it
 * and override the events you need. Output comes per pipe:
 * {@linkcode ProcessProtocol.outReceived} for stdout and
 * {@linkcode ProcessProtocol.errReceived} for stderr, in chunks of any size;
 * write to the child's stdin through {@linkcode ProcessProtocol.transport}.
 *
 * When the child is done, {@linkcode ProcessProtocol.processExited} runs as
 * soon as it exits, and {@linkcode ProcessProtocol.processEnded} once it has
 * exited and all its pipes are closed; the reason is `ProcessDone` for an
 * exit code of 0 and `ProcessTerminated` otherwise. Most protocols only need
 * `processEnded`.
 *
 * Divergences from Twisted: output is `Uint8Array`; only file descriptors 0,
 * 1 and 2 exist, so `childDataReceived` ignores any other descriptor as
 * Twisted does; there is no `connected` flag.
 *
 * @example Collecting a child's output, driven by hand
 * ```ts
 * import { ProcessProtocol, type ProcessTransport } from "@torsion/torsion/protocols";
 * import { Failure } from "@torsion/torsion/defer";
 * import assert from "node:assert/strict";
 *
 * class Collect extends ProcessProtocol {
 *   out = "";
 *   ended = false;
 *   override outReceived(data: Uint8Array): void {
 *     this.out += new TextDecoder().decode(data);
 *   }
 *   override processEnded(_reason: Failure): void {
 *     this.ended = true;
 *   }
 * }
 *
 * const p = new Collect();
 * p.makeConnection({ pid: 42 } as ProcessTransport);
 * p.childDataReceived(1, new TextEncoder().encode("hello"));
 * p.childConnectionLost(1);
 * p.processEnded(new Failure(new Error("exit 0")));
 * assert.equal(p.out, "hello");
 * assert.equal(p.ended, true);
 * ```
 */
export class ProcessProtocol {
  /** The child process: `null` until {@linkcode ProcessProtocol.makeConnection}. */
  transport: ProcessTransport | null = null;

  /**
   * Attaches the protocol to its process: sets `transport`, then calls
   * {@linkcode ProcessProtocol.connectionMade}. The reactor calls it; tests
   * call it with a fake transport.
   *
   * @param transport The child process.
   */
  makeConnection(transport: ProcessTransport): void {
    this.transport = transport;
    this.connectionMade();
  }

  /**
   * Called once the child is started: the place to write its input. Does
   * nothing by default.
   */
  connectionMade(): void {}

  /**
   * Called with output from one of the child's pipes; dispatches stdout (1)
   * to {@linkcode ProcessProtocol.outReceived} and stderr (2) to
   * {@linkcode ProcessProtocol.errReceived}, and ignores other descriptors.
   *
   * @param childFD The child's file descriptor.
   * @param data The bytes, in a chunk of arbitrary size.
   */
  childDataReceived(childFD: number, data: Uint8Array): void {
    if (childFD === 1) this.outReceived(data);
    else if (childFD === 2) this.errReceived(data);
  }

  /**
   * Called with each chunk of the child's stdout. Does nothing by default.
   *
   * @param data The bytes, in a chunk of arbitrary size.
   */
  // deno-lint-ignore no-unused-vars
  outReceived(data: Uint8Array): void {}

  /**
   * Called with each chunk of the child's stderr. Does nothing by default.
   *
   * @param data The bytes, in a chunk of arbitrary size.
   */
  // deno-lint-ignore no-unused-vars
  errReceived(data: Uint8Array): void {}

  /**
   * Called when one of the child's pipes closes; dispatches stdin (0),
   * stdout (1) and stderr (2) to the matching `...ConnectionLost` method,
   * and ignores other descriptors.
   *
   * @param childFD The child's file descriptor.
   */
  childConnectionLost(childFD: number): void {
    if (childFD === 0) this.inConnectionLost();
    else if (childFD === 1) this.outConnectionLost();
    else if (childFD === 2) this.errConnectionLost();
  }

  /** Called when the child's stdin is closed. Does nothing by default. */
  inConnectionLost(): void {}

  /** Called when the child's stdout is closed. Does nothing by default. */
  outConnectionLost(): void {}

  /** Called when the child's stderr is closed. Does nothing by default. */
  errConnectionLost(): void {}

  /**
   * Called as soon as the child exits, possibly before its pipes are
   * drained. Does nothing by default.
   *
   * @param reason `ProcessDone` for exit code 0, else `ProcessTerminated`.
   */
  // deno-lint-ignore no-unused-vars
  processExited(reason: Failure): void {}

  /**
   * Called once the child has exited and all its pipes are closed: the last
   * event. Does nothing by default.
   *
   * @param reason `ProcessDone` for exit code 0, else `ProcessTerminated`.
   */
  // deno-lint-ignore no-unused-vars
  processEnded(reason: Failure): void {}
}
