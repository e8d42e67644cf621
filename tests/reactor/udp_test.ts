import assert from "node:assert/strict";
import { DatagramProtocol } from "../../protocols/datagram_protocol.ts";
import { CannotListenError } from "../../reactor/connection_errors.ts";
import type { IPAddress } from "../../reactor/interfaces.ts";
import { type DatagramProtocolLike, listenUDP, type UDPPort } from "../../reactor/udp.ts";
import { within as withinSeconds } from "../_helpers.ts";

const decoder = new TextDecoder();
const LOOPBACK = { interface: "127.0.0.1" };

/** The shared time limit, with this file's argument order and default. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 5000): Promise<T> {
  return withinSeconds(ms / 1000, promise, what);
}

/** Records datagrams; `next(n)` waits until `n` have arrived. */
class Recorder implements DatagramProtocolLike {
  transport: UDPPort | null = null;
  received: Array<[string, IPAddress]> = [];
  #waiters: Array<[number, () => void]> = [];

  makeConnection(transport: UDPPort): void {
    this.transport = transport;
  }

  datagramReceived(data: Uint8Array, addr: IPAddress): void {
    this.received.push([decoder.decode(data), addr]);
    this.#waiters = this.#waiters.filter(([n, wake]) => {
      if (this.received.length < n) return true;
      wake();
      return false;
    });
  }

  next(n: number): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return within(
      `waiting for ${n} datagrams`,
      new Promise((wake) => this.#waiters.push([n, wake])),
    );
  }
}

/** Echoes every datagram back to its sender. */
class Echo extends Recorder {
  override datagramReceived(data: Uint8Array, addr: IPAddress): void {
    this.transport!.write(data, addr);
    super.datagramReceived(data, addr);
  }
}

/** Runs `fn` with ports that are all stopped afterwards, whatever happens. */
async function withPorts(fn: (open: typeof listenUDP) => Promise<void>): Promise<void> {
  const opened: UDPPort[] = [];
  const open: typeof listenUDP = (port, protocol, options) => {
    const udp = listenUDP(port, protocol, options);
    opened.push(udp);
    return udp;
  };
  try {
    await fn(open);
  } finally {
    for (const udp of opened) await within("stopListening()", udp.stopListening());
  }
}

Deno.test("listenUDP() binds at once and reports the real port", async () => {
  await withPorts(async (open) => {
    const port = open(0, new Recorder(), LOOPBACK);
    const host = port.getHost();
    assert.equal(host.type, "UDP");
    assert.equal(host.host, "127.0.0.1");
    assert.ok(host.port > 0);
    assert.equal(port.maxPacketSize, 8192);
    await Promise.resolve();
  });
});

Deno.test("listenUDP() echoes datagrams between two ports", async () => {
  await withPorts(async (open) => {
    const server = new Echo();
    const client = new Recorder();
    const serverPort = open(0, server, LOOPBACK);
    const clientPort = open(0, client, LOOPBACK);
    clientPort.write("hello", serverPort.getHost());
    clientPort.write(new TextEncoder().encode("world"), serverPort.getHost());
    await client.next(2);
    assert.deepEqual(client.received.map(([text]) => text), ["hello", "world"]);
    assert.deepEqual(client.received[0][1], serverPort.getHost());
    assert.deepEqual(server.received[0][1], clientPort.getHost());
  });
});

Deno.test("listenUDP() delivers each datagram whole, as its own Uint8Array", async () => {
  await withPorts(async (open) => {
    const chunks: Uint8Array[] = [];
    let wake = () => {};
    const all = new Promise<void>((resolve) => (wake = resolve));
    const receiver = open(0, {
      makeConnection() {},
      datagramReceived(data: Uint8Array) {
        chunks.push(data);
        if (chunks.length === 3) wake();
      },
    }, LOOPBACK);
    const sender = open(0, new Recorder(), LOOPBACK);
    for (const size of [1, 1000, 5000]) {
      sender.write(new Uint8Array(size).fill(size % 251), receiver.getHost());
    }
    await within("three datagrams", all);
    assert.deepEqual(chunks.map((c) => c.length), [1, 1000, 5000]);
    assert.ok(chunks.every((c, i) => c.every((b) => b === [1, 1000, 5000][i] % 251)));
    assert.notEqual(chunks[0].buffer, chunks[1].buffer);
  });
});

Deno.test("listenUDP() cuts datagrams longer than maxPacketSize", async () => {
  await withPorts(async (open) => {
    const receiver = new Recorder();
    const port = open(0, receiver, { interface: "127.0.0.1", maxPacketSize: 4 });
    assert.equal(port.maxPacketSize, 4);
    open(0, new Recorder(), LOOPBACK).write("0123456789", port.getHost());
    await receiver.next(1);
    assert.equal(receiver.received[0][0], "0123");
  });
});

