// The chat under a crowd that never reads, over real sockets, served by the
// runner as users run it: memory per user stays bounded and a SIGTERM is
// handled within seconds.
import assert from "node:assert/strict";
import { within } from "../_helpers.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const USERS = 1000;
const LINES = 4000; // 500 bytes each: 2 MB offered to every user

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
}

async function readUntil(reader: ReadableStreamDefaultReader<string>, pattern: RegExp) {
  let text = "";
  for (;;) {
    const match = text.match(pattern);
    if (match) return match;
    const { value, done } = await reader.read();
    if (done) throw new Error(`Output ended before ${pattern}: ${text}`);
    text += value;
  }
}

Deno.test({
  name: "chat: 1,000 users who never read cost bounded memory, and SIGTERM still stops the server",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLI,
        "--log-level",
        "warn",
        "chat",
        "--listen",
        "tcp:0:interface=127.0.0.1",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const out = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const sleepers: Deno.Conn[] = [];
    let reader: Deno.Conn | undefined;
    try {
      const [, port] = await within(
        30,
        readUntil(out, /listening on (?:tcp )?127\.0\.0\.1:(\d+)/),
        "the port",
      );
      const connect = () => Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
      // One user who reads everything, to see the goodbye.
      reader = await connect();
      let tail = "";
      let goodbye = false;
      const allRelayed = Promise.withResolvers<void>();
      const reading = (async () => {
        const decoder = new TextDecoder();
        const buffer = new Uint8Array(64 * 1024);
        for (;;) {
          const n = await reader!.read(buffer).catch(() => null);
          if (n === null) return;
          tail += decoder.decode(buffer.subarray(0, n), { stream: true });
          const lines = tail.split("\r\n");
          tail = lines.pop()!;
          for (const line of lines) {
            // A burst can overflow even a reading user's queue, but the
            // newest lines are the ones kept: the last line always arrives.
            if (line.endsWith("LAST")) allRelayed.resolve();
            if (line === "* The server is shutting down. Goodbye!") goodbye = true;
          }
        }
      })();
      for (let i = 0; i < USERS; i++) sleepers.push(await connect());
      const talker = sleepers[0];
      const before = rssMiB(server.pid);
      const line = new TextEncoder().encode(`${"x".repeat(499)}\n`);
      const last = new TextEncoder().encode(`${"x".repeat(495)}LAST\n`);
      for (let i = 0; i < LINES; i++) {
        const bytes = i === LINES - 1 ? last : line;
        for (let done = 0; done < bytes.length;) done += await talker.write(bytes.subarray(done));
      }
      // The reader has the last line once the server has relayed (or, for
      // the others, held or dropped) everything it was given.
      await within(120, allRelayed.promise, "the last line relayed to the reader");
      const grown = rssMiB(server.pid) - before;
      // Queued in full, 2 MB per user less what the kernel holds takes
      // gigabytes; bounded, a user costs tens of KiB.
      assert.ok(grown / USERS < 0.25, `RSS grew by ${grown.toFixed(0)} MiB for ${USERS} users`);
      const started = performance.now();
      server.kill("SIGTERM");
      const status = await within(15, server.status, "the server to stop after SIGTERM");
      const seconds = (performance.now() - started) / 1000;
      assert.equal(status.code, 0);
      assert.ok(seconds < 10, `SIGTERM took ${seconds.toFixed(1)} s`);
      await within(10, reading, "the reader's end of stream");
      assert.ok(goodbye, "the reading user got the goodbye");
    } finally {
      for (const conn of sleepers) conn.close();
      reader?.close();
      try {
        server.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await server.status;
      await out.cancel();
    }
  },
});
