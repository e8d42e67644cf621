// Byte-level interop of torsion's framing receivers with real Twisted, run by
// /usr/bin/python3. The Deno side drives torsion protocol objects over raw
// connections made by the reactor's own listenTCP / connectTCP, so the parsers,
// the senders and the TCP transport are all checked against Twisted, in both
// directions.
//
// A missing Twisted is a failure, never a skip.
import assert from "node:assert/strict";
import {
  ClientFactory,
  Int16StringReceiver,
  Int32StringReceiver,
  Int8StringReceiver,
  IntNStringReceiver,
  LineReceiver,
  type NetstringParseError,
  NetstringReceiver,
  type Protocol,
} from "../../protocols/mod.ts";
import { type Connector, reactor, type Transport } from "../../reactor/mod.ts";
import type { Failure } from "../../defer/failure.ts";
import { ConnectionDone } from "../../reactor/connection_errors.ts";
import {
  bytes,
  concat,
  FramingTransport,
  hex,
  latin1,
  randInt,
  randomChunks,
  rng,
} from "../protocols/_framing_fakes.ts";
import { Python, requireTwisted } from "./_python.ts";

const HERE = new URL(".", import.meta.url).pathname;
const SUBPROCESS_TIMEOUT_MS = 60_000;
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

async function runOracle<T>(job: unknown): Promise<T> {
  await requireTwisted();
  const python = new Python(
    [`${HERE}framing_oracle.py`],
    JSON.stringify(job),
    HERE,
    SUBPROCESS_TIMEOUT_MS,
  );
  return JSON.parse(await python.finish()) as T;
}

// --- Sockets ------------------------------------------------------------------

/** What a torsion protocol got over a real reactor connection. */
interface Wired {
  /** Every chunk handed to `dataReceived`, copied. */
  raw: Uint8Array[];
  /** Fires with the reason once `connectionLost` has run. */
  lost: Promise<Failure>;
}

/** Records the bytes a protocol receives and tells when its connection ends. */
function wire(protocol: Protocol): Wired {
  const raw: Uint8Array[] = [];
  const dataReceived = protocol.dataReceived.bind(protocol);
  const connectionLost = protocol.connectionLost.bind(protocol);
  const lost = new Promise<Failure>((resolve) => {
    protocol.connectionLost = (reason: Failure) => {
      connectionLost(reason);
      resolve(reason);
    };
  });
  protocol.dataReceived = (data: Uint8Array) => {
    raw.push(data.slice());
    dataReceived(data);
  };
  return { raw, lost };
}

/** A factory that hands out `protocol` once, then refuses. */
class OneShotFactory extends ClientFactory {
  readonly failed: Promise<Failure>;
  #protocol: Protocol | null;
  #fail!: (reason: Failure) => void;

