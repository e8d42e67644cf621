// A runner subprocess and a TCP client, for the tests that run cli.ts as
// users run it: `deno run -A cli.ts ...` (or `deno task start`, in a process
// group of its own), talked to over sockets, stopped with signals.
export const CLI: string = new URL("../cli.ts", import.meta.url).pathname;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A runner subprocess, killed if it outlives the test's time limit. */
export class Runner {
  readonly child: Deno.ChildProcess;
  readonly stderr: Promise<string>;
  #stdout: ReadableStreamDefaultReader<Uint8Array>;
  #text = "";
  #timer: ReturnType<typeof setTimeout>;

  /**
   * With `task`, runs `deno task start ARGS` instead, as the README says,
   * in a session and process group of its own, which `interrupt()` signals
   * as a whole, as a terminal does on Ctrl-C.
   */
  constructor(args: string[], timeoutMs = 30_000, readonly task = false) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: task ? ["task", "start", ...args] : ["run", "--allow-all", CLI, ...args],
      cwd: new URL("..", import.meta.url).pathname,
      detached: task,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    this.#stdout = this.child.stdout.getReader();
    this.stderr = new Response(this.child.stderr).text();
  }

  /** Reads standard output until `pattern` matches; returns the match. */
  async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    for (;;) {
      const match = this.#text.match(pattern);
      if (match !== null) return match;
      const { value, done } = await this.#stdout.read();
      if (done) {
        throw new Error(`The runner ended before printing ${pattern}:\n${this.#text}\n${await this
          .stderr}`);
      }
      this.#text += decoder.decode(value, { stream: true });
    }
  }

  /** The port it printed for `name`. */
  async port(name: string): Promise<number> {
    const match = await this.waitFor(new RegExp(`${name} listening on tcp 127\\.0\\.0\\.1:(\\d+)`));
    return Number(match[1]);
  }

  /** Everything on standard output, once it has exited. */
  async output(): Promise<string> {
    for (;;) {
      const { value, done } = await this.#stdout.read();
      if (done) break;
      this.#text += decoder.decode(value, { stream: true });
    }
    return this.#text;
  }

  /** Waits for the exit; returns the code and standard error. */
  async finish(): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = await this.output();
    const status = await this.child.status;
    clearTimeout(this.#timer);
    return { code: status.code, stdout, stderr: await this.stderr };
  }

  /** Sends SIGINT (to the process group, for a task) and waits for the exit. */
  interrupt(): Promise<{ code: number; stdout: string; stderr: string }> {
    this.signal("SIGINT");
    return this.finish();
  }

  /** Sends `signal` to the runner, or to its whole process group for a task. */
  signal(signal: Deno.Signal): void {
    try {
      if (this.task) Deno.kill(-this.child.pid, signal);
      else this.child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** A client connection that collects what it reads. */
export class Client {
  #text = "";
  #done = false;
  readonly closed: Promise<void>;

  constructor(readonly conn: Deno.TcpConn) {
    this.closed = (async () => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          const n = await conn.read(buffer);
          if (n === null) break;
          this.#text += decoder.decode(buffer.subarray(0, n));
        }
      } catch {
        // reset: the test looks at what arrived
      } finally {
        this.#done = true;
        try {
          conn.close();
        } catch {
          // closed by close()
        }
      }
    })();
  }

  static async open(port: number): Promise<Client> {
    return new Client(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  get text(): string {
    return this.#text;
  }

  async send(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    for (let done = 0; done < bytes.length;) done += await this.conn.write(bytes.subarray(done));
  }

  async waitFor(needle: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#text.includes(needle)) {
      if (this.#done) throw new Error(`Closed before ${JSON.stringify(needle)}: ${this.#text}`);
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${needle}: ${this.#text}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // already closed by the reader
    }
    await this.closed;
  }
}
