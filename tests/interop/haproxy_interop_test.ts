// torsion behind a real HAProxy (Debian's `haproxy`): two runner processes
// (`cli.ts run haproxy_backend.ts`) listen on `haproxy:tcp:` endpoints, one
// HAProxy frontend sends them
// PROXY protocol v2 headers and health-checks them. Clients connect from
// 127.0.0.2 and must be reported with their own address and port; the
// connections must reach both backends; once one backend is killed, every
// new connection must still be served.
//
// A missing HAProxy is a failure, never a skip.
import assert from "node:assert/strict";
import { freePort, within } from "../_helpers.ts";

// Debian's path first: /usr/sbin is not on every user's PATH.
const HAPROXY = (() => {
  try {
    Deno.statSync("/usr/sbin/haproxy");
    return "/usr/sbin/haproxy";
  } catch {
    return "haproxy";
  }
})();
const PYTHON = "/usr/bin/python3";
const HAPROXY_MISSING = "haproxy is not installed: apt-get install -y haproxy";
const TEST_TIMEOUT_S = 60;
const here = new URL(".", import.meta.url).pathname;
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** A child process whose stdout is collected, with a wait for a pattern in it. */
class Child {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  #changed: () => void = () => {};
  readonly #done: Promise<unknown>;

  constructor(command: string, args: string[]) {
    try {
      this.child = new Deno.Command(command, {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && command === HAPROXY) {
        throw new Error(HAPROXY_MISSING);
      }
      throw error;
    }
    this.#done = Promise.all([
      this.#pump(this.child.stdout, (s) => (this.stdout += s)),
      this.#pump(this.child.stderr, (s) => (this.stderr += s)),
      this.child.status,
    ]);
  }

  async #pump(stream: ReadableStream<Uint8Array>, add: (s: string) => void): Promise<void> {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      add(chunk);
      this.#changed();
    }
  }

  /** Waits until stdout (or stderr) matches `pattern`; gives the match. */
  waitFor(
    pattern: RegExp,
    what: string,
    stream: "stdout" | "stderr" = "stdout",
  ): Promise<RegExpExecArray> {
    const found = new Promise<RegExpExecArray>((resolve) => {
      const check = (): void => {
        const match = pattern.exec(this[stream]);
        if (match !== null) resolve(match);
      };
      this.#changed = check;
      check();
    });
    return within(10, found, what);
  }

  /** Kills the process (if still running) and waits for it and its output. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
    await within(10, this.#done, "a child process to end");
  }
}

/** The HAProxy configuration the README shows, with this test's ports and paths. */
function config(frontend: number, backends: number[], statsSocket: string): string {
  return `global
    stats socket ${statsSocket} mode 600 level admin

defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch

frontend app
    bind 127.0.0.1:${frontend}
    default_backend torsion

backend torsion
    balance roundrobin
    # A check passes once the backend answers: its LOCAL header was accepted.
    option tcp-check
    tcp-check expect rstring ^peer
    default-server send-proxy-v2 check inter 300ms fall 2 rise 1
${backends.map((port, i) => `    server app${i + 1} 127.0.0.1:${port}`).join("\n")}
`;
}

/** One request to HAProxy's stats socket. */
async function stats(path: string, command: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(new TextEncoder().encode(`${command}\n`));
    return await new Response(conn.readable).text();
  } catch (error) {
    conn.close();
    throw error;
  }
}

