// The AMP protocol: parses boxes from the transport and dispatches them:
// questions to responders, answers and errors to the calls waiting for them.
import { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import { fail } from "../../defer/helpers.ts";
import type { Transport } from "../../reactor/interfaces.ts";
import { Logger } from "../../reactor/log.ts";
import { Protocol } from "../protocol.ts";
import type { Inputs, Schema, Values } from "./argument.ts";
import {
  ANSWER,
  ASK,
  COMMAND,
  DEFAULT_MAX_BOX_LENGTH,
  ERROR,
  ERROR_CODE,
  ERROR_DESCRIPTION,
  keyBytes,
  UNHANDLED_ERROR_CODE,
  UNKNOWN_ERROR_CODE,
} from "./box.ts";
import { ByteWriter, type RawBox, RawBoxParser } from "./_raw_box.ts";
import { codecOf, type Command, type CommandCodec } from "./command.ts";
import {
  AmpError,
  BadLocalReturn,
  MalformedAmpBox,
  messageOf,
  NoEmptyBoxes,
  RemoteAmpError,
} from "./errors.ts";
import { pythonBytesRepr } from "./_python_number.ts";

/**
 * What a responder may return: the response, or a Deferred or Promise of
 * it. Throwing (or failing) sends an error instead.
 */
export type ResponderResult<R extends Schema> =
  | Inputs<R>
  | Deferred<Inputs<R>>
  | PromiseLike<Inputs<R>>;

/**
 * A function that answers a command: it gets the decoded arguments and the
 * connection, and returns the response.
 */
export type Responder<A extends Schema, R extends Schema> = (
  args: Values<A>,
  amp: AMP,
) => ResponderResult<R>;

/**
 * What `callRemote` returns: a Deferred of the response, or nothing for a
 * command made with `requiresAnswer: false`.
 */
export type CallResult<R extends Schema, Answer extends boolean> = Answer extends false ? void
  : Deferred<Values<R>>;

interface Waiting {
  readonly codec: CommandCodec;
  readonly d: Deferred<unknown>;
}

interface Registered {
  readonly codec: CommandCodec;
  readonly responder: Responder<Schema, Schema>;
}

const log = new Logger("amp");
const replacingDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const ERROR_KEY = keyBytes(ERROR);
const ERROR_CODE_KEY = keyBytes(ERROR_CODE);
const ERROR_DESCRIPTION_KEY = keyBytes(ERROR_DESCRIPTION);
const UNKNOWN_CODE_BYTES = new TextEncoder().encode(UNKNOWN_ERROR_CODE);
const UNKNOWN_DESCRIPTION = new TextEncoder().encode("Unknown Error");
const encoder = new TextEncoder();

/**
 * The number of a tag this side made (lower-case hex, no leading zero, as
 * `toString(16)` writes it), or -1 for any other bytes.
 */
function tagNumber(bytes: Uint8Array, from: number, to: number): number {
  if (to - from < 1 || to - from > 12 || bytes[from] === 0x30) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const b = bytes[i];
    if (b >= 0x30 && b <= 0x39) n = n * 16 + b - 0x30;
    else if (b >= 0x61 && b <= 0x66) n = n * 16 + b - 0x57;
    else return -1;
  }
  return n;
}