Deno.test("UDPPort.writeSequence() sends the chunks as one datagram", async () => {
  await withPorts(async (open) => {
    const receiver = new Recorder();
    const port = open(0, receiver, LOOPBACK);
    open(0, new Recorder(), LOOPBACK).writeSequence(
      ["ab", new Uint8Array([99]), "d"],
      port.getHost(),
    );
    await receiver.next(1);
    assert.equal(receiver.received[0][0], "abcd");
  });
});

Deno.test("listenUDP() drives a DatagramProtocol through start and stop", async () => {
  const events: string[] = [];
  class Tracked extends DatagramProtocol {
    override startProtocol(): void {
      events.push(`start ${this.transport !== null}`);
    }
    override stopProtocol(): void {
      events.push(`stop ${this.transport === null}`);
    }
  }
  const protocol = new Tracked();
  const port = listenUDP(0, protocol, LOOPBACK);
  assert.deepEqual(events, ["start true"]);
  assert.equal(protocol.transport, port);
  const stopped = port.stopListening();
  await within("stopListening()", stopped);
  assert.deepEqual(events, ["start true", "stop true"]);
  // Stopping again gives the same outcome and does not stop the protocol twice.
  await within("stopListening() again", port.stopListening());
  assert.deepEqual(events, ["start true", "stop true"]);
});

Deno.test("UDPPort.stopListening() sends what was written, then delivers nothing more", async () => {
  await withPorts(async (open) => {
    const receiver = new Recorder();
    const port = open(0, receiver, LOOPBACK);
    const leaving = new Recorder();
    const leavingPort = listenUDP(0, leaving, LOOPBACK);
    leavingPort.write("bye", port.getHost());
    const stopped = leavingPort.stopListening();
    leavingPort.write("dropped", port.getHost()); // after the stop: dropped
    await within("stopListening()", stopped);
    await receiver.next(1);
    // A datagram sent to the stopped port reaches no one; the receiver saw only "bye".
    port.write("too late", leavingPort.getHost());
    port.write("marker", port.getHost());
    await receiver.next(2);
    assert.deepEqual(receiver.received.map(([text]) => text), ["bye", "marker"]);
    assert.deepEqual(leaving.received, []);
  });
});

Deno.test("UDPPort.loseConnection() stops the port", async () => {
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const port = listenUDP(0, {
    makeConnection() {},
    datagramReceived() {},
    doStop: () => stopped(),
  }, LOOPBACK);
  port.loseConnection();
  await within("doStop()", done);
  await within("stopListening()", port.stopListening());
});

Deno.test("UDPPort.connect() filters senders and lets write() leave out the address", async () => {
  await withPorts(async (open) => {
    const client = new Recorder();
    const clientPort = open(0, client, LOOPBACK);
    const server = new Recorder();
    const serverPort = open(0, server, LOOPBACK);
    const stranger = open(0, new Recorder(), LOOPBACK);
    const { host, port } = serverPort.getHost();
    clientPort.connect(host, port);

    // The stranger's datagram reaches the client's socket before the server
    // hears from the stranger (sends are in order), and is dropped.
    stranger.write("intruder", clientPort.getHost());
    stranger.write("go", serverPort.getHost());
    await server.next(1);
    serverPort.write("from server", clientPort.getHost());
    await client.next(1);
    assert.deepEqual(client.received.map(([text]) => text), ["from server"]);

    clientPort.write("no address");
    clientPort.write("same address", { host, port });
    await server.next(3);
    assert.deepEqual(server.received.slice(1).map(([text]) => text), [
      "no address",
      "same address",
    ]);

    assert.throws(() => clientPort.write("x", stranger.getHost()), /connected to 127\.0\.0\.1:/);
    assert.throws(() => clientPort.connect(host, port), /already connected/);
  });
});

Deno.test("UDPPort.write() checks its arguments at once", async (t) => {
  await withPorts(async (open) => {
    const port = open(0, new Recorder(), LOOPBACK);
    const to = { host: "127.0.0.1", port: 9 };
    await t.step("an address is needed unless connected", () => {
      assert.throws(() => port.write("x"), TypeError);
    });
    await t.step("host names are refused, as in Twisted", () => {
      assert.throws(() => port.write("x", { host: "localhost", port: 9 }), TypeError);
      assert.throws(() => port.connect("localhost", 9), TypeError);
    });
    await t.step("the address family must match the port's", () => {
      assert.throws(() => port.write("x", { host: "::1", port: 9 }), /IPv4 address/);
    });
    await t.step("ports are checked", () => {
      assert.throws(() => port.write("x", { host: "127.0.0.1", port: 70000 }), RangeError);
    });
    await t.step("data must be bytes or a string", () => {
      assert.throws(() => port.write(42 as unknown as string, to), TypeError);
      assert.throws(() => port.writeSequence([{} as unknown as string], to), TypeError);
    });
    await t.step("a datagram longer than UDP carries is refused", () => {
      assert.throws(() => port.write(new Uint8Array(65508), to), RangeError);
    });
  });
});

