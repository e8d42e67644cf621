/**
 * Reading a whole response body: {@linkcode readBody} for the application,
 * and dropping one for the agents that must empty a connection.
 *
 * @module
 */
import { Deferred } from "../../defer/deferred.ts";
import type { Failure } from "../../defer/failure.ts";
import { NO_PRODUCER } from "./_body_stream.ts";
import { PartialDownloadError, PotentialDataLoss, ResponseDone, ResponseFailed } from "./errors.ts";
import type { Response, ResponseBodyProducer } from "./response.ts";

/** The chunks as one array of its own (not a view of a bigger buffer). */
function join(chunks: Uint8Array[], size: number): Uint8Array {
  const only = chunks[0];
  if (chunks.length === 1 && only.byteOffset === 0 && only.byteLength === only.buffer.byteLength) {
    return only;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Reads a whole response body, for clients that do not need it piece by
 * piece. Cancelling the Deferred closes the connection at once.
 *
 * @param response The response.
 * @returns A Deferred of the body's bytes. It fails with
 * {@linkcode PartialDownloadError} (with the bytes that arrived and the
 * reasons) if the body was cut short or malformed, or with
 * `CancelledError` if cancelled. A body without a declared length that
 * ended with its connection counts as complete (Twisted fails it).
 * @throws {Error} If the body was already delivered.
 *
 * @example
 * ```ts ignore
 * import { Agent, readBody } from "@torsion/torsion/protocols";
 *
 * const agent = new Agent();
 * const body = await agent.request("GET", "http://127.0.0.1:8080/").addCallback(readBody);
 * ```
 */
export function readBody(response: Response): Deferred<Uint8Array> {
  let producer: ResponseBodyProducer = NO_PRODUCER;
  const d = new Deferred<Uint8Array>(() => producer.abortConnection());
  const chunks: Uint8Array[] = [];
  let size = 0;
  response.deliverBody({
    makeConnection(p: ResponseBodyProducer): void {
      producer = p;
    },
    dataReceived(data: Uint8Array): void {
      chunks.push(data);
      size += data.length;
    },
    connectionLost(reason: Failure): void {
      producer = NO_PRODUCER;
      if (d.called) return;
      if (reason.check(ResponseDone, PotentialDataLoss)) {
        d.callback(join(chunks, size));
      } else if (reason.value instanceof ResponseFailed) {
        d.errback(new PartialDownloadError(response, join(chunks, size), reason.value.reasons));
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
