import assert from "node:assert/strict";
import { LineReceiver } from "../../protocols/mod.ts";
import { Clock } from "../../reactor/mod.ts";
import {
  bytes,
  chunkings,
  concat,
  feed,
  fixedChunks,
  FramingTransport,
  hex,
  latin1,
  randInt,
  randomChunks,
  rng,
} from "./_framing_fakes.ts";

const ascii = new TextDecoder();

// Twisted's LineTester: "\n" lines, MAX_LENGTH 64, and commands that pause,
// stop, or switch to raw mode for a given number of bytes.
class LineTester extends LineReceiver {
  override delimiter = "\n";
  override MAX_LENGTH = 64;
  received: string[] = [];
  length = 0;
  constructor(readonly clock: Clock | null = null) {
    super();
  }
  override lineReceived(line: string): void {
    this.received.push(line);
    if (line === "") {
      this.setRawMode();
    } else if (line === "pause") {
      this.pauseProducing();
      this.clock!.callLater(0, () => this.resumeProducing());
    } else if (line === "rawpause") {
      this.pauseProducing();
      this.setRawMode();
      this.received.push("");
      this.clock!.callLater(0, () => this.resumeProducing());
    } else if (line === "stop") {
      this.stopProducing();
    } else if (line.startsWith("len ")) {
      this.length = Number(line.slice(4));
    } else if (line.startsWith("produce")) {
      this.transport!.registerProducer(this, false);
    } else if (line.startsWith("unproduce")) {
      this.transport!.unregisterProducer();
    }
  }
  override rawDataReceived(data: Uint8Array): void {
    const used = data.subarray(0, this.length);
    const rest = data.subarray(this.length);
    this.length -= used.length;
    this.received[this.received.length - 1] += ascii.decode(used);
    if (this.length === 0) this.setLineMode(rest);
  }
  override lineLengthExceeded(line: Uint8Array): void {
    if (line.length > this.MAX_LENGTH + 1) this.setLineMode(line.subarray(this.MAX_LENGTH + 1));
  }
}

function connected<P extends LineReceiver>(p: P): [P, FramingTransport] {
  const t = new FramingTransport();
  p.makeConnection(t);
  return [p, t];
}

const testBuffer = bytes(
  "len 10\n\n0123456789len 5\n\n1234\nlen 20\nfoo 123\n\n0123456789\n012345678len 0\nfoo 5\n\n" +
    "1234567890123456789012345678901234567890123456789012345678901234567890\nlen 1\n\na",
);
const testOutput = [
  "len 10",
  "0123456789",
  "len 5",
  "1234\n",
  "len 20",
  "foo 123",
  "0123456789\n012345678",
  "len 0",
  "foo 5",
  "",
  "67890",
  "len 1",
  "a",
];

Deno.test("LineReceiver delivers the same lines in every chunking", () => {
  for (const { name, chunks } of chunkings(testBuffer, 1)) {
    const [p, t] = connected(new LineTester());
    feed(p, t, chunks);
    assert.deepEqual(p.received, testOutput, name);
    assert.equal(t.disconnecting, false, name);
  }
});

Deno.test("LineReceiver holds lines while paused and delivers them on resume", async (t) => {
  await t.step("pause from lineReceived", () => {
    const stream = bytes("twiddle1\ntwiddle2\npause\ntwiddle3\n");
    for (const { name, chunks } of chunkings(stream, 2)) {
      const clock = new Clock();
      const [p, tr] = connected(new LineTester(clock));
      for (const c of chunks) p.dataReceived(c);
      assert.deepEqual(p.received, ["twiddle1", "twiddle2", "pause"], name);
      assert.equal(tr.paused, true);
      clock.advance(0);
      assert.deepEqual(p.received, ["twiddle1", "twiddle2", "pause", "twiddle3"], name);
      assert.equal(tr.paused, false);
    }
  });
  await t.step("pause while switching to raw mode", () => {
    const stream = bytes("twiddle1\ntwiddle2\nlen 5\nrawpause\n12345twiddle3\n");
    for (const { name, chunks } of chunkings(stream, 3)) {
      const clock = new Clock();
      const [p] = connected(new LineTester(clock));
      for (const c of chunks) p.dataReceived(c);
      assert.deepEqual(p.received, ["twiddle1", "twiddle2", "len 5", "rawpause", ""], name);
      clock.advance(0);
      assert.deepEqual(
        p.received,
        ["twiddle1", "twiddle2", "len 5", "rawpause", "12345", "twiddle3"],
        name,
      );
    }
  });
});

