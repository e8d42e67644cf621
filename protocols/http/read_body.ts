/**
 * Reading a whole response body: {@linkcode readBody} for the application,
 * and dropping one for the agents that must empty a connection.
 *
 * @module
 */
import { Deferred } from "../../defer/deferred.ts";
import type { Failure } from "../../defer/failure.ts";
import { NO_PRODUCER } from "./_body_stream.ts";
import { GrowingBuffer } from "./_growing_buffer.ts";
import {
  BodyTooLargeError,
  PartialDownloadError,
  PotentialDataLoss,
  ResponseDone,
  ResponseFailed,
} from "./errors.ts";
import type { Response, ResponseBodyProducer } from "./response.ts";

/** Options for {@linkcode readBody}. */
export interface ReadBodyOptions {
  /**
   * The most bytes the body may have: past it, the read fails with
   * {@linkcode BodyTooLargeError} and the connection is closed. No limit by
   * default.
   */
  maxSize?: number;
}

/**
 * Checks a `maxSize` option.
 *
 * @param maxSize The option's value.
 * @returns The limit; `Infinity` for none.
 * @throws {RangeError} If it is not a number of bytes, 0 or more.
 */
export function checkMaxSize(maxSize: number | undefined): number {
  if (maxSize === undefined) return Infinity;
  if (typeof maxSize !== "number" || !(maxSize >= 0)) {
    throw new RangeError(`maxSize must be a number of bytes, 0 or more, not ${maxSize}`);
  }
  return maxSize;
}

/**
 * Reads a whole response body, for clients that do not need it piece by
 * piece. Cancelling the Deferred closes the connection at once.
 *
 * The body is gathered into one buffer that grows by doubling (reserved up
 * front from `Content-Length`), so it costs about its own size in memory
 * however small the pieces it arrives in. With `maxSize`, a body larger
 * than that fails with {@linkcode BodyTooLargeError} and its connection is
 * closed: at once when its `Content-Length` is over the limit, else as soon
 * as the bytes received pass it.
 *
 * Divergence from Twisted: the `maxSize` option is torsion's own.
 *
 * @param response The response.
 * @param options The size limit.
 * @returns A Deferred of the body's bytes, an array of its own. It fails
 * with {@linkcode PartialDownloadError} (with the bytes that arrived and
 * the reasons) if the body was cut short or malformed, with
 * {@linkcode BodyTooLargeError} past `maxSize`, or with `CancelledError` if
 * cancelled. A body without a declared length that ended with its
 * connection counts as complete (Twisted fails it).
 * @throws {Error} If the body was already delivered.
 * @throws {RangeError} For a negative or non-numeric `maxSize`.
 *
 * @example Reading a body of at most 1 MiB
 * ```ts ignore
 * import { Agent, readBody } from "@torsion/torsion/protocols";
 *
 * const agent = new Agent();
 * const response = await agent.request("GET", "http://127.0.0.1:8080/");
 * const body = await readBody(response, { maxSize: 2 ** 20 });
 * ```
 */
export function readBody(response: Response, options: ReadBodyOptions = {}): Deferred<Uint8Array> {
  const maxSize = checkMaxSize(options.maxSize);
  let producer: ResponseBodyProducer = NO_PRODUCER;
  const d = new Deferred<Uint8Array>(() => producer.abortConnection());
  const length = response.length;
  const buffer = new GrowingBuffer(length !== undefined && length <= maxSize ? length : undefined);
  const tooLarge = (size: number): void => {
    const p = producer;
    producer = NO_PRODUCER;
    d.errback(new BodyTooLargeError(response, maxSize, size));
    p.abortConnection();
  };
  response.deliverBody({
    makeConnection(p: ResponseBodyProducer): void {
      producer = p;
      if (length !== undefined && length > maxSize) tooLarge(length);
    },
    dataReceived(data: Uint8Array): void {
      if (d.called) return;
      if (buffer.length + data.length > maxSize) {
        tooLarge(buffer.length + data.length);
        return;
      }
      buffer.append(data);
    },
    connectionLost(reason: Failure): void {
      producer = NO_PRODUCER;
      if (d.called) return;
      if (reason.check(ResponseDone, PotentialDataLoss)) {
        d.callback(buffer.take());
      } else if (reason.value instanceof ResponseFailed) {
        d.errback(new PartialDownloadError(response, buffer.take(), reason.value.reasons));
      } else {
        d.errback(reason);
      }
    },
  });
  return d;
}

/**
 * Reads and drops a body; fires once it has ended, however it ended, so the
 * connection is back in its pool (or closed) when it does.
 */
export function discardBody(response: Response): Deferred<void> {
  const d = new Deferred<void>();
  response.deliverBody({
    makeConnection(): void {},
    dataReceived(): void {},
    connectionLost(): void {
      d.callback(undefined);
    },
  });
  return d;
}