Deno.test("UDPPort works over IPv6", async (t) => {
  let probe: UDPPort;
  try {
    probe = listenUDP(0, new Recorder(), { interface: "::1" });
  } catch (error) {
    if (!(error instanceof CannotListenError)) throw error;
    await t.step({ name: "::1 is not available here", ignore: true, fn: () => {} });
    return;
  }
  await within("stopListening()", probe.stopListening());
  await withPorts(async (open) => {
    const server = new Echo();
    const serverPort = open(0, server, { interface: "::1" });
    const client = new Recorder();
    const clientPort = open(0, client, { interface: "::1" });
    assert.equal(serverPort.getHost().host, "::1");
    clientPort.write("six", serverPort.getHost());
    await client.next(1);
    assert.equal(client.received[0][0], "six");
    assert.throws(() => clientPort.write("x", { host: "127.0.0.1", port: 9 }), /IPv6 address/);
  });
});

Deno.test("UDPPort reports broadcast as always allowed", async () => {
  await withPorts(async (open) => {
    const port = open(0, new Recorder(), LOOPBACK);
    assert.equal(port.getBroadcastAllowed(), true);
    port.setBroadcastAllowed(true);
    assert.throws(() => port.setBroadcastAllowed(false), /Cannot disallow broadcast/);
    await Promise.resolve();
  });
});

Deno.test("listenUDP() keeps serving after datagramReceived() throws", async () => {
  await withPorts(async (open) => {
    const seen: string[] = [];
    let wake = () => {};
    const second = new Promise<void>((resolve) => (wake = resolve));
    const port = open(0, {
      makeConnection() {},
      datagramReceived(data: Uint8Array) {
        seen.push(decoder.decode(data));
        if (seen.length === 1) throw new Error("deliberate failure in a test protocol");
        wake();
      },
    }, LOOPBACK);
    const sender = open(0, new Recorder(), LOOPBACK);
    sender.write("one", port.getHost());
    sender.write("two", port.getHost());
    await within("the second datagram", second);
    assert.deepEqual(seen, ["one", "two"]);
  });
});

Deno.test("listenUDP() throws CannotListenError for a port in use", async () => {
  await withPorts(async (open) => {
    const port = open(0, new Recorder(), LOOPBACK);
    const taken = port.getHost().port;
    assert.throws(
      () => listenUDP(taken, new Recorder(), LOOPBACK),
      (error: unknown) => {
        assert.ok(error instanceof CannotListenError);
        assert.equal(error.port, taken);
        assert.equal(error.interface, "127.0.0.1");
        assert.ok(error.cause instanceof Deno.errors.AddrInUse);
        return true;
      },
    );
    await Promise.resolve();
  });
});

Deno.test("listenUDP() checks the port and maxPacketSize", () => {
  assert.throws(() => listenUDP(-1, new Recorder()), RangeError);
  assert.throws(() => listenUDP(0, new Recorder(), { maxPacketSize: 0 }), RangeError);
});

Deno.test("listenUDP() closes the socket when makeConnection() throws", async () => {
  const failing = {
    makeConnection(): void {
      throw new Error("no start");
    },
    datagramReceived(): void {},
  };
  assert.throws(() => listenUDP(0, failing, LOOPBACK), /no start/);
  await Promise.resolve(); // The resource sanitizer checks that nothing is left open.
});

Deno.test("listenUDP() names the --unstable-net flag when Deno was started without it", async () => {
  const udp = new URL("../../reactor/udp.ts", import.meta.url).href;
  const script = `
    import { listenUDP } from ${JSON.stringify(udp)};
    try {
      listenUDP(0, { makeConnection() {}, datagramReceived() {} });
      console.log("no error");
    } catch (error) {
      console.log(error.message);
    }
  `;
  const killer = new AbortController();
  const timer = setTimeout(() => killer.abort(), 20_000);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: killer.signal,
  }).output().finally(() => clearTimeout(timer));
  assert.equal(code, 0, decoder.decode(stderr));
  assert.equal(
    decoder.decode(stdout).trim(),
    "listenUDP needs Deno's --unstable-net flag (deno run --unstable-net ...)",
  );
});
