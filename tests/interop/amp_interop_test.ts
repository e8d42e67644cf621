// AMP interop with real Twisted, run by /usr/bin/python3, over loopback TCP:
// a torsion client calling a Twisted server, a Twisted client calling a torsion
// server, the bytes compared with torsion's own encoding both ways, and a
// differential fuzz of the box parser against Twisted's BinaryBoxProtocol.
//
// A missing Twisted is a failure, never a skip.
import assert from "node:assert/strict";
import { AMP, type AmpBox, BoxParser, ClientCreator, Factory } from "../../protocols/mod.ts";
import { codecOf } from "../../protocols/amp/command.ts";
import { reactor } from "../../reactor/mod.ts";
import { type LogSink, setLogSink } from "../../reactor/log.ts";
import type { Failure } from "../../defer/failure.ts";
import { within } from "../_helpers.ts";
import { hex, randInt, randomChunks, rng } from "../protocols/_framing_fakes.ts";
import {
  Divide,
  DivideByZero,
  Echo,
  ECHO_VALUES,
  Fail,
  Fatal,
  FatalError,
  Nope,
  Notified,
  Notify,
  Sum,
} from "../protocols/amp/_commands.ts";
import { Python, requireTwisted } from "./_python.ts";

const HERE = new URL(".", import.meta.url).pathname;

function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** An AMP that records every byte it receives and tells when it is gone. */
class Recording extends AMP {
  raw: number[] = [];
  lost = Promise.withResolvers<Failure>();
  override dataReceived(data: Uint8Array): void {
    for (const b of data) this.raw.push(b);
    super.dataReceived(data);
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lost.resolve(reason);
  }
}

/** The first box of a stream, as bytes. */
function firstBox(raw: Uint8Array): Uint8Array {
  let end = -1;
  const parser = new BoxParser({
    onBox: () => {
      if (end < 0) end = 0;
    },
  });
  for (let i = 0; i < raw.length && end < 0; i++) {
    parser.dataReceived(raw.subarray(i, i + 1));
    if (end === 0) end = i + 1;
  }
  return raw.subarray(0, end);
}

function fromHex(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function captureLog<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const sink: LogSink = (text) => void lines.push(text);
  const before = setLogSink(sink);
  try {
    return { result: await fn(), lines };
  } finally {
    setLogSink(before);
  }
}

Deno.test("AMP: torsion calls a Twisted server: every type, errors, 500 pipelined calls", async () => {
  await requireTwisted();
  const python = new Python([`${HERE}amp_peer.py`, "server"], null, HERE);
  try {
    const port = Number(await python.readLine());
    const creator = new ClientCreator(reactor, Recording);
    const amp = await within(10, creator.connectTCP("127.0.0.1", port), "the connection");

    const echoed = await within(10, amp.callRemote(Echo, ECHO_VALUES), "Echo");
    assert.deepEqual(echoed, ECHO_VALUES, "every argument type comes back as sent");
    const answer = codecOf(Echo).response.encode(echoed, [ascii("1")]);
    assert.equal(hex(firstBox(Uint8Array.from(amp.raw))), hex(answer), "Twisted's bytes are ours");

    const sums = await within(
      20,
      Promise.all(Array.from({ length: 500 }, (_, i) => amp.callRemote(Sum, { a: i, b: 2 * i }))),
      "500 pipelined sums",
    );
    assert.deepEqual(sums.map((s) => s.total), Array.from({ length: 500 }, (_, i) => 3 * i));

    assert.deepEqual(await amp.callRemote(Divide, { numerator: 1, denominator: 4 }), {
      result: 0.25,
    });
    await assert.rejects(
      Promise.resolve(amp.callRemote(Divide, { numerator: 1, denominator: 0 })),
      (e: unknown) => e instanceof DivideByZero && e.message === "division by zero",
    );
    await assert.rejects(Promise.resolve(amp.callRemote(Nope, {})), {
      name: "UnhandledCommand",
      errorCode: "UNHANDLED",
      description: "Unhandled Command: b'Nope'",
    });
    amp.callRemote(Notify, { text: "n\u00f6 answer" });
    assert.deepEqual(await amp.callRemote(Notified, {}), { texts: ["n\u00f6 answer"] });

    // A fatal error comes back as its class, and Twisted closes the connection.
    await assert.rejects(
      Promise.resolve(amp.callRemote(Fatal, {})),
      (e: unknown) => e instanceof FatalError && e.message === "fatal, as declared",
    );
    assert.equal((await within(10, amp.lost.promise, "the close")).type?.name, "ConnectionDone");
    await assert.rejects(Promise.resolve(amp.callRemote(Sum, { a: 1, b: 1 })), {
      name: "ConnectionDone",
    });

    // An unmapped error is UNKNOWN, and Twisted closes this connection too.
    const second = await within(10, creator.connectTCP("127.0.0.1", port), "a new connection");
    await assert.rejects(Promise.resolve(second.callRemote(Fail, {})), {
      name: "UnknownRemoteError",
      errorCode: "UNKNOWN",
      description: "Unknown Error",
    });
    await within(10, second.lost.promise, "the second close");

    // What Twisted received first is exactly torsion's encoding of the Echo call.
    const received = JSON.parse(await python.readLine()) as { raw: string };
    const question = codecOf(Echo).arguments.encode(ECHO_VALUES, [ascii("1"), ascii("Echo")]);
    assert.equal(hex(firstBox(fromHex(received.raw))), hex(question));
  } finally {
    await python.close();
  }
});