Deno.test("LineReceiver delivers nothing after stopProducing()", () => {
  const stream = bytes("twiddle1\ntwiddle2\nstop\nmore\nstuff\n");
  for (const { name, chunks } of chunkings(stream, 4)) {
    const [p, t] = connected(new LineTester());
    for (const c of chunks) p.dataReceived(c);
    assert.deepEqual(p.received, ["twiddle1", "twiddle2", "stop"], name);
    assert.equal(t.stopCalls, 1);
    p.resumeProducing();
    p.dataReceived(bytes("later\n"));
    assert.deepEqual(p.received, ["twiddle1", "twiddle2", "stop"], name);
    assert.equal(p.paused, true);
  }
});

Deno.test("LineReceiver can register itself as a producer from lineReceived", () => {
  const [p, t] = connected(new LineTester());
  p.dataReceived(bytes("produce\nhello world\n"));
  assert.equal(t.producer, p);
  assert.equal(t.streaming, false);
  p.dataReceived(bytes("unproduce\ngoodbye\n"));
  assert.equal(t.producer, null);
  assert.deepEqual(p.received, ["produce", "hello world", "unproduce", "goodbye"]);
});

Deno.test("LineReceiver.clearLineBuffer() returns and empties the buffer, even while parsing", () => {
  class Clearing extends LineReceiver {
    line = "";
    rest: Uint8Array = new Uint8Array(0);
    override lineReceived(line: string): void {
      this.line = line;
      this.rest = this.clearLineBuffer();
    }
  }
  const p = new Clearing();
  p.dataReceived(bytes("foo\r\nbar\r\nbaz"));
  assert.equal(p.line, "foo");
  assert.deepEqual(p.rest, bytes("bar\r\nbaz"));
  p.dataReceived(bytes("quux\r\n"));
  assert.equal(p.line, "quux");
  assert.deepEqual(p.rest, new Uint8Array(0));

  const q = new Clearing();
  q.dataReceived(bytes("par"));
  q.dataReceived(bytes("tial"));
  assert.deepEqual(q.clearLineBuffer(), bytes("partial"));
  assert.deepEqual(q.clearLineBuffer(), new Uint8Array(0));
});

Deno.test("LineReceiver switches modes 100000 times in one chunk without stack growth", () => {
  class Flipping extends LineReceiver {
    override delimiter = "\n";
    lines: string[] = [];
    override lineReceived(line: string): void {
      this.lines.push(line);
      this.setRawMode();
    }
    override rawDataReceived(data: Uint8Array): void {
      this.setLineMode(data.subarray(1));
    }
  }
  const n = 100_000;
  const [p] = connected(new Flipping());
  const start = performance.now();
  p.dataReceived(bytes("x\nx".repeat(n)));
  const elapsed = performance.now() - start;
  assert.equal(p.lines.join(""), "x".repeat(n));
  assert.ok(elapsed < 5000, `took ${elapsed} ms: quadratic?`);
});

Deno.test("LineReceiver length limits follow Twisted's rules", async (t) => {
  await t.step("a line longer than MAX_LENGTH disconnects", () => {
    const [p, tr] = connected(new LineReceiver());
    p.lineReceived = () => undefined;
    p.dataReceived(concat([new Uint8Array(p.MAX_LENGTH + 1).fill(0x78), bytes("\r\nr")]));
    assert.equal(tr.disconnecting, true);
  });
  await t.step("an unfinished line of MAX_LENGTH + delimiter.length bytes disconnects", () => {
    const [p, tr] = connected(new LineReceiver());
    p.dataReceived(new Uint8Array(p.MAX_LENGTH + 2).fill(0x78));
    assert.equal(tr.disconnecting, true);
  });
  await t.step("a full line with its delimiter split across chunks does not", () => {
    const p = new LineTester();
    p.MAX_LENGTH = 4;
    const [, tr] = connected(p);
    p.dataReceived(bytes("xxx"));
    p.dataReceived(new Uint8Array(0));
    p.dataReceived(bytes("\nxxx"));
    assert.equal(tr.disconnecting, false);
    assert.deepEqual(p.received, ["xxx"]);
  });
  await t.step("MAX_LENGTH bytes and a partial delimiter do not", () => {
    const [p, tr] = connected(new LineReceiver());
    p.dataReceived(concat([new Uint8Array(p.MAX_LENGTH).fill(0x78), bytes("\r")]));
    assert.equal(tr.disconnecting, false);
  });
  await t.step("a line of exactly MAX_LENGTH bytes is delivered", () => {
    const lines: string[] = [];
    const [p, tr] = connected(new LineReceiver());
    p.MAX_LENGTH = 4;
    p.lineReceived = (line) => void lines.push(line);
    for (const c of bytes("abcd\r\nxy\r\n")) p.dataReceived(Uint8Array.of(c));
    assert.deepEqual(lines, ["abcd", "xy"]);
    assert.equal(tr.disconnecting, false);
  });
});

