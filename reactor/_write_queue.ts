/**
 * What a stream transport has been asked to write and has not yet handed
 * to the socket. Chunks are queued as given (not copied), or staged: copied
 * (strings encoded in place) onto the end of a staging buffer that grows
 * from 4 KiB to 64 KiB, whose open view is a single queue entry. The
 * transport stages small writes made while a write is in flight, so a slow
 * reader's backlog of small writes costs its size and not a buffer and a
 * queue slot each: a million queued 25-byte strings each in a buffer of
 * their own cost about 500 MiB; staged, about 30 MiB.
 *
 * @module
 */

/** Queued chunks are joined into writes of up to this many bytes. */
const COALESCE_LIMIT = 128 * 1024;
/** The first staging buffer; each next one doubles, up to {@linkcode STAGE_MAX}. */
const STAGE_MIN = 4 * 1024;
/** The largest staging buffer (a larger write gets one of its own size). */
const STAGE_MAX = 64 * 1024;
/** Strings up to this long are staged by a loop rather than `encodeInto`. */
const SHORT_STRING = 64;
const EMPTY = new Uint8Array(0);

const encoder = new TextEncoder();

/** A transport's queue of bytes to write, in order. */
export class _WriteQueue {
  #chunks: Uint8Array[] = [];
  #head = 0;
  // The last entry of #chunks is the open view #stage[#stageStart, #stageEnd)
  // while #stageOpen; it grows in place with each staged write and is made
  // into a real view only when it is taken.
  #stage: Uint8Array | undefined;
  #stageStart = 0;
  #stageEnd = 0;
  #stageOpen = false;

  /** Whether nothing is waiting to be taken. */
  get isEmpty(): boolean {
    return this.#head === this.#chunks.length;
  }

  /**
   * Queues a chunk as given; a string is encoded into a buffer of its own.
   * Do not change a Uint8Array once queued.
   *
   * @param data A non-empty chunk.
   * @returns How many bytes were queued.
   */
  push(data: Uint8Array | string): number {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    this.#closeStagedView();
    this.#chunks.push(bytes);
    return bytes.length;
  }

  /**
   * Queues a copy of a chunk, on the end of the staging buffer.
   *
   * @param data A non-empty chunk, best small.
   * @returns How many bytes were queued.
   */
  stage(data: Uint8Array | string): number {
    // A string takes at most three bytes per UTF-16 unit.
    const most = typeof data === "string" ? data.length * 3 : data.length;
    let stage = this.#stage;
    if (stage === undefined || stage.length - this.#stageEnd < most) {
      let size = stage === undefined ? STAGE_MIN : Math.min(stage.length * 2, STAGE_MAX);
      while (size < most) size *= 2;
      this.#closeStagedView();
      stage = this.#stage = new Uint8Array(size);
      this.#stageStart = this.#stageEnd = 0;
    }
    const start = this.#stageEnd;
    let end = start;
    if (typeof data !== "string") {
      stage.set(data, end);
      end += data.length;
    } else if (data.length <= SHORT_STRING) {
      // Short strings, usually ASCII: a loop beats making a view for encodeInto.
      let i = 0;
      for (; i < data.length; i++) {
        const code = data.charCodeAt(i);
        if (code >= 0x80) break;
        stage[end++] = code;
      }
      if (i < data.length) {
        end += encoder.encodeInto(data.slice(i), stage.subarray(end)).written;
      }
    } else {
      end += encoder.encodeInto(data, stage.subarray(end)).written;
    }
    this.#stageEnd = end;
    if (!this.#stageOpen) {
      // A slot for the open view, filled in when it is taken.
      this.#chunks.push(EMPTY);
      this.#stageOpen = true;
    }
    return end - start;
  }

  /**
   * Takes the next chunk to write, joining queued chunks into one of up to
   * 128 KiB. The queue must not be empty.
   *
   * @returns The bytes, never written to again by the queue.
   */
  take(): Uint8Array {
    this.#fillStagedView();
    const chunks = this.#chunks;
    const start = this.#head;
    const first = chunks[start];
    let end = start + 1;
    let total = first.length;
    while (end < chunks.length && total + chunks[end].length <= COALESCE_LIMIT) {
      total += chunks[end].length;
      end++;
    }
    let chunk = first;
    if (end - start > 1) {
      chunk = new Uint8Array(total);
      let offset = 0;
      for (let i = start; i < end; i++) {
        chunk.set(chunks[i], offset);
        offset += chunks[i].length;
      }
    }
    if (end === chunks.length) {
      chunks.length = 0;
      this.#head = 0;
      // The open view went too: later staged bytes start a new one.
      this.#endStagedView();
    } else if (end > 1024 && end * 2 > chunks.length) {
      chunks.splice(0, end);
      this.#head = 0;
    } else {
      for (let i = start; i < end; i++) chunks[i] = EMPTY;
      this.#head = end;
    }
    return chunk;
  }

  /**
   * Takes every chunk waiting, as queued (for a connection being upgraded).
   *
   * @returns The chunks, in order.
   */
  takeAll(): Uint8Array[] {
    this.#fillStagedView();
    const rest = this.#chunks.slice(this.#head);
    this.#chunks = [];
    this.#head = 0;
    this.#endStagedView();
    return rest;
  }

  /** Lets the staging buffer go, once everything has been written. */
  release(): void {
    this.#stage = undefined;
    this.#stageOpen = false;
    this.#stageStart = this.#stageEnd = 0;
  }

  /** Forgets everything waiting. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.release();
  }

  /** Puts the open staged view, as it stands, into its slot. */
  #fillStagedView(): void {
    if (this.#stageOpen) {
      this.#chunks[this.#chunks.length - 1] = this.#stage!.subarray(
        this.#stageStart,
        this.#stageEnd,
      );
    }
  }

  /** Fills the open staged view's slot, then ends the view (see below). */
  #closeStagedView(): void {
    this.#fillStagedView();
    this.#endStagedView();
  }

  /** Ends the open staged view: what is staged next starts a new entry. */
  #endStagedView(): void {
    this.#stageOpen = false;
    this.#stageStart = this.#stageEnd;
  }
}