/** Bytes as text for a message, one character per byte. */
function latin1(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, Array.from(bytes.subarray(0, 256)));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * An AMP connection: Twisted's Asynchronous Messaging Protocol, both sides
 * at once. Call the peer with {@linkcode AMP.callRemote}; answer its calls
 * with responders registered by {@linkcode AMP.respond}. Calls pipeline: any
 * number may be in flight, and answers come back in whatever order the peer
 * sends them. The bytes on the wire are Twisted's, so either side may be a
 * Twisted program.
 *
 * It is a {@linkcode Protocol}, so it works wherever one does: with a
 * `Factory`, endpoints, `ClientCreator`, `ClientService`, TLS, and the
 * `testing` kit. Register responders in a subclass's constructor (so every
 * connection a factory builds has them), or on the instance.
 *
 * Errors: a responder that throws an error its command maps in `errors`
 * sends that code, and the call fails on the caller's side with the same
 * class. Any other error is logged here and sent as `UNKNOWN`, and then, as
 * in Twisted, the connection is closed (the responder's state may be
 * broken); a mapped error in `fatalErrors` also closes it. A command with no
 * responder is answered with `UNHANDLED`. A peer that breaks the wire format
 * (a key over 255 bytes, a box with no `_command`, `_answer` or `_error`, an
 * answer to an unknown question, a box over {@linkcode AMP.maxBoxLength})
 * has its connection closed; the violation is logged. When the connection
 * ends, the calls still waiting fail with its reason (or the violation).
 *
 * In tests, connect two instances with `connectedServerAndClient` from
 * `@torsion/torsion/testing` and `pump.flush()`, and feed `dataReceived`
 * one byte at a time too.
 *
 * Divergences from Twisted: no `StartTLS` command or protocol switching
 * (start TLS on the transport instead, or listen with TLS); no `amp_`-method
 * dispatch, `BoxDispatcher` or `CommandLocator` classes (responders are
 * registered per command); no file-descriptor passing; a failed call that
 * nobody handles is reported as any unhandled Deferred error is, without
 * closing the connection; a cancelled call's late answer is ignored.
 * Subclasses that override `connectionLost` must call
 * `super.connectionLost(reason)`.
 *
 * @example A Sum server and client, connected in memory
 * ```ts
 * import { AMP, command, Integer } from "@torsion/torsion/protocols";
 * import { connectedServerAndClient } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const Sum = command("Sum", { a: Integer, b: Integer }, { total: Integer });
 *
 * class SumServer extends AMP {
 *   constructor() {
 *     super();
 *     this.respond(Sum, ({ a, b }) => ({ total: a + b }));
 *   }
 * }
 *
 * const { client, pump } = connectedServerAndClient(() => new SumServer(), () => new AMP());
 * const answer = client.callRemote(Sum, { a: 13, b: 81 });
 * pump.flush();
 * assert.deepEqual(await answer, { total: 94 });
 * ```
 */
export class AMP extends Protocol {
  /**
   * The longest box accepted from the peer, in bytes (default 16 MiB): a
   * torsion limit that keeps one connection's memory bounded (Twisted has
   * none). Set it before the connection is made.
   */
  maxBoxLength: number = DEFAULT_MAX_BOX_LENGTH;

  #parser: RawBoxParser;
  #responders: Map<string, Registered> = new Map();
  #waiting: Map<number, Waiting> = new Map();
  // Boxes written while a chunk is being handled go out in one write.
  #out: ByteWriter = new ByteWriter();
  #batching = false;
  #counter = 0;
  #lostReason: Failure | null = null;
  #violation: AmpError | null = null;
  #closing = false;

