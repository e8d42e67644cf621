// Where the runner writes: its own output and its errors.

/** Where the runner writes: its own output and its errors. */
export interface RunnerIO {
  /** Normal output: listening addresses, fetched pages. */
  stdout(text: string | Uint8Array): void;
  /** Errors and usage. */
  stderr(text: string): void;
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
};