class Catcher extends LineReceiver {
  override MAX_LENGTH = 6;
  longLines: Uint8Array[] = [];
  lines: string[] = [];
  override lineReceived(line: string): void {
    this.lines.push(line);
  }
  override lineLengthExceeded(line: Uint8Array): void {
    this.longLines.push(line.slice());
  }
}

Deno.test("LineReceiver.lineLengthExceeded() gets the whole buffer", async (t) => {
  const x14 = "x".repeat(14);
  await t.step("a long unended line: all of it", () => {
    const [p, tr] = connected(new Catcher());
    p.dataReceived(bytes(x14));
    assert.deepEqual(p.longLines, [bytes(x14)]);
    assert.equal(tr.disconnecting, false);
  });
  await t.step("a long line after a short one: only the long one", () => {
    const [p] = connected(new Catcher());
    p.dataReceived(bytes("x\r\n" + x14));
    assert.deepEqual(p.lines, ["x"]);
    assert.deepEqual(p.longLines, [bytes(x14)]);
  });
  await t.step("a long line with a delimiter: the whole chunk, delimiters included", () => {
    const [p] = connected(new Catcher());
    p.dataReceived(bytes(`${x14}\r\n${x14}`));
    assert.deepEqual(p.longLines, [bytes(`${x14}\r\n${x14}`)]);
  });
  await t.step("several long lines: the whole chunk", () => {
    const [p] = connected(new Catcher());
    p.dataReceived(bytes(`${x14}\r\n${x14}\r\n`));
    assert.deepEqual(p.longLines, [bytes(`${x14}\r\n${x14}\r\n`)]);
  });
  await t.step("the buffer is empty afterwards", () => {
    const [p] = connected(new Catcher());
    p.dataReceived(bytes(x14));
    assert.deepEqual(p.clearLineBuffer(), new Uint8Array(0));
    p.dataReceived(bytes("ok\r\n"));
    assert.deepEqual(p.lines, ["ok"]);
  });
});

Deno.test("LineReceiver.dataReceived() returns a truthy value from rawDataReceived", () => {
  const [p] = connected(new LineReceiver());
  const oops = new Error("oops");
  p.rawDataReceived = () => oops;
  p.setRawMode();
  assert.equal(p.dataReceived(bytes("data")), oops);
});

Deno.test("LineReceiver stops parsing when lineReceived returns a truthy value", () => {
  const lines: string[] = [];
  const [p] = connected(new LineReceiver());
  p.lineReceived = (line) => {
    lines.push(line);
    return line === "stop" ? "why" : undefined;
  };
  assert.equal(p.dataReceived(bytes("a\r\nstop\r\nb\r\n")), "why");
  assert.deepEqual(lines, ["a", "stop"]);
  assert.equal(p.dataReceived(new Uint8Array(0)), undefined);
  assert.deepEqual(lines, ["a", "stop", "b"]);
});

Deno.test("LineReceiver stops parsing once the transport is disconnecting", () => {
  const lines: string[] = [];
  const [p, t] = connected(new LineReceiver());
  p.lineReceived = (line) => {
    lines.push(line);
    if (line === "quit") p.transport!.loseConnection();
  };
  p.dataReceived(bytes("a\r\nquit\r\nb\r\nc\r\n"));
  assert.deepEqual(lines, ["a", "quit"]);
  assert.equal(t.loseConnectionCalls, 1);
});

Deno.test("LineReceiver's default event methods throw NotImplementedError", () => {
  const p = new LineReceiver();
  assert.throws(() => p.lineReceived("foo"), { name: "NotImplementedError" });
  assert.throws(() => p.rawDataReceived(bytes("foo")), { name: "NotImplementedError" });
});