Deno.test("AMP: a Twisted client calls a torsion server: every type, errors, 500 pipelined calls", async () => {
  await requireTwisted();
  let server: Recording | null = null;
  const notified: string[] = [];
  class Server extends Recording {
    constructor() {
      super();
      server = this;
      this.respond(Sum, ({ a, b }) => ({ total: a + b }));
      this.respond(Divide, ({ numerator, denominator }) => {
        if (denominator === 0) throw new DivideByZero("cannot divide by zero");
        return Promise.resolve({ result: numerator / denominator });
      });
      this.respond(Echo, (args) => args);
      this.respond(Fail, () => {
        throw new Error("a responder bug");
      });
      this.respond(Notify, ({ text }) => {
        notified.push(text);
        return {};
      });
      this.respond(Notified, () => ({ texts: notified }));
    }
  }
  const port = reactor.listenTCP(0, Factory.forProtocol(Server), { interface: "127.0.0.1" });
  try {
    const { result, lines } = await captureLog(async () => {
      const python = new Python(
        [`${HERE}amp_peer.py`, "client", String(port.getHost().port)],
        null,
        HERE,
      );
      try {
        return JSON.parse(await python.finish()) as Record<string, unknown>;
      } finally {
        await python.close();
      }
    });
    assert.equal(result.error, undefined, String(result.error));
    assert.deepEqual(result, {
      echo: true,
      echoBytes: true,
      sums: true,
      divide: 0.25,
      zero: ["ZeroDivisionError", "cannot divide by zero"],
      nope: ["UnhandledCommand", "(b'UNHANDLED', \"Unhandled Command: b'Nope'\")"],
      notified: ["n\u00f6 answer"],
      fail: ["UnknownRemoteError", "UNKNOWN", "Unknown Error"],
      closed: true,
    });
    assert.ok(
      lines.some((line) => /\[error\] amp: Fail failed with an error/.test(line)),
      `the unmapped error is logged here: ${lines.join("\n")}`,
    );
    // What Twisted sent first is exactly torsion's encoding of the same call.
    const raw = Uint8Array.from(server!.raw);
    const question = codecOf(Echo).arguments.encode(ECHO_VALUES, [ascii("1"), ascii("Echo")]);
    assert.equal(hex(firstBox(raw)), hex(question));
    await within(10, server!.lost.promise, "the server's connection to end");
  } finally {
    await port.stopListening();
  }
});

// --- Differential fuzz: chunked garbage through Twisted and torsion ------------

function randomStream(random: () => number): Uint8Array {
  const out: number[] = [];
  for (let box = randInt(random, 0, 4); box > 0; box--) {
    for (let pair = randInt(random, 0, 4); pair > 0; pair--) {
      const r = random();
      const keyLength = r < 0.05
        ? randInt(random, 256, 700)
        : r < 0.1
        ? 255
        : randInt(random, 1, 6);
      out.push(keyLength >> 8, keyLength & 0xff);
      for (let i = 0; i < Math.min(keyLength, 300); i++) {
        out.push(random() < 0.2 ? randInt(random, 0x80, 0xff) : randInt(random, 0x61, 0x64));
      }
      const valueLength = random() < 0.1 ? randInt(random, 0, 65535) : randInt(random, 0, 10);
      out.push(valueLength >> 8, valueLength & 0xff);
      for (let i = 0; i < Math.min(valueLength, 40); i++) out.push(randInt(random, 0, 255));
    }
    out.push(0, 0);
  }
  // Corrupt a few bytes, or cut the stream short.
  for (let i = random() < 0.5 ? 0 : randInt(random, 1, 3); i > 0 && out.length > 0; i--) {
    const at = randInt(random, 0, out.length - 1);
    const what = randInt(random, 0, 2);
    if (what === 0) out[at] = randInt(random, 0, 255);
    else if (what === 1) out.splice(at, 1);
    else out.length = at;
  }
  return Uint8Array.from(out);
}

function torsionEvents(chunks: Uint8Array[]): string[] {
  const events: string[] = [];
  const encoder = new TextEncoder();
  const parser = new BoxParser({
    onBox: (box: AmpBox) => {
      const pairs = [...box].map(([k, v]) => `${hex(encoder.encode(k))}=${hex(v)}`).sort();
      events.push(`box ${pairs.join(",")}`);
    },
    onError: () => void events.push("lost"),
  });
  for (const chunk of chunks) parser.dataReceived(chunk);
  return events;
}

Deno.test("AMP: torsion's box parser and Twisted's give the same boxes for 2000 chunked garbage streams", async () => {
  await requireTwisted();
  const random = rng(1212);
  const cases = Array.from({ length: 2000 }, (_, n) => {
    const stream = randomStream(random);
    return randomChunks(stream, random, n % 10 === 0 ? 1 : randInt(random, 1, 64));
  });
  const python = new Python(
    [`${HERE}amp_oracle.py`],
    JSON.stringify(cases.map((chunks) => chunks.map(hex))),
    HERE,
  );
  const twisted = JSON.parse(await python.finish()) as string[][];
  let lost = 0;
  let boxes = 0;
  for (let i = 0; i < cases.length; i++) {
    if (twisted[i].includes("lost")) lost++;
    boxes += twisted[i].filter((e) => e.startsWith("box")).length;
    assert.deepEqual(torsionEvents(cases[i]), twisted[i], `case #${i}`);
  }
  assert.ok(lost > 50 && lost < 1500, `${lost} of 2000 broke the key limit`);
  assert.ok(boxes > 1000, `${boxes} boxes parsed`);
});