  /** Makes a connection with no responders yet. */
  constructor() {
    super();
    this.#parser = new RawBoxParser({
      onBox: (box) => this.#boxReceived(box),
      onError: (error) => this.#protocolViolation(error),
      maxBoxLength: DEFAULT_MAX_BOX_LENGTH,
    });
  }

  /**
   * Registers the function that answers `command` on this connection,
   * replacing any registered before. It gets the decoded arguments and this
   * connection; it returns the response, or a Deferred or Promise of it, or
   * throws (see the class's notes on errors).
   *
   * @param command The command.
   * @param responder The function.
   * @returns This connection, to chain calls.
   * @throws {TypeError} If `command` was not made by `command()` or
   * `responder` is not a function.
   *
   * @example
   * ```ts
   * import { AMP, command, Unicode } from "@torsion/torsion/protocols";
   *
   * const Shout = command("Shout", { text: Unicode }, { text: Unicode });
   * const amp = new AMP().respond(Shout, ({ text }) => ({ text: text.toUpperCase() }));
   * ```
   */
  respond<A extends Schema, R extends Schema, Answer extends boolean>(
    command: Command<A, R, Answer>,
    responder: Responder<A, R>,
  ): this {
    const codec = codecOf(command);
    if (typeof responder !== "function") {
      throw new TypeError(`The responder for ${command.commandName} must be a function`);
    }
    this.#responders.set(command.commandName, {
      codec,
      responder: responder as unknown as Responder<Schema, Schema>,
    });
    return this;
  }

  /**
   * Calls `command` on the peer. The arguments are checked and encoded at
   * once; the Deferred fires with the decoded response, or fails with the
   * class the command maps the peer's error code to, with
   * {@linkcode RemoteAmpError} (or its subclasses `UnknownRemoteError`,
   * `UnhandledCommand`) for codes it does not map, with the error a bad
   * response gave, or with the connection's reason if it ends first.
   *
   * For a command made with `requiresAnswer: false` it returns nothing,
   * and throws bad arguments at once.
   *
   * @param command The command.
   * @param args Its arguments.
   * @returns A Deferred of the response, or nothing.
   * @throws {InvalidSignature} Only for `requiresAnswer: false`: missing or
   * unknown arguments (with an answer, the Deferred fails instead).
   *
   * @example
   * ```ts ignore
   * const { total } = await amp.callRemote(Sum, { a: 1, b: 2 });
   * ```
   */
  callRemote<A extends Schema, R extends Schema, Answer extends boolean>(
    command: Command<A, R, Answer>,
    args: Inputs<A>,
  ): CallResult<R, Answer> {
    const codec = codecOf(command);
    const tag = ++this.#counter;
    if (!command.requiresAnswer) {
      if (this.#lostReason !== null) {
        codec.arguments.encode(args, [undefined, codec.nameBytes]); // still checks the arguments
        return undefined as CallResult<R, Answer>;
      }
      this.#checkConnected(command.commandName);
      codec.arguments.encodeInto(this.#out, args, [undefined, codec.nameBytes]);
      this.#flushUnlessBatching();
      return undefined as CallResult<R, Answer>;
    }
    if (this.#lostReason !== null) return fail(this.#lostReason) as CallResult<R, Answer>;
    try {
      this.#checkConnected(command.commandName);
      codec.arguments.encodeInto(this.#out, args, [tag.toString(16), codec.nameBytes]);
    } catch (error) {
      return fail(error) as CallResult<R, Answer>;
    }
    this.#flushUnlessBatching();
    const d = new Deferred<unknown>();
    this.#waiting.set(tag, { codec, d });
    return d as CallResult<R, Answer>;
  }

  /**
   * Attaches the transport, then calls `connectionMade`.
   *
   * @param transport The connection.
   */
  override makeConnection(transport: Transport): void {
    this.#parser.maxBoxLength = this.maxBoxLength;
    super.makeConnection(transport);
  }

  /**
   * Parses boxes from the bytes and dispatches each one.
   *
   * @param data The next chunk, of any size.
   */
  override dataReceived(data: Uint8Array): void {
    if (this.#batching) {
      this.#parser.dataReceived(data);
      return;
    }
    this.#batching = true;
    try {
      this.#parser.dataReceived(data);
    } finally {
      this.#batching = false;
      this.#flush();
    }
  }

  /**
   * Fails every call still waiting with `reason` (or with the peer's
   * violation of the protocol, if that is why the connection closed); later
   * calls fail with it at once.
   *
   * @param reason Why the connection ended.
   */
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.#parser.stop();
    const why = this.#violation !== null ? new Failure(this.#violation) : reason;
    this.#lostReason = why;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const { d } of waiting) if (!d.called) d.errback(why);
  }

  // --- Sending ----------------------------------------------------------------

  #checkConnected(what: string): void {
    if (this.transport === null) {
      throw new AmpError(`Cannot send ${what}: the connection is not made yet`);
    }
  }

  #flushUnlessBatching(): void {
    if (!this.#batching) this.#flush();
  }

  #flush(): void {
    if (this.#out.length === 0) return;
    const bytes = this.#out.take();
    // Answers to a connection that has gone are dropped, as in Twisted.
    if (this.connected && this.transport !== null) this.transport.write(bytes);
  }

  #close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#parser.stop();
    this.#flush();
    this.transport?.loseConnection();
  }

  #protocolViolation(error: AmpError): void {
    if (this.#violation === null) this.#violation = error;
    log.warn(`Closing the connection to ${this.#peer()}: ${error.message}`);
    this.#close();
  }

  #peer(): string {
    try {
      const peer = this.transport?.getPeer() as { host?: string; port?: number; name?: string };
      if (peer?.host !== undefined) return `${peer.host}:${peer.port}`;
      if (peer?.name !== undefined) return peer.name;
    } catch {
      // A fake transport without an address.
    }
    return "the peer";
  }

  // --- Receiving --------------------------------------------------------------

  #boxReceived(box: RawBox): void {
    const answer = box.find(ANSWER);
    if (answer >= 0) return this.#answerReceived(box, answer);
    const error = box.find(ERROR);
    if (error >= 0) return this.#errorReceived(box, error);
    const name = box.get(COMMAND);
    if (name !== undefined) return this.#commandReceived(name, box);
    this.#protocolViolation(
      new NoEmptyBoxes(
        `A box with no _command, _answer or _error (keys: ${
          box.keys.map((k) => JSON.stringify(k)).join(", ") || "none"
        })`,
      ),
    );
  }

  #takeWaiting(box: RawBox, at: number, what: string): Waiting | undefined {
    const tag = tagNumber(box.bytes, box.starts[at], box.ends[at]);
    const waiting = tag < 0 ? undefined : this.#waiting.get(tag);
    if (waiting === undefined) {
      const text = latin1(box.bytes.subarray(box.starts[at], box.ends[at]));
      this.#protocolViolation(
        new MalformedAmpBox(`An ${what} to a question never asked: ${JSON.stringify(text)}`),
      );
      return undefined;
    }
    this.#waiting.delete(tag);
    // Cancelled: the answer has nobody to go to.
    return waiting.d.called ? undefined : waiting;
  }

  #answerReceived(box: RawBox, at: number): void {
    const waiting = this.#takeWaiting(box, at, "answer");
    if (waiting === undefined) return;
    let values: unknown;
    try {
      values = waiting.codec.response.decode(box);
    } catch (error) {
      waiting.d.errback(error);
      return;
    }
    waiting.d.callback(values);
  }

  #errorReceived(box: RawBox, at: number): void {
    const code = box.get(ERROR_CODE);
    if (code === undefined) {
      this.#protocolViolation(new MalformedAmpBox(`An error box with no _error_code`));
      return;
    }
    const waiting = this.#takeWaiting(box, at, "error");
    if (waiting === undefined) return;
    const description = box.get(ERROR_DESCRIPTION);
    waiting.d.errback(
      waiting.codec.errorFor(
        replacingDecoder.decode(code),
        description === undefined ? "" : replacingDecoder.decode(description),
      ),
    );
  }

  #commandReceived(nameBytes: Uint8Array, box: RawBox): void {
    const name = nameBytes.length <= 64 && nameBytes.every((b) => b < 0x80)
      ? String.fromCharCode.apply(null, nameBytes as unknown as number[])
      : replacingDecoder.decode(nameBytes);
    const ask = box.get(ASK);
    const registered = this.#responders.get(name);
    if (registered === undefined) {
      const description = `Unhandled Command: ${pythonBytesRepr(nameBytes)}`;
      if (ask === undefined) {
        this.#unhandledError(new RemoteAmpError(UNHANDLED_ERROR_CODE, description), name);
      } else {
        this.#sendError(ask, encoder.encode(UNHANDLED_ERROR_CODE), encoder.encode(description));
      }
      return;
    }
    const codec = registered.codec;
    let result: unknown;
    try {
      result = registered.responder(codec.arguments.decode(box) as Values<Schema>, this);
    } catch (error) {
      if (ask === undefined) this.#unhandledError(error, name);
      else this.#failed(codec, ask, error);
      return;
    }
    if (result instanceof Deferred || isThenable(result)) {
      const d = result instanceof Deferred ? result : Deferred.fromPromise(result);
      d.addCallbacks(
        (value: unknown) => {
          if (ask !== undefined) this.#answer(codec, ask, value);
        },
        (failure: Failure) => {
          if (ask === undefined) this.#unhandledError(failure, name);
          else this.#failed(codec, ask, failure.value);
        },
      );
      return;
    }
    if (ask !== undefined) this.#answer(codec, ask, result);
  }

  #answer(codec: CommandCodec, ask: Uint8Array, value: unknown): void {
    try {
      codec.response.encodeInto(this.#out, value, [ask]);
    } catch (error) {
      this.#failed(
        codec,
        ask,
        new BadLocalReturn(`The responder for ${codec.command.commandName}`, error),
      );
      return;
    }
    this.#flushUnlessBatching();
  }

  // A responder failed: send the error's code, or UNKNOWN and close.
  #failed(codec: CommandCodec, ask: Uint8Array, error: unknown): void {
    if (error instanceof RemoteAmpError) {
      this.#sendError(ask, encoder.encode(error.errorCode), encoder.encode(error.description));
      if (error.fatal) this.#close();
      return;
    }
    const mapped = codec.codeFor(error);
    if (mapped !== null) {
      this.#sendError(ask, encoder.encode(mapped.code), encoder.encode(messageOf(error)));
      if (mapped.fatal) this.#close();
      return;
    }
    log.error(
      `${codec.command.commandName} failed with an error its command does ` +
        `not map: sending UNKNOWN and closing the connection to ${this.#peer()}`,
      error,
    );
    this.#sendError(ask, UNKNOWN_CODE_BYTES, UNKNOWN_DESCRIPTION);
    this.#close();
  }

  #sendError(ask: Uint8Array, code: Uint8Array, description: Uint8Array): void {
    const out = this.#out;
    out.key(ERROR_KEY);
    out.value(ask, ERROR);
    out.key(ERROR_CODE_KEY);
    out.value(code.subarray(0, 65535), ERROR_CODE);
    out.key(ERROR_DESCRIPTION_KEY);
    // A description over 65,535 bytes: send the start of it.
    out.value(description.subarray(0, 65535), ERROR_DESCRIPTION);
    out.end();
    this.#flushUnlessBatching();
  }

  // A command sent without `_ask` failed: nobody can be told, so log it and
  // close the connection, as Twisted does.
  #unhandledError(error: unknown, name: string): void {
    log.error(
      `${name} (sent without _ask) failed; closing the connection to ${this.#peer()}`,
      error instanceof Failure ? error : new Failure(error),
    );
    this.#close();
  }
}