Deno.test("LineReceiver as a producer: one line per resumeProducing()", () => {
  class Consuming extends LineReceiver {
    override lineReceived(line: string): void {
      this.transport!.write(line);
      this.pauseProducing();
    }
  }
  const [p, t] = connected(new Consuming());
  const out = () => t.writes.map((w) => ascii.decode(w));
  p.dataReceived(bytes("hello, "));
  assert.deepEqual(out(), []);
  assert.equal(t.paused, false);
  assert.equal(p.paused, false);
  p.dataReceived(bytes("world\r\n"));
  assert.deepEqual(out(), ["hello, world"]);
  assert.equal(t.paused, true);
  assert.equal(p.paused, true);
  p.resumeProducing();
  assert.deepEqual(out(), ["hello, world"]);
  assert.equal(t.paused, false);
  assert.equal(p.paused, false);
  p.dataReceived(bytes("hello\r\nworld\r\n"));
  assert.deepEqual(out(), ["hello, world", "hello"]);
  assert.equal(p.paused, true);
  p.resumeProducing();
  assert.deepEqual(out(), ["hello, world", "hello", "world"]);
  assert.equal(t.paused, true);
  assert.equal(p.paused, true);
  p.dataReceived(bytes("goodbye\r\n"));
  assert.deepEqual(out(), ["hello, world", "hello", "world"]);
  p.resumeProducing();
  assert.deepEqual(out(), ["hello, world", "hello", "world", "goodbye"]);
  assert.equal(p.paused, true);
  p.resumeProducing();
  assert.deepEqual(out(), ["hello, world", "hello", "world", "goodbye"]);
  assert.equal(t.paused, false);
  assert.equal(p.paused, false);
  assert.equal(t.pauseCalls, 4);
  assert.equal(t.resumeCalls, 4);
});

Deno.test("LineReceiver decodes lines as UTF-8, invalid bytes as U+FFFD", () => {
  const lines: string[] = [];
  const p = new LineReceiver();
  p.lineReceived = (line) => void lines.push(line);
  const stream = concat([
    bytes("héllo ☃ 😀\r\n"),
    latin1("\xff\xfe bad\r\n"),
    latin1("cut \xe2\x98\r\n"), // a truncated snowman
    latin1("\xef\xbb\xbfbom\r\n"), // a byte-order mark is data
    latin1("\xc0\xaf overlong\r\n"),
  ]);
  const expected = [
    "héllo ☃ 😀",
    "\ufffd\ufffd bad",
    "cut \ufffd",
    "\ufeffbom",
    "\ufffd\ufffd overlong",
  ];
  for (const { name, chunks } of chunkings(stream, 5)) {
    lines.length = 0;
    for (const c of chunks) p.dataReceived(c);
    assert.deepEqual(lines, expected, name);
  }
});

Deno.test("LineReceiver takes its delimiter as a string or as bytes, changeable between lines", () => {
  const lines: string[] = [];
  const p = new LineReceiver();
  p.delimiter = Uint8Array.of(0, 0xff);
  p.lineReceived = (line) => {
    lines.push(line);
    if (line === "switch") p.delimiter = "||";
  };
  p.dataReceived(latin1("a\x00\xffb\x00c\x00\xffswitch\x00\xffd||e|"));
  p.dataReceived(bytes("|"));
  assert.deepEqual(lines, ["a", "b\u0000c", "switch", "d", "e"]);

  const q = new LineReceiver();
  q.delimiter = "";
  assert.throws(() => q.dataReceived(bytes("x")), RangeError);
});

Deno.test("LineReceiver.sendLine() writes the line and the delimiter in one write", () => {
  const [p, t] = connected(new LineReceiver());
  p.sendLine("héllo");
  p.sendLine(bytes("raw"));
  p.delimiter = Uint8Array.of(0);
  p.sendLine("z");
  assert.deepEqual(t.writes, [bytes("héllo\r\n"), bytes("raw\r\n"), latin1("z\x00")]);
  assert.throws(() => new LineReceiver().sendLine("x"), /no transport/);
});

