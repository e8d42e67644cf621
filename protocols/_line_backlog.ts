/**
 * Bounded output for a peer that may stop reading. A server that relays
 * what one user says to everyone cannot wait for its slowest reader, and
 * must not queue without end for someone who never reads: this push producer
 * is registered with the peer's transport, which pauses it once its own
 * queue is full. While paused, lines wait in a backlog of bounded size; when
 * the backlog overflows, its oldest lines are dropped and counted, and once
 * the transport has drained and resumes the producer the peer is told how
 * many were lost before the newest lines are sent.
 *
 * @module
 */
import type { PushProducer } from "../reactor/interfaces.ts";

/**
 * Lines for one peer, sent at once while its transport keeps up and held
 * (up to a limit, dropping the oldest) while it does not.
 */
export class _LineBacklog implements PushProducer {
  readonly #limit: number;
  readonly #send: (line: string) => void;
  readonly #notice: (dropped: number) => string;
  #paused = false;
  #stopped = false;
  #lines: string[] = [];
  #head = 0;
  #size = 0; // UTF-16 units held, a close enough measure of bytes
  #dropped = 0;

  /**
   * @param limit Roughly how many bytes of lines to hold while paused.
   * @param send Sends one line to the peer now.
   * @param notice The line that tells the peer how many lines it missed.
   */
  constructor(limit: number, send: (line: string) => void, notice: (dropped: number) => string) {
    this.#limit = limit;
    this.#send = send;
    this.#notice = notice;
  }

  /** Lines dropped and not yet reported to the peer. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Characters held while paused. */
  get held(): number {
    return this.#size;
  }

  /**
   * Sends `line` now, or holds it while the transport is paused.
   *
   * @param line The line.
   */
  offer(line: string): void {
    if (this.#stopped) return;
    if (!this.#paused && this.#head === this.#lines.length) {
      this.#send(line);
      return;
    }
    this.#lines.push(line);
    this.#size += line.length;
    while (this.#size > this.#limit && this.#head < this.#lines.length - 1) {
      this.#size -= this.#lines[this.#head].length;
      this.#lines[this.#head++] = "";
      this.#dropped++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#lines.length) {
      this.#lines = this.#lines.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The transport's queue is full: hold lines from now on. */
  pauseProducing(): void {
    this.#paused = true;
  }

  /** The transport has drained: report what was dropped, then send what is held. */
  resumeProducing(): void {
    if (this.#stopped) return;
    this.#paused = false;
    if (this.#dropped > 0) {
      const dropped = this.#dropped;
      this.#dropped = 0;
      this.#send(this.#notice(dropped));
    }
    while (!this.#paused && this.#head < this.#lines.length) {
      const line = this.#lines[this.#head];
      this.#lines[this.#head++] = "";
      this.#size -= line.length;
      this.#send(line);
    }
    if (this.#head === this.#lines.length) {
      this.#lines = [];
      this.#head = 0;
    }
  }

  /** The connection is gone: forget what is held. */
  stopProducing(): void {
    this.#stopped = true;
    this.#lines = [];
    this.#head = 0;
    this.#size = 0;
  }
}
