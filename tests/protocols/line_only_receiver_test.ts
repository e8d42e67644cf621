import assert from "node:assert/strict";
import { LineOnlyReceiver } from "../../protocols/mod.ts";
import {
  bytes,
  chunkings,
  feed,
  FramingTransport,
  hex,
  latin1,
  randInt,
  randomChunks,
  rng,
} from "./_framing_fakes.ts";

class LineOnlyTester extends LineOnlyReceiver {
  override delimiter = "\n";
  override MAX_LENGTH = 64;
  received: string[] = [];
  exceeded: Uint8Array[] = [];
  override lineReceived(line: string): void {
    this.received.push(line);
  }
  override lineLengthExceeded(line: Uint8Array): unknown {
    this.exceeded.push(line.slice());
    return super.lineLengthExceeded(line);
  }
}

function connected<P extends LineOnlyReceiver>(p: P): [P, FramingTransport] {
  const t = new FramingTransport();
  p.makeConnection(t);
  return [p, t];
}

const buffer = "foo\n    bleakness\n    desolation\n    plastic forks\n";

Deno.test("LineOnlyReceiver delivers the same lines in every chunking", () => {
  for (const { name, chunks } of chunkings(bytes(buffer), 11)) {
    const [p, t] = connected(new LineOnlyTester());
    feed(p, t, chunks);
    assert.deepEqual(p.received, buffer.split("\n").slice(0, -1), name);
    assert.equal(t.disconnecting, false);
  }
});

Deno.test("LineOnlyReceiver disconnects on a line longer than MAX_LENGTH", () => {
  const [p, t] = connected(new LineOnlyTester());
  p.dataReceived(bytes("x".repeat(p.MAX_LENGTH + 1 + 1) + "\r\nr"));
  assert.equal(t.disconnecting, true);
  assert.equal(t.loseConnectionCalls, 1);
});

Deno.test("LineOnlyReceiver drops the rest of the chunk's lines after a long line", () => {
  const [p, t] = connected(new LineOnlyTester());
  p.MAX_LENGTH = 3;
  p.dataReceived(bytes("ok\nlong!\nlost\npart"));
  assert.deepEqual(p.received, ["ok"]);
  assert.deepEqual(p.exceeded, [bytes("long!")]);
  assert.equal(t.disconnecting, true);
  // The unfinished line stays buffered, as in Twisted.
  const [q] = connected(new LineOnlyTester());
  q.MAX_LENGTH = 4;
  q.lineLengthExceeded = () => undefined;
  q.dataReceived(bytes("long!\nlost\npa"));
  q.dataReceived(bytes("rt\n"));
  assert.deepEqual(q.received, ["part"]);
});

Deno.test("LineOnlyReceiver reports an unfinished line once it cannot fit, and keeps it", () => {
  const [p] = connected(new LineOnlyTester());
  p.MAX_LENGTH = 4;
  p.delimiter = "\r\n";
  p.lineLengthExceeded = (line) => void p.exceeded.push(line.slice());
  // MAX_LENGTH bytes and the start of a delimiter may still be a good line.
  p.dataReceived(bytes("abcd\r"));
  assert.deepEqual(p.exceeded, []);
  p.dataReceived(bytes("\nabcde"));
  assert.deepEqual(p.received, ["abcd"]);
  assert.deepEqual(p.exceeded, []);
  p.dataReceived(bytes("f"));
  assert.deepEqual(p.exceeded, [bytes("abcdef")]);
  p.dataReceived(bytes("g\r\n"));
  assert.deepEqual(p.exceeded, [bytes("abcdef"), bytes("abcdefg")]);
  assert.deepEqual(p.received, ["abcd"]);
});

Deno.test("LineOnlyReceiver drops the chunk's remaining lines once disconnecting", () => {
  const [p, t] = connected(new LineOnlyTester());
  p.lineReceived = (line) => {
    p.received.push(line);
    if (line === "quit") t.loseConnection();
  };
  p.dataReceived(bytes("a\nquit\nb\nc\npart"));
  assert.deepEqual(p.received, ["a", "quit"]);
  p.dataReceived(bytes("ial\nmore\n"));
  assert.deepEqual(p.received, ["a", "quit"]);
});