Deno.test("LineReceiver.setLineMode(extra) parses extra before later data", () => {
  class Body extends LineReceiver {
    events: string[] = [];
    override lineReceived(line: string): void {
      this.events.push(`line ${line}`);
      if (line === "body") this.setRawMode();
    }
    override rawDataReceived(data: Uint8Array): void {
      this.events.push(`raw ${ascii.decode(data.subarray(0, 3))}`);
      this.setLineMode(data.subarray(3));
    }
  }
  const stream = bytes("a\r\nbody\r\nXYZb\r\nc\r\n");
  const [p] = connected(new Body());
  p.dataReceived(stream);
  assert.deepEqual(p.events, ["line a", "line body", "raw XYZ", "line b", "line c"]);
  assert.equal(p.lineMode, true);

  // Called outside parsing, it parses extra at once.
  const q = new LineReceiver();
  const lines: string[] = [];
  q.lineReceived = (line) => void lines.push(line);
  q.setRawMode();
  assert.equal(q.lineMode, false);
  q.setLineMode("x\r\ny\r\npart");
  assert.deepEqual(lines, ["x", "y"]);
  q.dataReceived(bytes("ial\r\n"));
  assert.deepEqual(lines, ["x", "y", "partial"]);
});

Deno.test("LineReceiver parses a large chunk of many lines in order", () => {
  const n = 50_000;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`line number ${i}\r\n`);
  const stream = bytes(parts.join(""));
  let count = 0;
  let ok = true;
  const p = new LineReceiver();
  p.lineReceived = (line) => {
    if (line !== `line number ${count}`) ok = false;
    count++;
  };
  p.dataReceived(stream.subarray(0, 1000));
  p.dataReceived(stream.subarray(1000));
  assert.equal(count, n);
  assert.ok(ok);
});

// --- Fuzz -------------------------------------------------------------------

const delimiters: Array<string | Uint8Array> = ["\r\n", "\n", "aab", Uint8Array.of(0xff, 0)];
const alphabet = latin1("aab\r\n\xff\x00\xc3\xa9x");
const asciiAlphabet = latin1("aab\r\n\x00x");

// The reference: the whole stream parsed at once, as Twisted would.
function lineOracle(stream: Uint8Array, delimiter: Uint8Array, max: number): string[] {
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
    events.push(`line ${hex(stream.subarray(pos, idx))}`);
    pos = idx + delimiter.length;
  }
}

Deno.test("LineReceiver survives 10000 garbage inputs with the events of the reference parser", () => {
  const random = rng(20220401);
  const encoder = new TextEncoder();
  let exceededCount = 0;
  let lineCount = 0;
  for (let n = 0; n < 10_000; n++) {
    const d = delimiters[n % delimiters.length];
    const max = randInt(random, 1, 40);
    const length = randInt(random, 0, 80);
    const stream = new Uint8Array(length);
    // Half the inputs are ASCII, which takes the decoded-text fast path.
    const letters = Math.floor(n / 4) % 2 === 0 ? alphabet : asciiAlphabet;
    for (let i = 0; i < length; i++) stream[i] = letters[randInt(random, 0, letters.length - 1)];
    const dBytes = typeof d === "string" ? encoder.encode(d) : d;
    const expected = lineOracle(stream, dBytes, max).map((e) =>
      e === "exceeded" ? e : `line ${new TextDecoder().decode(hexBytes(e.slice(5)))}`
    );
    const events: string[] = [];
    const p = new LineReceiver();
    p.delimiter = d;
    p.MAX_LENGTH = max;
    p.lineReceived = (line) => void events.push(`line ${line}`);
    p.lineLengthExceeded = (line) => {
      events.push("exceeded");
      return LineReceiver.prototype.lineLengthExceeded.call(p, line);
    };
    const [, t] = connected(p);
    const chunks = n % 10 === 0
      ? randomChunks(stream, random, 1)
      : randomChunks(stream, random, randInt(random, 1, 24));
    feed(p, t, chunks);
    assert.deepEqual(events, expected, `input #${n}: ${hex(stream)} max ${max}`);
    assert.equal(t.disconnecting, expected.includes("exceeded"), `input #${n}`);
    assert.equal(t.loseConnectionCalls, expected.includes("exceeded") ? 1 : 0);
    if (expected.includes("exceeded")) exceededCount++;
    lineCount += expected.length;
  }
  assert.ok(exceededCount > 2000 && exceededCount < 8000, `${exceededCount} exceeded`);
  assert.ok(lineCount > 10000, `${lineCount} lines`);
});

function hexBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

