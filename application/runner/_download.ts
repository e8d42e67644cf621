/**
 * What `cli.ts get` does: follows redirects to a response, asking for it
 * compressed (gzip, deflate, br) and decoding it, then streams its body to
 * standard output or to a file as it arrives (never holding it whole),
 * pausing the connection while the file's writes lag, with a
 * {@linkcode ProgressBar} on a terminal. A body that fails half-way leaves
 * no partial file behind, or says where it is.
 *
 * @module
 */
import { Deferred } from "../../defer/deferred.ts";
import { TimeoutError } from "../../defer/errors.ts";
import type { Failure } from "../../defer/failure.ts";
import type { DelayedCall } from "../../defer/time.ts";
import { Agent, type HTTPClientReactor } from "../../protocols/http/agent.ts";
import { ContentDecoderAgent } from "../../protocols/http/content_decoder_agent.ts";
import { PotentialDataLoss, ResponseDone } from "../../protocols/http/errors.ts";
import { HTTPError } from "../../protocols/http/http_error.ts";
import { readBody } from "../../protocols/http/read_body.ts";
import { RedirectAgent } from "../../protocols/http/redirect_agent.ts";
import type { Response, ResponseBodyProducer } from "../../protocols/http/response.ts";
import { ProgressBar } from "./_progress.ts";

/** Pause the connection while more than this is waiting to be written to the file. */
const HIGH_WATER = 4 * 2 ** 20;

/** Options for {@linkcode download}. */
export interface DownloadOptions {
  /** Connects, and keeps time for the timeout and the bar. */
  reactor: HTTPClientReactor;
  /** Seconds to wait for the response, and for each piece of its body. */
  timeout: number;
  /** The file to write the body to; standard output (`stdout`) without it. */
  output?: string;
  /** Writes to standard output, synchronously. */
  stdout(bytes: Uint8Array): void;
  /** Draws progress on a terminal; no bar without it. */
  progress?(text: string): void;
  /** The terminal's width for the bar (default 80). */
  width?: number;
  /** Stops the download (Ctrl-C): it fails with "Interrupted". */
  signal?: AbortSignal;
}

/**
 * Downloads `url` to standard output or to `options.output`.
 *
 * @param url An `http:` or `https:` URL.
 * @param options Where to, the timeout and the bar.
 * @returns The number of body bytes written.
 * @throws {HTTPError} For a status of 400 or more (nothing is written).
 * @throws {Error} When the request or the body fails; the message says so,
 * and what became of a partial file.
 */
export async function download(url: string, options: DownloadOptions): Promise<number> {
  const { reactor, timeout } = options;
  const agent = new RedirectAgent(new ContentDecoderAgent(new Agent(reactor)));
  const requested = agent.request("GET", url);
  if (timeout > 0) requested.addTimeout(timeout, reactor);
  const { signal } = options;
  signal?.throwIfAborted();
  const cancel = () => requested.cancel();
  signal?.addEventListener("abort", cancel, { once: true });
  let response: Response;
  try {
    response = await requested;
  } catch (error) {
    if (signal?.aborted) throw new Error("Interrupted", { cause: error });
    throw error;
  } finally {
    signal?.removeEventListener("abort", cancel);
  }
  if (response.code >= 400) {
    const body = await readBody(response, { maxSize: 65536 }).asPromise().catch(() =>
      new Uint8Array()
    );
    throw new HTTPError(response.code, response.phrase, body, response);
  }
  const file = options.output === undefined ? undefined : await openOutput(options.output);
  const bar = options.progress === undefined ? undefined : new ProgressBar(options.progress, {
    total: response.length,
    now: () => reactor.seconds(),
    width: options.width,
  });
  try {
    const written = await receive(response, options, file, bar);
    bar?.finish();
    return written;
  } catch (error) {
    bar?.abandon();
    if (file === undefined || options.output === undefined) throw error;
    throw new Error(`${messageOf(error)}; ${await removePartial(options.output)}`, {
      cause: error,
    });
  } finally {
    try {
      file?.close();
    } catch {
      // Closed already.
    }
  }
}

async function openOutput(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { write: true, create: true, truncate: true });
  } catch (error) {
    throw new Error(`Cannot write ${path}: ${messageOf(error)}`, { cause: error });
  }
}

async function removePartial(path: string): Promise<string> {
  try {
    await Deno.remove(path);
    return `the partial file ${path} was removed`;
  } catch (error) {
    return `the partial file ${path} is left (it could not be removed: ${messageOf(error)})`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Streams the body to the file or stdout; fires with its length once all is written. */
function receive(
  response: Response,
  options: DownloadOptions,
  file: Deno.FsFile | undefined,
  bar: ProgressBar | undefined,
): Promise<number> {
  const { reactor, timeout, signal } = options;
  const done = new Deferred<number>();
  let producer: ResponseBodyProducer | undefined;
  let received = 0;
  // The file's writes: a queue drained by one loop, the connection paused while it is long.
  const queue: Uint8Array[] = [];
  let queued = 0;
  let writing = false;
  let paused = false;
  let ended = false;
  let failed = false;
  let idle: DelayedCall | undefined;

  const fail = (error: unknown): void => {
    if (failed || done.called) return;
    failed = true;
    if (idle?.active()) idle.cancel();
    producer?.abortConnection();
    done.errback(error);
  };
  const finishIfDrained = (): void => {
    if (ended && !writing && queue.length === 0 && !failed && !done.called) {
      done.callback(received);
    }
  };
  const drain = async (): Promise<void> => {
    writing = true;
    try {
      while (queue.length > 0 && !failed) {
        const chunk = queue.shift()!;
        for (let at = 0; at < chunk.length;) at += await file!.write(chunk.subarray(at));
        queued -= chunk.length;
        if (paused && queued <= HIGH_WATER / 2) {
          paused = false;
          producer?.resumeProducing();
        }
      }
    } catch (error) {
      fail(new Error(`Cannot write ${options.output}: ${messageOf(error)}`, { cause: error }));
    } finally {
      writing = false;
    }
    finishIfDrained();
  };
  const watch = (): void => {
    if (timeout <= 0) return;
    if (idle?.active()) idle.reset(timeout);
    else {
      idle = reactor.callLater(timeout, () => {
        fail(new TimeoutError(timeout, "Waiting for the body"));
      });
    }
  };

  watch();
  response.deliverBody({
    makeConnection(p: ResponseBodyProducer): void {
      producer = p;
    },
    dataReceived(data: Uint8Array): void {
      if (failed) return;
      received += data.length;
      watch();
      bar?.update(data.length);
      if (file === undefined) {
        try {
          options.stdout(data);
        } catch (error) {
          fail(error);
        }
        return;
      }
      queue.push(data);
      queued += data.length;
      if (!paused && queued > HIGH_WATER) {
        paused = true;
        producer?.pauseProducing();
      }
      if (!writing) drain();
    },
    connectionLost(reason: Failure): void {
      if (idle?.active()) idle.cancel();
      if (failed) return;
      if (reason.check(ResponseDone, PotentialDataLoss)) {
        ended = true;
        finishIfDrained();
      } else {
        fail(reason.value);
      }
    },
  });
  if (signal !== undefined) {
    const interrupt = () => fail(new Error("Interrupted"));
    signal.addEventListener("abort", interrupt, { once: true });
    done.addBoth((result) => {
      signal.removeEventListener("abort", interrupt);
      return result; // a Failure passed on stays a failure
    });
  }
  return done.asPromise();
}