Deno.test("LineOnlyReceiver delivers lines from a nested dataReceived in stream order", () => {
  const [p] = connected(new LineOnlyTester());
  p.lineReceived = (line) => {
    p.received.push(line);
    if (line === "a") p.dataReceived(bytes("nested\n"));
  };
  p.dataReceived(bytes("a\nb\n"));
  assert.deepEqual(p.received, ["a", "b", "nested"]);
});

Deno.test("LineOnlyReceiver decodes UTF-8, invalid bytes as U+FFFD", () => {
  const stream = latin1("caf\xc3\xa9\n\xff\n\xe2\x98\x83\n");
  for (const { name, chunks } of chunkings(stream, 12)) {
    const [p, t] = connected(new LineOnlyTester());
    feed(p, t, chunks);
    assert.deepEqual(p.received, ["café", "\ufffd", "☃"], name);
  }
});

Deno.test("LineOnlyReceiver.sendLine() writes the line and the delimiter", () => {
  const [p, t] = connected(new LineOnlyReceiver());
  p.sendLine("héllo");
  p.delimiter = Uint8Array.of(0);
  p.sendLine(bytes("x"));
  assert.deepEqual(t.writes, [bytes("héllo\r\n"), latin1("x\x00")]);
  assert.throws(() => new LineOnlyReceiver().sendLine("x"), /no transport/);
});

Deno.test("LineOnlyReceiver's defaults: lineReceived throws, an empty delimiter is refused", () => {
  const p = new LineOnlyReceiver();
  assert.throws(() => p.lineReceived("foo"), { name: "NotImplementedError" });
  p.delimiter = "";
  assert.throws(() => p.dataReceived(bytes("x")), RangeError);
});

// The reference: the whole stream at once, stopping at the first long line.
function oracle(stream: Uint8Array, delimiter: Uint8Array, max: number): string[] {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const events: string[] = [];
  let pos = 0;
  for (;;) {
    let idx = -1;
    outer: for (let i = pos; i + delimiter.length <= stream.length; i++) {
      for (let k = 0; k < delimiter.length; k++) if (stream[i + k] !== delimiter[k]) continue outer;
      idx = i;
      break;
    }
    if (idx < 0) {
      if (stream.length - pos >= max + delimiter.length) events.push("exceeded");
      return events;
    }
    if (idx - pos > max) {
      events.push("exceeded");
      return events;
    }
    events.push(`line ${decoder.decode(stream.subarray(pos, idx))}`);
    pos = idx + delimiter.length;
  }
}

Deno.test("LineOnlyReceiver survives 10000 garbage inputs with the events of the reference parser", () => {
  const alphabet = latin1("aab\r\n\xff\x00\xc3\xa9x");
  const asciiAlphabet = latin1("aab\r\n\x00x");
  const delimiters = [bytes("\r\n"), bytes("\n"), bytes("aab"), Uint8Array.of(0xff, 0)];
  const random = rng(1984);
  let exceededCount = 0;
  let lineCount = 0;
  for (let n = 0; n < 10_000; n++) {
    const d = delimiters[n % delimiters.length];
    const max = randInt(random, 1, 40);
    const length = randInt(random, 0, 80);
    const stream = new Uint8Array(length);
    const letters = Math.floor(n / 4) % 2 === 0 ? alphabet : asciiAlphabet;
    for (let i = 0; i < length; i++) stream[i] = letters[randInt(random, 0, letters.length - 1)];
    const expected = oracle(stream, d, max);
    const events: string[] = [];
    const p = new LineOnlyReceiver();
    p.delimiter = d;
    p.MAX_LENGTH = max;
    p.lineReceived = (line) => void events.push(`line ${line}`);
    p.lineLengthExceeded = (line) => {
      events.push("exceeded");
      return LineOnlyReceiver.prototype.lineLengthExceeded.call(p, line);
    };
    const [, t] = connected(p);
    const chunks = randomChunks(stream, random, n % 10 === 0 ? 1 : randInt(random, 1, 24));
    feed(p, t, chunks);
    assert.deepEqual(events, expected, `input #${n}: ${hex(stream)} max ${max}`);
    assert.equal(t.loseConnectionCalls, expected.includes("exceeded") ? 1 : 0, `input #${n}`);
    if (expected.includes("exceeded")) exceededCount++;
    lineCount += expected.length;
  }
  assert.ok(exceededCount > 2000 && exceededCount < 8000, `${exceededCount} exceeded`);
  assert.ok(lineCount > 10000, `${lineCount} lines`);
});
