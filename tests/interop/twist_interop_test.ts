// The README's Twisted → torsion row for the runner, checked against
// Twisted 22.4's own `twist`: the plugin and options it names exist, and the
// two commands do the same job (forward to an echo server).
//
// A missing Twisted is a failure, never a skip.
import assert from "node:assert/strict";
import { main } from "../../cli.ts";
import { Factory } from "../../protocols/factory.ts";
import { Echo } from "../../protocols/wire.ts";
import { DenoReactor } from "../../reactor/deno_reactor.ts";
import { setLogSink } from "../../reactor/log.ts";
import { listenTCP } from "../../reactor/tcp.ts";
import { within } from "../_helpers.ts";

const PYTHON = "/usr/bin/python3";
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const README = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
const ROW =
  /^\| `twist ([a-z-]+)((?: --[a-z_]+ [^ `]+)*)` +\| `(?:deno run -A )?cli\.ts ([^`]+)` +\|$/m.exec(
    README,
  );

async function twist(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(PYTHON, {
    args: ["-m", "twisted", ...args],
    stdin: "null",
  }).output().catch((error) => {
    throw new Error(`python3-twisted is not installed: apt-get install -y python3-twisted`, {
      cause: error,
    });
  });
  assert.equal(code, 0, decoder.decode(stderr));
  return decoder.decode(stdout);
}

Deno.test("README: the twist row names a plugin and options that Twisted 22.4 has", async () => {
  assert.ok(ROW !== null, "no `twist ...` row in the README's Twisted → torsion table");
  const [, plugin, options] = ROW;
  assert.match(await twist(["--help"]), new RegExp(`^ {4}${plugin} `, "m"));
  const help = await twist([plugin, "--help"]);
  for (const [, name] of options.matchAll(/--([a-z_]+) /g)) {
    assert.match(help, new RegExp(`--${name}=`), `twist ${plugin} has no --${name}`);
  }
});

/** Sends a line through `port` and returns what comes back. */
async function roundTrip(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode("through the forwarder\n"));
    const buffer = new Uint8Array(64);
    let text = "";
    while (!text.endsWith("\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("README: twist portforward and cli.ts portforward do the same job", async () => {
  assert.ok(ROW !== null);
  const echo = listenTCP(0, Factory.forProtocol(Echo), { interface: "127.0.0.1" });
  const echoPort = echo.getHost().port;
  try {
    // Twisted, with the row's options pointed at the echo server.
    const child = new Deno.Command(PYTHON, {
      args: [
        "-m",
        "twisted",
        "--log-format",
        "text",
        "portforward",
        "--port",
        "tcp:0:interface=127.0.0.1",
        "--host",
        "127.0.0.1",
        "--dest_port",
        String(echoPort),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      let log = "";
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const twistedPort = await within(
        30,
        (async () => {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`twist ended: ${log}`);
            log += value;
            const found = /ProxyFactory starting on (\d+)/.exec(log);
            if (found !== null) return Number(found[1]);
          }
        })(),
        "twist portforward to listen",
      );
      assert.equal(await within(10, roundTrip(twistedPort), "twist"), "through the forwarder\n");
      child.kill("SIGTERM");
      await reader.cancel();
    } finally {
      await child.status;
    }

    // torsion, with the row's command pointed at the same server.
    const args = ROW[3].replace("tcp:8080", "tcp:0:interface=127.0.0.1")
      .replace("tcp:H:P", `tcp:127.0.0.1:${echoPort}`).split(" ");
    const reactor = new DenoReactor();
    const sink = setLogSink(() => {});
    let out = "";
    const listening = Promise.withResolvers<number>();
    const code = main(args, {
      reactor,
      io: {
        stdout(text) {
          out += typeof text === "string" ? text : decoder.decode(text);
          const found = /portforward listening on tcp 127\.0\.0\.1:(\d+)/.exec(out);
          if (found !== null) listening.resolve(Number(found[1]));
        },
        stderr() {},
      },
    });
    const torsionPort = await within(10, listening.promise, "cli.ts portforward to listen");
    assert.equal(await within(10, roundTrip(torsionPort), "torsion"), "through the forwarder\n");
    reactor.stop();
    assert.equal(await code, 0);
    setLogSink(sink);
  } finally {
    await echo.stopListening();
  }
});
