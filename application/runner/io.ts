// Where the runner writes: its own output, its errors and progress on a terminal.

/** Where the runner writes: its own output and its errors. */
export interface RunnerIO {
  /** Normal output: listening addresses, fetched pages. */
  stdout(text: string | Uint8Array): void;
  /** Errors and usage. */
  stderr(text: string): void;
  /**
   * Draws progress in place (text with `\r`, no newline) on a terminal;
   * leave it out where there is none, and `get` draws no progress bar.
   */
  progress?(text: string): void;
}

/** The process's standard output and error. */
export const _defaultIO: RunnerIO = {
  stdout(text) {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
  },
  stderr(text) {
    console.error(text);
  },
  progress: Deno.stderr.isTerminal()
    ? (text) => {
      const bytes = new TextEncoder().encode(text);
      for (let done = 0; done < bytes.length;) done += Deno.stderr.writeSync(bytes.subarray(done));
    }
    : undefined,
};

/** The terminal's width in columns, or 80 where there is no terminal or it has no size. */
export function _terminalWidth(): number {
  try {
    // A terminal that does not know its size says 0.
    const { columns } = Deno.consoleSize();
    return columns > 0 ? columns : 80;
  } catch {
    return 80;
  }
}
