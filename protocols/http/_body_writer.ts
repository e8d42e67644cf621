/**
 * Sends a request body from a {@linkcode BodyProducer} onto a connection:
 * the consumer the producer writes to. It frames the body (exactly
 * `length` bytes, or chunked), and stands between the producer and the
 * transport for flow control: registered with the transport as a push
 * producer, it passes the socket's pause and resume on to the body
 * producer. Twisted splits this between `Request`,
 * `LengthEnforcingConsumer` and `ChunkedEncoder`.
 *
 * @module
 */
import { Failure } from "../../defer/failure.ts";
import type { Consumer, Producer, PushProducer, Transport } from "../../reactor/interfaces.ts";
import { type BodyProducer, UNKNOWN_LENGTH } from "./body_producer.ts";
import { ExcessWrite, WrongBodyLength } from "./request_errors.ts";

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/** How a body write ended: `null` when the whole body was written. */
export type BodyWritten = (failure: Failure | null) => void;

/**
 * One body on its way to the connection. `start()` registers it with the
 * transport and starts the producer; `done` is called once, when the body
 * has been written whole or has failed; `stop()` abandons it (the producer
 * is stopped, `done` is not called).
 */
export class BodyWriter implements Consumer, PushProducer {
  readonly #transport: Transport;
  readonly #producer: BodyProducer;
  readonly #done: BodyWritten;
  readonly #expected: number | undefined;
  #written = 0;
  #registered = false;
  #finished = false;

  constructor(transport: Transport, producer: BodyProducer, done: BodyWritten) {
    this.#transport = transport;
    this.#producer = producer;
    this.#done = done;
    this.#expected = producer.length === UNKNOWN_LENGTH ? undefined : producer.length;
  }

  /** Whether the body is framed by chunks (its length is unknown). */
  get chunked(): boolean {
    return this.#expected === undefined;
  }

  /** Registers with the transport and starts the producer. */
  start(): void {
    this.#transport.registerProducer(this, true);
    // On a closing transport, registerProducer stops us at once.
    if (this.#finished) return;
    this.#registered = true;
    let produced;
    try {
      produced = this.#producer.startProducing(this);
    } catch (error) {
      this.#fail(new Failure(error), true);
      return;
    }
    produced.addCallbacks(
      () => this.#complete(),
      (failure: Failure) => {
        this.#fail(failure, false);
      },
    );
  }

  /** Abandons the body: the producer is stopped; `done` is not called. */
  stop(): void {
    if (this.#finished) return;
    this.#end();
    this.#stopProducer();
  }

  // Consumer: what the body producer writes to.

  /**
   * Takes a piece of the body.
   *
   * @throws {ExcessWrite} After the body has ended.
   */
  write(data: Uint8Array | string): void {
    if (this.#finished) {
      this.#stopProducer();
      throw new ExcessWrite();
    }
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError("A request body producer must write a Uint8Array or a string");
    }
    if (bytes.length === 0) return;
    const expected = this.#expected;
    this.#written += bytes.length;
    if (expected === undefined) {
      this.#transport.writeSequence([
        encoder.encode(`${bytes.length.toString(16)}\r\n`),
        bytes,
        CRLF,
      ]);
    } else if (this.#written <= expected) {
      this.#transport.write(bytes);
    } else {
      // Not written: the server would take the excess for the next request.
      this.#stopProducer();
      this.#fail(new Failure(new WrongBodyLength(expected, this.#written)), false);
    }
  }

  /**
   * The body producer is registered with the transport by the request
   * already; registering it again is allowed and does nothing.
   *
   * @throws {Error} For another producer.
   */
  registerProducer(producer: Producer, _streaming: boolean): void {
    if (producer !== this.#producer) {
      throw new Error("A request body's consumer takes no producer but the body's own");
    }
  }

  /** Does nothing: the request unregisters the body when it ends. */
  unregisterProducer(): void {}

  // PushProducer: what the transport drives.

  pauseProducing(): void {
    if (!this.#finished) this.#producer.pauseProducing();
  }

  resumeProducing(): void {
    if (!this.#finished) this.#producer.resumeProducing();
  }

  stopProducing(): void {
    // The connection is gone.
    this.stop();
  }

  #complete(): void {
    if (this.#finished) return;
    const expected = this.#expected;
    if (expected !== undefined && this.#written !== expected) {
      this.#fail(new Failure(new WrongBodyLength(expected, this.#written)), false);
      return;
    }
    if (expected === undefined) this.#transport.write(LAST_CHUNK);
    this.#end();
    this.#done(null);
  }

  #fail(failure: Failure, stop: boolean): void {
    if (this.#finished) return;
    this.#end();
    if (stop) this.#stopProducer();
    this.#done(failure);
  }

  #end(): void {
    this.#finished = true;
    if (this.#registered) {
      this.#registered = false;
      this.#transport.unregisterProducer();
    }
  }

  #stopProducer(): void {
    try {
      this.#producer.stopProducing();
    } catch (error) {
      console.error("Unhandled error in a request body producer's stopProducing():", error);
    }
  }
}