Deno.test("LineReceiver gives the same events in every chunking of random mode-switching streams", () => {
  // A protocol whose lines "raw N" switch to raw mode for N bytes.
  class Switching extends LineReceiver {
    override delimiter = "\n";
    override MAX_LENGTH = 20;
    events: string[] = [];
    want = 0;
    raw: number[] = [];
    override lineReceived(line: string): void {
      this.events.push(`line ${line}`);
      const m = /^raw (\d+)$/.exec(line);
      if (m) {
        this.want = Number(m[1]);
        if (this.want > 0) this.setRawMode();
      }
    }
    override rawDataReceived(data: Uint8Array): void {
      const used = data.subarray(0, this.want);
      this.want -= used.length;
      this.raw.push(...used);
      if (this.want === 0) {
        this.events.push(`raw ${hex(Uint8Array.from(this.raw))}`);
        this.raw = [];
        this.setLineMode(data.subarray(used.length));
      }
    }
  }
  const random = rng(7);
  for (let n = 0; n < 300; n++) {
    const parts: Uint8Array[] = [];
    const count = randInt(random, 1, 30);
    for (let i = 0; i < count; i++) {
      if (random() < 0.4) {
        const k = randInt(random, 0, 12);
        const body = new Uint8Array(k);
        for (let j = 0; j < k; j++) body[j] = alphabet[randInt(random, 0, alphabet.length - 1)];
        parts.push(bytes(`raw ${k}\n`), body);
      } else {
        parts.push(bytes(`l${"z".repeat(randInt(random, 0, 8))}\n`));
      }
    }
    const stream = concat(parts);
    let reference: string[] | null = null;
    for (const { name, chunks } of chunkings(stream, n, 4)) {
      const [p, t] = connected(new Switching());
      feed(p, t, chunks);
      if (reference === null) reference = p.events;
      else assert.deepEqual(p.events, reference, `stream #${n}, ${name}`);
      assert.equal(t.disconnecting, false);
    }
  }
});

Deno.test("LineReceiver decodes big mixed chunks as line-by-line decoding would", () => {
  // Long and short lines, ASCII and not, valid and not, across decoding windows.
  const random = rng(99);
  const pieces = [
    bytes("plain ascii"),
    bytes("é"),
    bytes("😀"),
    latin1("\xff"),
    latin1("\xe2\x98"),
    bytes("\ufffd"),
  ];
  const lines: Uint8Array[] = [];
  for (let i = 0; i < 400; i++) {
    const long = random() < 0.05;
    const parts: Uint8Array[] = [];
    const n = long ? randInt(random, 500, 3000) : randInt(random, 0, 20);
    const asciiOnly = random() < 0.7;
    for (let k = 0; k < n; k++) {
      parts.push(asciiOnly ? pieces[0] : pieces[randInt(random, 0, pieces.length - 1)]);
    }
    lines.push(concat(parts));
  }
  const stream = concat(lines.flatMap((l) => [l, bytes("\r\n")]));
  const expected = lines.map((l) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(l));
  for (
    const chunks of [
      [stream],
      fixedChunks(stream, 1500),
      fixedChunks(stream, 65536),
      randomChunks(stream, random, 40000),
    ]
  ) {
    const got: string[] = [];
    const p = new LineReceiver();
    p.MAX_LENGTH = 1 << 20;
    p.lineReceived = (line) => void got.push(line);
    for (const c of chunks) p.dataReceived(c);
    assert.equal(got.length, expected.length);
    for (let i = 0; i < got.length; i++) assert.equal(got[i], expected[i], `line ${i}`);
  }
});

Deno.test("LineReceiver finds every delimiter in long ASCII streams, across decoding windows", () => {
  const random = rng(4242);
  for (const d of ["bab", "ab", "\n", "aab", "\r\n"]) {
    const delimiter = bytes(d);
    const alphabet = bytes("ab\nxy\r");
    const stream = Uint8Array.from({ length: 100_000 }, () => alphabet[randInt(random, 0, 5)]);
    // Now and then a long line, so that windows end at every kind of place.
    stream.fill(0x78, 30_000, 50_000);
    const expected = lineOracle(stream, delimiter, 1 << 20).map((e) =>
      `line ${new TextDecoder().decode(hexBytes(e.slice(5)))}`
    );
    for (
      const chunks of [
        [stream],
        fixedChunks(stream, 65536),
        fixedChunks(stream, 1500),
        randomChunks(stream, random, 40_000),
      ]
    ) {
      const got: string[] = [];
      const p = new LineReceiver();
      p.delimiter = d;
      p.MAX_LENGTH = 1 << 20;
      p.lineReceived = (line) => void got.push(`line ${line}`);
      for (const c of chunks) p.dataReceived(c);
      assert.equal(got.length, expected.length, `delimiter ${JSON.stringify(d)}`);
      assert.deepEqual(got, expected, `delimiter ${JSON.stringify(d)}`);
    }
  }
});