/** Each server's status (`UP`, `DOWN`, ...) from `show stat`. */
async function serverStatus(path: string): Promise<Map<string, string>> {
  const csv = (await stats(path, "show stat")).trim().split("\n");
  const columns = csv[0].replace(/^# /, "").split(",");
  const name = columns.indexOf("svname");
  const status = columns.indexOf("status");
  const out = new Map<string, string>();
  for (const line of csv.slice(1)) {
    const fields = line.split(",");
    if (fields[0] === "torsion" && fields[name].startsWith("app")) {
      out.set(fields[name], fields[status]);
    }
  }
  return out;
}

/** `count` connections from 127.0.0.2, one after the other: each one's local port and reply. */
async function connectFrom127002(
  port: number,
  count: number,
): Promise<Array<{ port: number; reply: string }>> {
  const output = await new Deno.Command(PYTHON, {
    args: [`${here}haproxy_client.py`, "127.0.0.1", String(port), "127.0.0.2", String(count)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `the client failed: ${stderr}`);
  return new TextDecoder().decode(output.stdout).trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test({
  name: "HAProxy with send-proxy-v2 and health checks in front of two haproxy:tcp: backends",
  // The children's pipes are closed when they are stopped.
  sanitizeResources: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "torsion-haproxy-" });
    const children: Child[] = [];
    let guard: ReturnType<typeof setTimeout> | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        guard = setTimeout(
          () => reject(new Error(`The test took over ${TEST_TIMEOUT_S} seconds`)),
          TEST_TIMEOUT_S * 1000,
        );
      });
      await Promise.race([timedOut, run(dir, children)]);
    } finally {
      clearTimeout(guard);
      for (const child of children) await child.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function run(dir: string, children: Child[]): Promise<void> {
  const backends: Child[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 2; i++) {
    const backend = new Child(Deno.execPath(), [
      "run",
      "-A",
      CLI,
      "run",
      `${here}haproxy_backend.ts`,
      "--listen",
      "haproxy:tcp:0:interface=127.0.0.1",
    ]);
    children.push(backend);
    backends.push(backend);
    const listening = /haproxy_backend listening on tcp 127\.0\.0\.1:(\d+)/;
    ports.push(Number((await backend.waitFor(listening, "a backend to listen"))[1]));
  }
  const pids = backends.map((b) => b.child.pid);

  const statsSocket = `${dir}/admin.sock`;
  const frontend = freePort();
  const cfg = `${dir}/haproxy.cfg`;
  await Deno.writeTextFile(cfg, config(frontend, ports, statsSocket));
  const haproxy = new Child(HAPROXY, ["-db", "-f", cfg]);
  children.push(haproxy);

  // Both servers go UP only if their PROXY v2 health checks are accepted.
  await within(
    15,
    (async () => {
      for (;;) {
        try {
          const status = await serverStatus(statsSocket);
          if (status.get("app1") === "UP" && status.get("app2") === "UP") return;
        } catch {
          // The stats socket is not there yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })(),
    `both servers UP (haproxy said: ${haproxy.stderr})`,
  );
  for (const backend of backends) {
    await backend.waitFor(
      /haproxy_backend: connection (LOCAL|PROXY) from 127\.0\.0\.1:\d+/,
      "a health check",
      "stderr",
    );
  }

  // Clients from 127.0.0.2 are seen with their own address and port, on both backends.
  const first = await connectFrom127002(frontend, 6);
  const served = new Set<number>();
  for (const { port, reply } of first) {
    const match = /^peer 127\.0\.0\.2:(\d+) pid (\d+)\n$/.exec(reply);
    assert.ok(match !== null, `reply ${JSON.stringify(reply)}`);
    assert.equal(Number(match[1]), port, "the client's own port");
    served.add(Number(match[2]));
  }
  assert.deepEqual([...served].sort(), [...pids].sort(), "both backends served");

  // One backend dies: every new connection is still served, by the other.
  await backends[0].stop("SIGKILL");
  const after = await connectFrom127002(frontend, 6);
  assert.equal(after.length, 6);
  for (const { port, reply } of after) {
    assert.equal(reply, `peer 127.0.0.2:${port} pid ${pids[1]}\n`);
  }
  await within(
    10,
    (async () => {
      while ((await serverStatus(statsSocket)).get("app1") === "UP") {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })(),
    "HAProxy to mark the dead backend down",
  );

  // The runner left stops gracefully on SIGTERM, as a service manager stops it.
  await backends[1].stop();
  const status = await backends[1].child.status;
  assert.equal(status.code, 0, backends[1].stderr);
  assert.match(backends[1].stderr, /runner: stopped/);
}
