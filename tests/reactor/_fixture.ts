/**
 * Runs a script of `fixtures/` in a child Deno process, for what cannot be
 * tested in the test process: the process-wide reactor's one lifecycle,
 * signals and exit codes. Every wait is bounded: on timeout the child is
 * killed and the wait throws.
 */
export class Fixture {
  readonly #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  #changed: () => void = () => {};
  readonly #done: Promise<[void, void]>;

  /** How long any wait may take, in milliseconds. */
  static readonly TIMEOUT = 10_000;

  constructor(script: string, args: string[] = []) {
    const path = new URL(`./fixtures/${script}`, import.meta.url).pathname;
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", path, ...args],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#done = Promise.all([
      this.#pump(this.#child.stdout, (s) => (this.#stdout += s)),
      this.#pump(this.#child.stderr, (s) => (this.#stderr += s)),
    ]);
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  async #pump(stream: ReadableStream<Uint8Array>, add: (s: string) => void): Promise<void> {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      add(chunk);
      this.#changed();
    }
  }

  /** Sends a signal to the child. */
  kill(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Waits until the child's stdout contains `text`. */
  async waitFor(text: string): Promise<void> {
    await this.#bounded(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.#stdout.includes(text)) resolve();
        };
        this.#changed = check;
        check();
      }),
      `${JSON.stringify(text)} on stdout`,
    );
    this.#changed = () => {};
  }

  /** Waits for the child to exit; returns its code and output. */
  async finished(): Promise<{ code: number; stdout: string; stderr: string }> {
    const status = await this.#bounded(this.#child.status, "the child to exit");
    await this.#done;
    return { code: status.code, stdout: this.#stdout, stderr: this.#stderr };
  }

  async #bounded<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        try {
          this.#child.kill("SIGKILL");
        } catch { /* already gone */ }
        reject(
          new Error(
            `Timed out after ${Fixture.TIMEOUT} ms waiting for ${what}\n` +
              `stdout:\n${this.#stdout}\nstderr:\n${this.#stderr}`,
          ),
        );
      }, Fixture.TIMEOUT);
    });
    try {
      return await Promise.race([promise, timeout]);
    } catch (error) {
      await this.#child.status;
      await this.#done;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs a fixture to its end. */
export function runFixture(
  script: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Fixture(script, args).finished();
}
