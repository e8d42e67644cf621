/**
 * The progress bar `cli.ts get` draws on a terminal while a large body
 * arrives: {@linkcode formatProgress} makes one line (a pure function, so it
 * is tested on its own), {@linkcode ProgressBar} decides when to draw it,
 * redrawing in place with `\r`, at most every `interval` seconds.
 *
 * @module
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/**
 * A byte count for people: `512 B`, `1.5 KiB`, `12.3 MiB`, `1.02 GiB`
 * (three significant digits from KiB up).
 *
 * @param bytes A number of bytes, 0 or more.
 * @returns The text.
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  let digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  let text = value.toFixed(digits);
  // 9.999 rounds to "10.00": one digit fewer then.
  if (digits > 0 && Number(text) >= 10 ** (3 - digits)) text = value.toFixed(--digits);
  // 1023.9 KiB rounds to "1024 KiB": say "1.00 MiB" instead.
  if (text === "1024" && unit < UNITS.length - 1) return `1.00 ${UNITS[unit + 1]}`;
  return `${text} ${UNITS[unit]}`;
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 100 * 3600) return ">99h";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s % 3600 / 60)).padStart(2, "0")}m`;
}

/**
 * One line of progress: with a known `total`, the percentage, a bar, the
 * bytes received of the total, the average rate and the time left; without
 * it, the bytes received and the rate. Fields have fixed widths, so the
 * line does not jump as the numbers change, and it fits in `width - 1`
 * columns (so the cursor does not wrap): the bar takes what the rest
 * leaves, and is dropped below 10 columns, then the time left.
 *
 * @param received Bytes received so far.
 * @param total The body's length, when known.
 * @param elapsed Seconds since the body started.
 * @param width The terminal's width in columns (default 80).
 * @returns The line, without `\r` or a newline.
 *
 * @example
 * ```ts ignore
 * formatProgress(50 * 2 ** 20, 100 * 2 ** 20, 2, 80);
 * // " 50% [===========>            ] 50.0 MiB /  100 MiB   25.0 MiB/s  eta 2s"
 * ```
 */
export function formatProgress(
  received: number,
  total: number | undefined,
  elapsed: number,
  width = 80,
): string {
  const rate = elapsed > 0 ? received / elapsed : 0;
  const speed = `${formatBytes(Math.round(rate))}/s`.padStart(10);
  const room = width - 1;
  if (total === undefined) return `${formatBytes(received).padStart(8)}  ${speed}`.slice(0, room);
  const fraction = total === 0 ? 1 : Math.min(1, received / total);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const amounts = `${formatBytes(received).padStart(8)} / ${formatBytes(total).padStart(8)}`;
  const eta = received < total && rate > 0
    ? `eta ${formatDuration((total - received) / rate)}`.padEnd(10)
    : " ".repeat(10);
  const tail = `${amounts}  ${speed}  ${eta}`;
  // "NNN% [" + bar + "] " + tail
  const barWidth = room - percent.length - 4 - tail.length;
  if (barWidth < 10) {
    const short = `${percent} ${amounts}  ${speed}`;
    return (short.length + 2 + eta.trimEnd().length <= room ? `${short}  ${eta}` : short)
      .trimEnd().slice(0, room);
  }
  const filled = Math.floor(fraction * barWidth);
  const bar = filled >= barWidth
    ? "=".repeat(barWidth)
    : filled === 0
    ? " ".repeat(barWidth)
    : `${"=".repeat(filled - 1)}>${" ".repeat(barWidth - filled)}`;
  return `${percent} [${bar}] ${tail}`.trimEnd();
}

/** Options for {@linkcode ProgressBar}. */
export interface ProgressBarOptions {
  /** The body's length, when known. */
  total?: number;
  /** The current time in seconds (the reactor's clock, or a fake one in tests). */
  now: () => number;
  /** The terminal's width in columns (default 80). */
  width?: number;
  /** A body smaller than this gets no bar (default 1 MiB). */
  threshold?: number;
  /** The fewest seconds between two drawings (default 0.1). */
  interval?: number;
}

/**
 * Draws {@linkcode formatProgress} lines through `write`, each starting with
 * `\r` so it replaces the last, padded to cover a longer last line. Nothing
 * is drawn for a small body: one whose known length is under `threshold`,
 * or, of unknown length, until that many bytes have arrived.
 */
export class ProgressBar {
  readonly #write: (text: string) => void;
  readonly #options: Required<Omit<ProgressBarOptions, "total">> & { total?: number };
  readonly #start: number;
  #last = -Infinity;
  #length = 0;
  #shown = false;
  #received = 0;

  /**
   * Makes a bar; nothing is drawn yet.
   *
   * @param write Writes text to the terminal, as it is.
   * @param options The total, the clock, the width, the threshold and the interval.
   */
  constructor(write: (text: string) => void, options: ProgressBarOptions) {
    this.#write = write;
    this.#options = { width: 80, threshold: 2 ** 20, interval: 0.1, ...options };
    this.#start = options.now();
  }

  /** Whether anything has been drawn. */
  get shown(): boolean {
    return this.#shown;
  }

  /**
   * Notes that `bytes` more have arrived, and draws if it is time.
   *
   * @param bytes How many bytes arrived.
   */
  update(bytes: number): void {
    this.#received += bytes;
    const { total, threshold, interval, now } = this.#options;
    if (!this.#shown && (total !== undefined ? total < threshold : this.#received < threshold)) {
      return;
    }
    const time = now();
    if (time - this.#last < interval) return;
    this.#last = time;
    this.#draw(time);
  }

  /** Draws the last line and ends it, if a bar was drawn. */
  finish(): void {
    if (!this.#shown) return;
    this.#draw(this.#options.now());
    this.#write("\n");
  }

  /** Ends the line without redrawing, so that a message can follow, if a bar was drawn. */
  abandon(): void {
    if (this.#shown) this.#write("\n");
  }

  #draw(time: number): void {
    const { total, width } = this.#options;
    const line = formatProgress(this.#received, total, time - this.#start, width);
    this.#write(`\r${line.padEnd(this.#length)}`);
    this.#length = line.length;
    this.#shown = true;
  }
}
