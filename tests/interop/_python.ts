// A Python child for the interop tests, with a time limit, and the check that
// /usr/bin/python3 has Twisted (a missing Twisted fails, never skips).

const PYTHON = "/usr/bin/python3";
const TWISTED_MISSING = "python3-twisted is not installed: apt-get install -y python3-twisted";
const encoder = new TextEncoder();

/** A Python child with a time limit: it is killed if it outlives `timeoutMs`. */
export class Python {
  readonly child: Deno.ChildProcess;
  readonly stderr: Promise<string>;
  readonly status: Promise<Deno.CommandStatus>;
  #stdout: ReadableStreamDefaultReader<string>;
  #text = "";
  #timer: ReturnType<typeof setTimeout>;
  #timedOut = false;

  constructor(args: string[], stdin: string | null, cwd: string, timeoutMs = 90_000) {
    const controller = new AbortController();
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      this.child = new Deno.Command(PYTHON, {
        args,
        cwd,
        stdin: stdin === null ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
        signal: controller.signal,
      }).spawn();
    } catch (error) {
      clearTimeout(this.#timer);
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(`${TWISTED_MISSING} (${PYTHON} was not found)`);
      }
      throw error;
    }
    if (stdin !== null) {
      const writer = this.child.stdin.getWriter();
      writer.write(encoder.encode(stdin)).then(() => writer.close()).catch(() => {});
    }
    this.#stdout = this.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.stderr = new Response(this.child.stderr).text();
    this.status = this.child.status.finally(() => clearTimeout(this.#timer));
  }

  /** Kills the process unless it has already exited, and waits for it. */
  async close(): Promise<void> {
    try {
      this.child.kill();
    } catch {
      // It has already exited.
    }
    await this.status;
    await this.stderr;
    await this.#stdout.cancel().catch(() => {});
  }

  /** The next line of standard output. */
  async readLine(): Promise<string> {
    while (!this.#text.includes("\n")) {
      const { value, done } = await this.#stdout.read();
      if (done) throw new Error(`The Python peer ended early:\n${await this.stderr}`);
      this.#text += value;
    }
    const at = this.#text.indexOf("\n");
    const line = this.#text.slice(0, at);
    this.#text = this.#text.slice(at + 1);
    return line;
  }

  /** The rest of standard output, once the process has exited successfully. */
  async finish(): Promise<string> {
    for (;;) {
      const { value, done } = await this.#stdout.read();
      if (done) break;
      this.#text += value;
    }
    const status = await this.status;
    const stderr = await this.stderr;
    if (this.#timedOut) throw new Error(`The Python peer timed out:\n${stderr}`);
    if (!status.success) throw new Error(`The Python peer failed (${status.code}):\n${stderr}`);
    return this.#text;
  }
}

let twistedChecked: Promise<void> | null = null;

/** Fails (never skips) when Twisted cannot be imported by /usr/bin/python3. */
export function requireTwisted(): Promise<void> {
  twistedChecked ??= (async () => {
    const python = new Python(["-c", "import twisted.protocols.amp"], null, "/", 30_000);
    try {
      await python.finish();
    } catch (error) {
      throw new Error(`${TWISTED_MISSING}\n${(error as Error).message}`);
    }
  })();
  return twistedChecked;
}
