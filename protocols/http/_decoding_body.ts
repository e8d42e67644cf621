/**
 * Decompressing a response body on its way to the application: the engine
 * behind the content decoders. Compressed bytes are fed to a `node:zlib`
 * stream a small slice at a time, so however well a body compresses (a
 * "decompression bomb"), one step yields at most a few MiB, and a reader
 * that stops (`readBody` past its `maxSize`) stops the decompression at
 * once. `DecompressionStream` is not used: it inflates each input chunk
 * whole, a GiB at a time for a small chunk of a bomb.
 *
 * @module
 */
import type { Transform } from "node:stream";
import { Failure } from "../../defer/failure.ts";
import { Logger } from "../../reactor/log.ts";
import { NO_PRODUCER } from "./_body_stream.ts";
import { PotentialDataLoss, ResponseDone, ResponseFailed } from "./errors.ts";
import type { Response, ResponseBodyProducer, ResponseBodyProtocol } from "./response.ts";

const logger = new Logger("http");

/**
 * The most compressed bytes handed to the decompressor in one step: deflate
 * expands a byte to at most ~1,032, so one step gives at most ~4 MiB.
 */
const STEP = 4 * 1024;
/** Compressed bytes queued past which the connection is paused. */
const HIGH_WATER = 64 * 1024;
/** How many bytes a decompressor may look at to choose its format. */
export const SNIFF_BYTES = 2;

/**
 * Makes the decompressor for a body, given its first bytes (up to
 * {@linkcode SNIFF_BYTES}; fewer only if the body is that short).
 */
export type MakeInflater = (head: Uint8Array) => Transform;

/** Decoded responses whose body has been asked for. */
const delivered = new WeakSet<Response>();

function call(where: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    logger.error(`Unhandled error in a response body protocol's ${where}()`, Failure.from(error));
  }
}

/**
 * Delivers the decompressed body of `original` to `protocol`, as
 * `decoded.deliverBody` must: `makeConnection` first, the decompressed
 * bytes in order, then `connectionLost` once — with the original body's end
 * when it and the compressed data both ended well, or with
 * {@linkcode ResponseFailed} (the decompressor's error among its reasons)
 * for corrupt or truncated data, which also closes the connection.
 *
 * @param original The response as received.
 * @param decoded The response the application sees.
 * @param protocol What receives the decompressed body.
 * @param makeInflater Makes the decompressor.
 * @throws {Error} If the body of `decoded` was already delivered.
 */
export function deliverDecoded(
  original: Response,
  decoded: Response,
  protocol: ResponseBodyProtocol,
  makeInflater: MakeInflater,
): void {
  if (delivered.has(decoded)) {
    throw new Error("The body of this response has already been delivered to a protocol");
  }
  delivered.add(decoded);
  let upstream: ResponseBodyProducer = NO_PRODUCER;
  let inflater: Transform | undefined;
  const queue: Uint8Array[] = [];
  let queued = 0;
  let received = 0;
  let inFlight = false;
  let paused = false;
  let upstreamPaused = false;
  let ended: Failure | undefined;
  let ending = false;
  let finished = false;
  let stopped = false;

  const finish = (reason: Failure): void => {
    if (finished) return;
    finished = true;
    queue.length = 0;
    inflater?.destroy();
    for (const [name, values] of original.trailers) decoded.trailers.setRawHeaders(name, values);
    call("connectionLost", () => protocol.connectionLost(reason));
  };

  const fail = (error: unknown): void => {
    if (finished) return;
    const p = upstream;
    upstream = NO_PRODUCER;
    if (ended === undefined) p.abortConnection();
    const reasons = [Failure.from(error)];
    finish(new Failure(new ResponseFailed(reasons, decoded)));
  };

  // The connection reads only while the reader reads and little is queued.
  const flow = (): void => {
    const stop = paused || queued >= HIGH_WATER;
    if (stop === upstreamPaused) return;
    upstreamPaused = stop;
    if (stop) upstream.pauseProducing();
    else upstream.resumeProducing();
  };

  const start = (): Transform => {
    const head = new Uint8Array(Math.min(SNIFF_BYTES, queued));
    let filled = 0;
    for (const chunk of queue) {
      if (filled === head.length) break;
      const part = chunk.subarray(0, head.length - filled);
      head.set(part, filled);
      filled += part.length;
    }
    const stream = makeInflater(head);
    stream.on("data", (chunk: Uint8Array) => {
      if (finished || stopped) return;
      const data = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      call("dataReceived", () => protocol.dataReceived(data));
    });
    stream.on("end", () => {
      if (!stopped) finish(ended ?? new Failure(new ResponseDone()));
    });
    stream.on("error", (error: unknown) => {
      if (!stopped) fail(error);
    });
    if (paused) stream.pause();
    return stream;
  };

  const pump = (): void => {
    while (!finished && !stopped && !inFlight && !paused) {
      if (inflater === undefined) {
        if (queued < SNIFF_BYTES && ended === undefined) return;
        if (received === 0) {
          // No body at all (HEAD, 204, 304, an empty 200): nothing to decode.
          finish(ended!);
          return;
        }
        inflater = start();
      }
      if (queue.length === 0) {
        if (ended !== undefined && !ending) {
          ending = true;
          inflater.end();
        }
        return;
      }
      let step = queue[0];
      if (step.length > STEP) {
        queue[0] = step.subarray(STEP);
        step = step.subarray(0, STEP);
      } else {
        queue.shift();
      }
      queued -= step.length;
      inFlight = true;
      inflater.write(step, () => {
        inFlight = false;
        flow();
        pump();
      });
      flow();
    }
  };

  // The reader gave up: the body ends with the connection's failure, or
  // with one of its own if the connection had already delivered it all.
  const stop = (how: (p: ResponseBodyProducer) => void): void => {
    if (finished || stopped) return;
    stopped = true;
    queue.length = 0;
    inflater?.destroy();
    if (ended !== undefined) {
      finish(
        new Failure(new ResponseFailed([new Failure(new Error("The body was stopped"))], decoded)),
      );
      return;
    }
    const p = upstream;
    upstream = NO_PRODUCER;
    how(p);
  };

  call("makeConnection", () =>
    protocol.makeConnection({
      pauseProducing(): void {
        if (finished || paused) return;
        paused = true;
        inflater?.pause();
        flow();
      },
      resumeProducing(): void {
        if (finished || !paused) return;
        paused = false;
        inflater?.resume();
        flow();
        pump();
      },
      stopProducing(): void {
        stop((p) => p.stopProducing());
      },
      abortConnection(): void {
        stop((p) => p.abortConnection());
      },
    }));

  original.deliverBody({
    makeConnection(p: ResponseBodyProducer): void {
      upstream = p;
      if (stopped) {
        upstream = NO_PRODUCER;
        p.abortConnection();
      }
    },
    dataReceived(data: Uint8Array): void {
      if (finished || stopped) return;
      received += data.length;
      queued += data.length;
      queue.push(data);
      flow();
      pump();
    },
    connectionLost(reason: Failure): void {
      upstream = NO_PRODUCER;
      if (finished) return;
      if (!stopped && reason.check(ResponseDone, PotentialDataLoss)) {
        ended = reason;
        pump();
      } else {
        finish(reason);
      }
    },
  });
}