  constructor(protocol: Protocol) {
    super();
    this.#protocol = protocol;
    this.failed = new Promise((resolve) => (this.#fail = resolve));
  }

  override buildProtocol(): Protocol | null {
    const protocol = this.#protocol;
    this.#protocol = null;
    if (protocol !== null) protocol.factory = this;
    return protocol;
  }

  override clientConnectionFailed(_connector: Connector, reason: Failure): void {
    this.#fail(reason);
  }
}

// --- The three protocols, on the torsion side ---------------------------------

type Kind = "line" | "netstring" | "int32";

interface Peer {
  protocol: LineReceiver | NetstringReceiver | Int32StringReceiver;
  /** What was received: decoded lines, or hex strings. */
  received: string[];
  send(message: Uint8Array): void;
}

/** A torsion peer of `kind`; with `echo`, it sends back each message it gets. */
function torsionPeer(kind: Kind, echo: boolean): Peer {
  const received: string[] = [];
  if (kind === "line") {
    const protocol = new LineReceiver();
    protocol.MAX_LENGTH = 1 << 20;
    protocol.lineReceived = (line) => {
      received.push(line);
      if (echo) protocol.sendLine(line);
    };
    return { protocol, received, send: (m) => protocol.sendLine(m) };
  }
  const protocol = kind === "netstring" ? new NetstringReceiver() : new Int32StringReceiver();
  protocol.stringReceived = (s) => {
    received.push(hex(s));
    if (echo) protocol.sendString(s);
  };
  return { protocol, received, send: (m) => protocol.sendString(m) };
}

/** How torsion frames `messages`, through a recording transport. */
function torsionFraming(kind: Kind, messages: Uint8Array[]): Uint8Array {
  const peer = torsionPeer(kind, false);
  const t = new FramingTransport();
  peer.protocol.makeConnection(t);
  for (const m of messages) peer.send(m);
  return t.value();
}

/** What the torsion side should record for each message. */
function expectedReceived(kind: Kind, messages: Uint8Array[]): string[] {
  return messages.map((m) => (kind === "line" ? decoder.decode(m) : hex(m)));
}

function messagesFor(kind: Kind, direction: "to twisted" | "from twisted"): Uint8Array[] {
  const many = Array.from({ length: 500 }, (_, i) => bytes(`message number ${i}`));
  if (kind === "line") {
    const lines = [
      bytes("hello"),
      bytes(""),
      bytes("héllo wörld ☃ 😀"),
      bytes("ends with a carriage return\r"),
      bytes("a lone \r inside"),
      bytes("\ttab and \u0000 NUL"),
      bytes("x".repeat(20_000)),
      ...many,
    ];
    // Invalid UTF-8 goes to Twisted and comes back as bytes; torsion decodes it.
    if (direction === "to twisted") {
      lines.push(Uint8Array.of(0xff, 0xfe, 0x41), Uint8Array.of(0xc3));
    }
    return lines;
  }
  return [
    bytes(""),
    bytes("hello"),
    Uint8Array.from({ length: 256 }, (_, i) => i),
    bytes("1:a,"),
    bytes("\r\n,:"),
    new Uint8Array(99_999).fill(0x7a),
    ...many,
  ];
}

interface Summary {
  received: string[];
  raw: string;
  brokenPeer: boolean;
  error?: string;
}

// --- Tests --------------------------------------------------------------------

for (const kind of ["line", "netstring", "int32"] as const) {
  const twistedClass =
    { line: "LineReceiver", netstring: "NetstringReceiver", int32: "Int32StringReceiver" }[
      kind
    ];

  Deno.test(`${twistedClass}: torsion sends to Twisted and parses its echo, byte for byte`, async () => {
    await requireTwisted();
    const messages = messagesFor(kind, "to twisted");
    const python = new Python(
      [`${HERE}framing_peer.py`, "server", kind],
      null,
      HERE,
      SUBPROCESS_TIMEOUT_MS,
    );
    try {
      const port = Number(await python.readLine());
      assert.ok(port > 0, "the Twisted server printed its port");
      const peer = torsionPeer(kind, false);
      const wired = wire(peer.protocol);
      const factory = new OneShotFactory(peer.protocol);
      const all = Promise.withResolvers<void>();
      const onMessage = peer.protocol instanceof LineReceiver ? "lineReceived" : "stringReceived";
      const record = (peer.protocol as unknown as Record<string, (x: unknown) => void>)[onMessage];
      (peer.protocol as unknown as Record<string, (x: unknown) => void>)[onMessage] = (x) => {
        record(x);
        if (peer.received.length === messages.length) all.resolve();
      };
      peer.protocol.connectionMade = () => {
        for (const m of messages) peer.send(m);
      };
      reactor.connectTCP("127.0.0.1", port, factory, { timeout: 10 });
      const failed = factory.failed.then((reason) => {
        throw new Error(`Could not connect to the Twisted server: ${reason.getErrorMessage()}`);
      });
      await Promise.race([all.promise, failed, wired.lost]);
      peer.protocol.transport!.loseConnection();
      const reason = await wired.lost;
      assert.ok(reason.check(ConnectionDone), `clean close, not ${reason.getErrorMessage()}`);
      const summary = JSON.parse(await python.finish()) as Summary;

      const framing = torsionFraming(kind, messages);
      assert.equal(summary.error, undefined);
      assert.equal(summary.brokenPeer, false);
      assert.deepEqual(summary.received, messages.map(hex), "Twisted parsed torsion's framing");
      assert.equal(summary.raw, hex(framing), "Twisted got exactly what torsion frames");
      assert.equal(
        hex(concat(wired.raw)),
        hex(framing),
        "Twisted's echo is framed as torsion frames",
      );
      assert.deepEqual(peer.received, expectedReceived(kind, messages), "torsion parsed Twisted");
    } finally {
      await python.close();
    }
  });

  Deno.test(`${twistedClass}: Twisted sends to torsion and parses its echo, byte for byte`, async () => {
    await requireTwisted();
    const messages = messagesFor(kind, "from twisted");
    const peer = torsionPeer(kind, true);
    const wired = wire(peer.protocol);
    const listening = reactor.listenTCP(0, new OneShotFactory(peer.protocol), {
      interface: "127.0.0.1",
    });
    const python = new Python(
      [`${HERE}framing_peer.py`, "client", kind, String(listening.getHost().port)],
      JSON.stringify({ messages: messages.map(hex) }),
      HERE,
      SUBPROCESS_TIMEOUT_MS,
    );
    try {
      const exited = python.status.then(() => null);
      const reason = await Promise.race([wired.lost, exited]);
      if (reason === null && peer.protocol.transport === undefined) {
        throw new Error(`The Twisted client did not connect:\n${await python.stderr}`);
      }
      const summary = JSON.parse(await python.finish()) as Summary;
      assert.ok((await wired.lost).check(ConnectionDone), "the Twisted client closed cleanly");

      const framing = torsionFraming(kind, messages);
      assert.deepEqual(peer.received, expectedReceived(kind, messages), "torsion parsed Twisted");
      assert.equal(hex(concat(wired.raw)), hex(framing), "Twisted frames as torsion frames");
      assert.equal(summary.error, undefined);
      assert.equal(summary.brokenPeer, false);
      assert.deepEqual(summary.received, messages.map(hex), "Twisted parsed torsion's echo");
      assert.equal(summary.raw, hex(framing), "Twisted got torsion's echo byte for byte");
    } finally {
      await listening.stopListening();
      peer.protocol.transport?.abortConnection();
      await python.close();
    }
  });
}

// --- Differential fuzz: the same chunked garbage through Twisted and torsion ---

interface Case {
  max: number;
  delimiter?: string;
  chunks: string[];
}

function fromHex(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function pickFrom(random: () => number, alphabet: Uint8Array, n: number): number[] {
  return Array.from({ length: n }, () => alphabet[randInt(random, 0, alphabet.length - 1)]);
}

function makeCases(kind: string, count: number, seed: number): Case[] {
  const random = rng(seed);
  const cases: Case[] = [];
  for (let n = 0; n < count; n++) {
    let stream: Uint8Array;
    let max: number;
    let delimiter: string | undefined;
    if (kind === "line") {
      const delimiters = ["0d0a", "0a", "616162", "ff00"];
      delimiter = delimiters[n % delimiters.length];
      max = randInt(random, 1, 40);
      // Half ASCII (the decoded-text path), half not.
      const alphabet = Math.floor(n / 4) % 2 === 0
        ? latin1("aab\r\n\xff\x00\xc3\xa9x")
        : latin1("aab\r\n\x00x");
      stream = Uint8Array.from(pickFrom(random, alphabet, randInt(random, 0, 80)));
    } else if (kind === "netstring") {
      max = [1, 5, 9, 10, 11, 12, 50, 99, 100, 101, 99999][n % 11];
      const alphabet = Uint8Array.from([...bytes("0123456789:,a"), 0xff]);
      const parts: number[] = [];
      for (let i = randInt(random, 0, 6); i > 0; i--) {
        const len = random() < 0.1 ? randInt(random, 0, 200) : randInt(random, 0, 12);
        parts.push(...bytes(`${len}:`), ...pickFrom(random, alphabet, len), 0x2c);
      }
      for (let i = random() < 0.3 ? 0 : randInt(random, 1, 3); i > 0 && parts.length > 0; i--) {
        const at = randInt(random, 0, parts.length - 1);
        const what = randInt(random, 0, 2);
        if (what === 0) parts[at] = pickFrom(random, alphabet, 1)[0];
        else if (what === 1) parts.splice(at, 1);
        else parts.splice(at, 0, pickFrom(random, alphabet, 1)[0]);
      }
      stream = Uint8Array.from(parts);
    } else {
      const size = { int8: 1, int16: 2, int32: 4 }[kind]!;
      max = randInt(random, 0, 20);
      const parts: number[] = [];
      for (let i = randInt(random, 0, 6); i > 0; i--) {
        const len = random() < 0.15
          ? randInt(random, 0, 65535 >> (size === 1 ? 8 : 0))
          : randInt(random, 0, 18);
        for (let k = size - 1; k >= 0; k--) parts.push(k >= 2 ? 0 : (len >> (8 * k)) & 0xff);
        for (let k = 0; k < Math.min(len, 25); k++) parts.push(randInt(random, 0, 255));
      }
      stream = Uint8Array.from(parts);
    }
    const chunks = randomChunks(stream, random, n % 10 === 0 ? 1 : randInt(random, 1, 24));
    cases.push({ max, delimiter, chunks: chunks.map(hex) });
  }
  return cases;
}

function torsionEvents(kind: string, c: Case): string[] {
  const events: string[] = [];
  const t = new FramingTransport();
  let protocol: { dataReceived(data: Uint8Array): unknown; makeConnection(t: Transport): void };
  if (kind === "line") {
    const p = new LineReceiver();
    p.delimiter = fromHex(c.delimiter!);
    p.MAX_LENGTH = c.max;
    p.lineReceived = (line) => void events.push(`line ${line}`);
    p.lineLengthExceeded = (line) => {
      events.push("exceeded");
      return LineReceiver.prototype.lineLengthExceeded.call(p, line);
    };
    protocol = p;
  } else if (kind === "netstring") {
    const p = new NetstringReceiver();
    p.MAX_LENGTH = c.max;
    p.stringReceived = (s) => void events.push(`string ${hex(s)}`);
    p.handleParseError = (e: NetstringParseError) => {
      events.push("error");
      NetstringReceiver.prototype.handleParseError.call(p, e);
    };
    protocol = p;
  } else {
    const cls = {
      int8: Int8StringReceiver,
      int16: Int16StringReceiver,
      int32: Int32StringReceiver,
    }[
      kind
    ]!;
    const p = new cls();
    p.MAX_LENGTH = c.max;
    p.stringReceived = (s) => void events.push(`string ${hex(s)}`);
    p.lengthLimitExceeded = (n) => {
      events.push(`limit ${n}`);
      IntNStringReceiver.prototype.lengthLimitExceeded.call(p, n);
    };
    protocol = p;
  }
  protocol.makeConnection(t);
  for (const chunk of [...c.chunks.map(fromHex), new Uint8Array(0)]) {
    if (t.disconnecting) break;
    protocol.dataReceived(chunk);
  }
  if (t.disconnecting) events.push("lost");
  return events;
}

for (const kind of ["line", "netstring", "int8", "int16", "int32"]) {
  Deno.test(`torsion and Twisted give the same events for 2000 chunked garbage ${kind} inputs`, async () => {
    const cases = makeCases(kind, 2000, kind.length * 7919);
    const twisted = await runOracle<string[][]>({ kind, cases });
    assert.equal(twisted.length, cases.length);
    let lost = 0;
    for (let i = 0; i < cases.length; i++) {
      const expected = twisted[i].map((e) =>
        e.startsWith("line ") ? `line ${decoder.decode(fromHex(e.slice(5)))}` : e
      );
      if (expected.includes("lost")) lost++;
      assert.deepEqual(
        torsionEvents(kind, cases[i]),
        expected,
        `case #${i}: ${JSON.stringify(cases[i])}`,
      );
    }
    assert.ok(lost > 200 && lost < 1800, `${lost} of 2000 lost the connection`);
  });
}
