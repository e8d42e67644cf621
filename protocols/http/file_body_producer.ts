/**
 * {@linkcode FileBodyProducer}: a request body read from a file, a stream or
 * bytes, a piece at a time, as Twisted's `FileBodyProducer`.
 *
 * @module
 */
import { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import type { Consumer } from "../../reactor/interfaces.ts";
import { type BodyProducer, UNKNOWN_LENGTH } from "./body_producer.ts";

const encoder = new TextEncoder();

/** Options for {@linkcode FileBodyProducer}. */
export interface FileBodyProducerOptions {
  /** The most bytes read and written at a time (default 64 KiB, as Twisted). */
  readSize?: number;
  /**
   * The body's length, for a stream that knows it (as a download's
   * `Content-Length`): sent as `Content-Length`, and enforced. By default a
   * stream's length is unknown and its body is sent chunked.
   */
  length?: number;
}

/** Where the bytes come from. */
type Source =
  | { kind: "file"; file: Deno.FsFile }
  | { kind: "stream"; stream: ReadableStream<Uint8Array>; reader?: ReadableStreamDefaultReader }
  | { kind: "bytes"; bytes: Uint8Array; offset: number };

/**
 * A request body read from a `Deno.FsFile`, a `ReadableStream<Uint8Array>`
 * or bytes (a `Uint8Array`, or a string sent as UTF-8), written to the
 * connection a piece of `readSize` bytes at a time and only as fast as the
 * socket takes it: the memory an upload costs does not grow with its size.
 * Give it to an agent's `request` as the body.
 *
 * Its `length` is what is left of a regular file from its current position
 * (so the body is sent with `Content-Length`), the size of the bytes, or
 * {@linkcode UNKNOWN_LENGTH} for a stream (sent chunked) unless `length` is
 * given, and for a file that is not a regular file (a pipe, a terminal).
 *
 * The file is closed once it has been read whole, when reading it fails,
 * and when the producer is stopped; a stream is cancelled when the
 * producer is stopped. A producer sends its body once.
 *
 * Divergences from Twisted: it also takes streams and bytes; reads are
 * Deno's asynchronous ones, not scheduled by a `Cooperator` (there is no
 * `cooperator` argument); `startProducing` throws if called twice.
 *
 * @example Uploading a file
 * ```ts ignore
 * import { Agent, FileBodyProducer, readBody } from "@torsion/torsion/protocols";
 *
 * const file = await Deno.open("backup.tar");
 * const response = await new Agent().request(
 *   "PUT",
 *   "http://127.0.0.1:8080/backup.tar",
 *   { "Content-Type": "application/x-tar" },
 *   new FileBodyProducer(file),
 * );
 * console.log(response.code, await readBody(response));
 * ```
 *
 * @example Producing bytes into a consumer
 * ```ts
 * import { FileBodyProducer } from "@torsion/torsion/protocols";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const producer = new FileBodyProducer("hello world", { readSize: 4 });
 * const transport = new StringTransport();
 * await producer.startProducing(transport);
 * assert.equal(producer.length, 11);
 * assert.equal(transport.valueString(), "hello world");
 * ```
 */
export class FileBodyProducer implements BodyProducer {
  /** The body's length in bytes, or {@linkcode UNKNOWN_LENGTH}. */
  readonly length: number | typeof UNKNOWN_LENGTH;
  readonly #readSize: number;
  readonly #source: Source;
  #consumer: Consumer | null = null;
  #deferred: Deferred<unknown> | null = null;
  #paused = false;
  #stopped = false;
  #looping = false;
  #reading = false;
  #closed = false;

  /**
   * Makes a producer.
   *
   * @param input A file open for reading, a stream of bytes, or bytes.
   * @param options The read size, and the length of a stream.
   * @throws {TypeError} For any other input.
   * @throws {RangeError} For a `readSize` that is not a positive integer, or
   * a `length` that is not an integer, 0 or more.
   */
  constructor(
    input: Deno.FsFile | ReadableStream<Uint8Array> | Uint8Array | string,
    options: FileBodyProducerOptions = {},
  ) {
    const readSize = options.readSize ?? 65536;
    if (!Number.isSafeInteger(readSize) || readSize <= 0) {
      throw new RangeError(`readSize must be a positive integer, not ${readSize}`);
    }
    this.#readSize = readSize;
    const given = options.length;
    if (given !== undefined && (!Number.isSafeInteger(given) || given < 0)) {
      throw new RangeError(`length must be an integer number of bytes, 0 or more, not ${given}`);
    }
    if (typeof input === "string" || input instanceof Uint8Array) {
      const bytes = typeof input === "string" ? encoder.encode(input) : input;
      this.#source = { kind: "bytes", bytes, offset: 0 };
      this.length = bytes.length;
    } else if (input instanceof ReadableStream) {
      this.#source = { kind: "stream", stream: input };
      this.length = given ?? UNKNOWN_LENGTH;
    } else if (input instanceof Deno.FsFile) {
      this.#source = { kind: "file", file: input };
      this.length = given ?? fileLength(input);
    } else {
      throw new TypeError(
        "FileBodyProducer takes a Deno.FsFile, a ReadableStream<Uint8Array>, a Uint8Array or a string",
      );
    }
  }

  /**
   * Starts writing the body to `consumer`.
   *
   * @param consumer What to write to.
   * @returns A Deferred that fires once the body has been written whole; it
   * fails if reading fails, and never fires once stopped. Cancelling it
   * stops the producer.
   * @throws {Error} If the producer was started before.
   */
  startProducing(consumer: Consumer): Deferred<unknown> {
    if (this.#consumer !== null) throw new Error("This FileBodyProducer has been started already");
    this.#consumer = consumer;
    const d = this.#deferred = new Deferred<unknown>(() => this.stopProducing());
    if (this.#stopped) return d;
    this.#produce();
    return d;
  }

  /** Stops writing until `resumeProducing()`. */
  pauseProducing(): void {
    this.#paused = true;
  }

  /** Writes again after `pauseProducing()`. */
  resumeProducing(): void {
    if (this.#stopped || !this.#paused) return;
    this.#paused = false;
    if (this.#consumer !== null) this.#produce();
  }

  /** Stops for good: the file is closed or the stream cancelled; the Deferred never fires. */
  stopProducing(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#release();
  }

  #produce(): void {
    const source = this.#source;
    if (source.kind === "bytes") {
      const { bytes } = source;
      while (!this.#paused && !this.#stopped && source.offset < bytes.length) {
        const end = Math.min(source.offset + this.#readSize, bytes.length);
        const piece = bytes.subarray(source.offset, end);
        source.offset = end;
        if (!this.#write(piece)) return;
      }
      if (!this.#stopped && source.offset === bytes.length) this.#finish();
      return;
    }
    if (this.#looping) return;
    this.#looping = true;
    this.#readLoop(source).finally(() => {
      this.#looping = false;
      // Stopped while a read was in flight: close now that it is over.
      if (this.#stopped) this.#release();
    });
  }

  async #readLoop(source: Source & { kind: "file" | "stream" }): Promise<void> {
    try {
      while (!this.#paused && !this.#stopped) {
        let piece: Uint8Array | null;
        if (source.kind === "file") {
          const buffer = new Uint8Array(this.#readSize);
          this.#reading = true;
          const n = await source.file.read(buffer).finally(() => {
            this.#reading = false;
          });
          piece = n === null ? null : buffer.subarray(0, n);
        } else {
          const reader = source.reader ??= source.stream.getReader();
          this.#reading = true;
          const next = await reader.read().finally(() => {
            this.#reading = false;
          });
          if (!next.done && !(next.value instanceof Uint8Array)) {
            throw new TypeError(
              `A FileBodyProducer stream must give Uint8Array chunks, not ${typeof next.value}`,
            );
          }
          piece = next.done ? null : next.value;
        }
        if (this.#stopped) return;
        if (piece === null) {
          // Closed before the Deferred fires, so its callbacks find it closed.
          this.#release();
          this.#finish();
          return;
        }
        if (piece.length > 0 && !this.#write(piece)) return;
      }
    } catch (error) {
      if (this.#stopped) return;
      this.#stopped = true;
      this.#release();
      this.#deferred!.errback(new Failure(error));
    }
  }

  /** Writes a piece; false once the producer has failed or been stopped by it. */
  #write(piece: Uint8Array): boolean {
    try {
      this.#consumer!.write(piece);
    } catch (error) {
      if (!this.#stopped) {
        this.#stopped = true;
        this.#release();
        this.#deferred!.errback(new Failure(error));
      }
      return false;
    }
    return !this.#stopped;
  }

  #finish(): void {
    this.#stopped = true;
    const d = this.#deferred!;
    if (!d.called) d.callback(undefined);
  }

  /**
   * Closes the file, once no read is in flight, or cancels the stream (which
   * ends a pending read).
   */
  #release(): void {
    const source = this.#source;
    if (this.#closed || (this.#reading && source.kind === "file")) return;
    this.#closed = true;
    if (source.kind === "file") {
      try {
        source.file.close();
      } catch {
        // Closed by its owner already.
      }
    } else if (source.kind === "stream") {
      if (source.reader !== undefined) {
        source.reader.cancel().catch(() => {});
        source.reader.releaseLock();
      } else if (!source.stream.locked) {
        source.stream.cancel().catch(() => {});
      }
    }
  }
}

/** What is left to read of a regular file, or UNKNOWN_LENGTH. */
function fileLength(file: Deno.FsFile): number | typeof UNKNOWN_LENGTH {
  try {
    const info = file.statSync();
    if (!info.isFile) return UNKNOWN_LENGTH;
    const position = file.seekSync(0, Deno.SeekMode.Current);
    return Math.max(0, info.size - position);
  } catch {
    return UNKNOWN_LENGTH;
  }
}
