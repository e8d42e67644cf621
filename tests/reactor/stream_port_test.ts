import assert from "node:assert/strict";
import { Clock } from "../../reactor/clock.ts";
import { type LogEvent, setLogLevel, setLogSink } from "../../reactor/log.ts";
import { _isPerConnectionError, StreamPort } from "../../reactor/stream_port.ts";
import { listenTCP } from "../../reactor/tcp.ts";
import type { ProtocolLike, Transport } from "../../reactor/interfaces.ts";
import { within } from "../_helpers.ts";

function echoFactory() {
  return {
    buildProtocol(): ProtocolLike {
      let transport: Transport;
      return {
        makeConnection(t: Transport) {
          transport = t;
        },
        dataReceived(data: Uint8Array) {
          transport.write(data);
        },
        connectionLost() {},
      } as unknown as ProtocolLike;
    },
    doStart() {},
    doStop() {},
  };
}

/** Captures what is logged at `level` and above while `fn` runs. */
async function capturingLog<T>(fn: (events: LogEvent[]) => Promise<T>): Promise<T> {
  const events: LogEvent[] = [];
  const sink = setLogSink((_text, event) => events.push(event));
  const level = setLogLevel("debug");
  try {
    return await fn(events);
  } finally {
    setLogSink(sink);
    setLogLevel(level);
  }
}

Deno.test("accept errors are sorted into one connection's problem and the listener's", () => {
  assert.equal(_isPerConnectionError(new Deno.errors.NotConnected("gone")), true);
  assert.equal(_isPerConnectionError(new Deno.errors.ConnectionReset("reset")), true);
  assert.equal(_isPerConnectionError(new Deno.errors.ConnectionAborted("aborted")), true);
  const emfile = Object.assign(new Error("Too many open files (os error 24)"), { code: "EMFILE" });
  assert.equal(_isPerConnectionError(emfile), false);
  assert.equal(_isPerConnectionError("odd"), false);
});

/** A listener whose accepts fail with the errors given, then wait until closed. */
function failingListener(errors: unknown[]): Deno.Listener & { accepts: number } {
  let closed = Promise.withResolvers<never>();
  const listener = {
    accepts: 0,
    addr: { transport: "tcp", hostname: "127.0.0.1", port: 9 } as Deno.NetAddr,
    accept(): Promise<Deno.Conn> {
      listener.accepts++;
      const error = errors.shift();
      return error === undefined ? closed.promise : Promise.reject(error);
    },
    close() {
      closed.reject(new Deno.errors.BadResource("closed"));
      closed = Promise.withResolvers<never>();
      closed.promise.catch(() => {});
    },
  };
  closed.promise.catch(() => {});
  return listener as unknown as Deno.Listener & { accepts: number };
}

Deno.test("a connection reset before accept is logged at debug level and the next accept follows at once", async () => {
  await capturingLog(async (events) => {
    const clock = new Clock();
    const listener = failingListener([
      new Deno.errors.NotConnected("Transport endpoint is not connected (os error 107)"),
      new Deno.errors.ConnectionReset("reset"),
    ]);
    const port = new StreamPort(listener, echoFactory(), clock);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(listener.accepts, 3, "accepted again without waiting on the clock");
    assert.deepEqual(events.map((e) => e.level), ["debug", "debug"]);
    await port.stopListening();
  });
});

Deno.test("running out of descriptors pauses 100 ms per failure and warns once per 10 seconds", async () => {
  await capturingLog(async (events) => {
    const clock = new Clock();
    const emfile = () =>
      Object.assign(new Error("Too many open files (os error 24)"), { code: "EMFILE" });
    const listener = failingListener([emfile(), emfile(), emfile()]);
    const port = new StreamPort(listener, echoFactory(), clock);
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
    await settle();
    assert.equal(listener.accepts, 1, "waits on the clock before the next accept");
    clock.advance(0.1);
    await settle();
    clock.advance(0.1);
    await settle();
    assert.equal(listener.accepts, 3);
    assert.equal(
      events.filter((e) => e.level === "warn").length,
      1,
      "one warning for three failures",
    );
    assert.match(events[0].message, /could not accept a connection, pausing 100 ms: Too many open/);
    clock.advance(10);
    await settle();
    assert.equal(listener.accepts, 4);
    assert.equal(events.length, 1, "the fourth accept waits for a connection and logs nothing");
    await port.stopListening();
  });
});

Deno.test("a client that loops connect-then-reset does not stall the port for others", async () => {
  await capturingLog(async (events) => {
    const port = listenTCP(0, echoFactory(), { interface: "127.0.0.1", backlog: 128 });
    const portNumber = port.getHost().port;
    // Node's net can reset a connection (SO_LINGER 0); Deno cannot.
    const flood = new Deno.Command("node", {
      args: [
        "-e",
        `const net = require("net"); let left = 2000;
         function next() {
           if (left-- <= 0) return;
           const s = net.connect(${portNumber}, "127.0.0.1", () => { s.resetAndDestroy(); next(); });
           s.on("error", () => next());
         }
         for (let i = 0; i < 4; i++) next();`,
      ],
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    try {
      let slowest = 0;
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: portNumber });
        try {
          await conn.write(new Uint8Array([i]));
          const buffer = new Uint8Array(1);
          assert.equal(await within(5, conn.read(buffer), "the echo"), 1);
          assert.equal(buffer[0], i);
        } finally {
          conn.close();
        }
        slowest = Math.max(slowest, performance.now() - started);
      }
      assert.equal((await flood.status).code, 0);
      // A stalled loop pauses 100 ms per reset and warns; an ordinary client
      // then waits seconds. The bound is loose: it only tells the two apart.
      assert.ok(slowest < 1000, `an ordinary client waited ${slowest.toFixed(0)} ms`);
      const loud = events.filter((e) => e.level !== "debug");
      assert.deepEqual(loud.map((e) => e.message), []);
    } finally {
      await port.stopListening();
    }
  });
});
