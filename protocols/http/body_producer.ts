/**
 * What a request body is made by when it is not a string or bytes in
 * memory: a {@linkcode BodyProducer} (Twisted's `IBodyProducer`), whose
 * `length` is a number of bytes or {@linkcode UNKNOWN_LENGTH}.
 *
 * @module
 */
import type { Deferred } from "../../defer/deferred.ts";
import type { Consumer, PushProducer } from "../../reactor/interfaces.ts";

/**
 * The `length` of a {@linkcode BodyProducer} that cannot tell in advance
 * how many bytes it will write: its body is sent with
 * `Transfer-Encoding: chunked` instead of `Content-Length`.
 *
 * Divergence from Twisted, whose `UNKNOWN_LENGTH` is a string: here it is a
 * symbol, so it cannot be mistaken for anything else.
 *
 * @example
 * ```ts
 * import { FileBodyProducer, UNKNOWN_LENGTH } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const stream = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
 * assert.equal(new FileBodyProducer(stream).length, UNKNOWN_LENGTH);
 * ```
 */
export const UNKNOWN_LENGTH: unique symbol = Symbol("UNKNOWN_LENGTH");

/**
 * Writes a request body piece by piece, as Twisted's `IBodyProducer`: an
 * agent calls `startProducing(consumer)` once the request head is out (or
 * once the server has answered `100 Continue`), and the producer writes the
 * body to the consumer at its own pace. The consumer pauses it with
 * `pauseProducing()` while the socket's buffer is full and resumes it once
 * the buffer has drained, so a body of any size takes little memory.
 * `stopProducing()` means the body is no longer wanted: the connection
 * closed, the request was cancelled, or the server answered with an error
 * before the body was done.
 *
 * A producer writes exactly `length` bytes when that is a number (else the
 * request fails with {@linkcode WrongBodyLength}); with
 * {@linkcode UNKNOWN_LENGTH} the body is sent chunked. It is used for one
 * request only: it is not replayed, so a request with a producer body is
 * never retried.
 *
 * {@linkcode FileBodyProducer} covers files, streams and bytes; write your
 * own for bodies made on the fly. In tests, drive a producer with a
 * `StringTransport` as its consumer and call `pauseProducing()` yourself.
 *
 * @example A body written in two pieces
 * ```ts
 * import { Deferred } from "@torsion/torsion/defer";
 * import type { BodyProducer } from "@torsion/torsion/protocols";
 * import type { Consumer } from "@torsion/torsion/reactor";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const producer: BodyProducer = {
 *   length: 11,
 *   startProducing(consumer: Consumer): Deferred<unknown> {
 *     consumer.write("hello ");
 *     consumer.write("world");
 *     const d = new Deferred<unknown>();
 *     d.callback(undefined);
 *     return d;
 *   },
 *   pauseProducing() {},
 *   resumeProducing() {},
 *   stopProducing() {},
 * };
 * const transport = new StringTransport();
 * producer.startProducing(transport);
 * assert.equal(transport.valueString(), "hello world");
 * ```
 */
export interface BodyProducer extends PushProducer {
  /** How many bytes the producer will write, or {@linkcode UNKNOWN_LENGTH}. */
  readonly length: number | typeof UNKNOWN_LENGTH;
  /**
   * Starts writing the body to `consumer`.
   *
   * @param consumer What to write to; its `write` never blocks.
   * @returns A Deferred that fires once the whole body has been written,
   * or fails if it cannot be made. After `stopProducing()` it need not
   * fire at all.
   */
  startProducing(consumer: Consumer): Deferred<unknown>;
}

/**
 * Whether `body` is a body producer rather than a string or bytes.
 *
 * @param body A request body.
 * @returns `true` for an object with a `startProducing` method.
 */
export function isBodyProducer(body: unknown): body is BodyProducer {
  return typeof body === "object" && body !== null && !(body instanceof Uint8Array) &&
    typeof (body as { startProducing?: unknown }).startProducing === "function";
}
