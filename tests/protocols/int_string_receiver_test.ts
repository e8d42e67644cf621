import assert from "node:assert/strict";
import {
  Int16StringReceiver,
  Int32StringReceiver,
  Int8StringReceiver,
  IntNStringReceiver,
  StringTooLongError,
} from "../../protocols/mod.ts";
import {
  bytes,
  chunkings,
  concat,
  feed,
  FramingTransport,
  hex,
  latin1,
  randInt,
  randomChunks,
  rng,
} from "./_framing_fakes.ts";

type Receiver = Int8StringReceiver | Int16StringReceiver | Int32StringReceiver;
type ReceiverClass = new () => Receiver;

// Twisted's TestMixin: MAX_LENGTH 50, records strings and limit events.
function tester(cls: ReceiverClass, max = 50): {
  p: Receiver;
  t: FramingTransport;
  received: Uint8Array[];
  limits: number[];
} {
  const p = new cls();
  p.MAX_LENGTH = max;
  const received: Uint8Array[] = [];
  const limits: number[] = [];
  p.stringReceived = (s) => void received.push(s.slice());
  p.lengthLimitExceeded = (n) => {
    limits.push(n);
    IntNStringReceiver.prototype.lengthLimitExceeded.call(p, n);
  };
  const t = new FramingTransport();
  p.makeConnection(t);
  return { p, t, received, limits };
}

function prefix(size: number, n: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--, n = Math.floor(n / 256)) out[i] = n & 0xff;
  return out;
}

function frame(size: number, s: Uint8Array): Uint8Array {
  return concat([prefix(size, s.length), s]);
}

const cases: Array<{
  cls: ReceiverClass;
  size: 1 | 2 | 4;
  illegal: string;
  partial: string[];
}> = [
  {
    cls: Int32StringReceiver,
    size: 4,
    illegal: "\x10\x00\x00\x00aaaaaa",
    partial: ["\x00\x00\x00", "hello there", ""],
  },
  {
    cls: Int16StringReceiver,
    size: 2,
    illegal: "\x10\x00aaaaaa",
    partial: ["\x00", "hello there", ""],
  },
  { cls: Int8StringReceiver, size: 1, illegal: "\x00\x00aaaaaa", partial: ["\x08", "dzadz", ""] },
];

for (const { cls, size, illegal, partial } of cases) {
  const name = cls.name;

  Deno.test(`${name} delivers the same strings in every chunking`, () => {
    const strings = [
      bytes("a"),
      bytes("b".repeat(16)),
      new Uint8Array(0),
      latin1("\x00\xff\r\n"),
      bytes("z".repeat(50)),
    ];
    const stream = concat(strings.map((s) => frame(size, s)));
    for (const { name: how, chunks } of chunkings(stream, size)) {
      const { p, t, received } = tester(cls);
      feed(p, t, chunks);
      assert.deepEqual(received, strings, how);
      assert.equal(t.disconnecting, false, how);
    }
  });

  Deno.test(`${name} delivers nothing for a partial string`, () => {
    for (const s of partial) {
      const { p, received } = tester(cls);
      for (const c of latin1(s)) p.dataReceived(Uint8Array.of(c));
      assert.deepEqual(received, []);
    }
  });

  Deno.test(`${name} disconnects on a length over MAX_LENGTH`, () => {
    const { p, t, received } = tester(cls);
    for (const c of latin1(illegal)) p.dataReceived(Uint8Array.of(c));
    assert.equal(t.disconnecting, true);
    assert.ok(received.length <= 2);
  });

  Deno.test(`${name}.lengthLimitExceeded() gets the length, and the string is not delivered`, () => {
    const a = tester(cls, 10);
    a.p.dataReceived(prefix(size, 11));
    assert.deepEqual(a.limits, [11]);
    const b = tester(cls, 10);
    b.p.dataReceived(concat([prefix(size, 11), bytes("x".repeat(11))]));
    assert.deepEqual(b.received, []);
    assert.deepEqual(b.limits, [11]);
    assert.equal(b.t.disconnecting, true);
  });

  Deno.test(`${name} keeps the offending prefix: later data reports it again, delivers nothing`, () => {
    const p = new cls();
    p.MAX_LENGTH = 10;
    const received: string[] = [];
    const limits: number[] = [];
    p.stringReceived = (s) => void received.push(hex(s));
    p.lengthLimitExceeded = (n) => void limits.push(n); // does not disconnect
    p.makeConnection(new FramingTransport());
    p.dataReceived(concat([frame(size, bytes("ok")), prefix(size, 11), bytes("xx")]));
    p.dataReceived(frame(size, bytes("no")));
    assert.deepEqual(received, [hex(bytes("ok"))]);
    assert.deepEqual(limits, [11, 11]);
  });

  Deno.test(`${name}.sendString() writes the prefix and the string in one write`, () => {
    const { p, t } = tester(cls);
    p.sendString(bytes("b".repeat(16)));
    p.sendString("é");
    assert.deepEqual(t.writes, [frame(size, bytes("b".repeat(16))), frame(size, bytes("é"))]);
  });

  Deno.test(`${name} pauses delivery and resumes it`, () => {
    const { p, t } = tester(cls);
    const received: string[] = [];
    p.stringReceived = (s) => {
      received.push(new TextDecoder().decode(s));
      p.pauseProducing();
    };
    p.dataReceived(concat([frame(size, bytes("one")), frame(size, bytes("two"))]));
    assert.deepEqual(received, ["one"]);
    assert.equal(t.paused, true);
    p.dataReceived(frame(size, bytes("three")));
    assert.deepEqual(received, ["one"]);
    p.resumeProducing();
    assert.deepEqual(received, ["one", "two"]);
    p.resumeProducing();
    assert.deepEqual(received, ["one", "two", "three"]);
    p.resumeProducing();
    assert.equal(p.paused, false);
    assert.equal(t.paused, false);
    p.stopProducing();
    p.dataReceived(frame(size, bytes("four")));
    p.resumeProducing();
    assert.deepEqual(received, ["one", "two", "three"]);
    assert.equal(t.stopCalls, 1);
  });

  Deno.test(`${name} survives 10000 garbage inputs with the events of the reference parser`, () => {
    const random = rng(size * 1000 + 7);
    let limited = 0;
    for (let n = 0; n < 10_000; n++) {
      const max = randInt(random, 0, 20);
      const parts: number[] = [];
      const count = randInt(random, 0, 6);
      for (let i = 0; i < count; i++) {
        const len = random() < 0.15
          ? randInt(random, 0, 2 ** Math.min(8 * size, 16) - 1)
          : randInt(random, 0, 18);
        parts.push(
          ...prefix(size, len),
          ...Array.from({ length: Math.min(len, 25) }, () => randInt(random, 0, 255)),
        );
      }
      if (random() < 0.2) { for (let i = 0; i < 10; i++) parts.push(randInt(random, 0, 255)); }
      const stream = Uint8Array.from(parts);
      // The reference: the whole stream at once.
      const expected: string[] = [];
      for (let pos = 0; pos + size <= stream.length;) {
        let len = 0;
        for (let i = 0; i < size; i++) len = len * 256 + stream[pos + i];
        if (len > max) {
          expected.push(`limit ${len}`);
          break;
        }
        if (pos + size + len > stream.length) break;
        expected.push(`string ${hex(stream.subarray(pos + size, pos + size + len))}`);
        pos += size + len;
      }
      const events: string[] = [];
      const p = new cls();
      p.MAX_LENGTH = max;
      p.stringReceived = (s) => void events.push(`string ${hex(s)}`);
      p.lengthLimitExceeded = (len) => {
        events.push(`limit ${len}`);
        IntNStringReceiver.prototype.lengthLimitExceeded.call(p, len);
      };
      const t = new FramingTransport();
      p.makeConnection(t);
      feed(p, t, randomChunks(stream, random, n % 10 === 0 ? 1 : randInt(random, 1, 24)));
      const label = `input #${n}: ${hex(stream)} max ${max}`;
      assert.deepEqual(events, expected, label);
      const limit = expected.some((e) => e.startsWith("limit"));
      if (limit) limited++;
      assert.equal(t.loseConnectionCalls, limit ? 1 : 0, label);
    }
    assert.ok(limited > 2000 && limited < 8000, `${limited} over the limit`);
  });
}

Deno.test("Int32StringReceiver frames and parses Twisted's test data", () => {
  const { p, t, received } = tester(Int32StringReceiver);
  p.sendString(bytes("foo"));
  assert.deepEqual(t.value(), latin1("\x00\x00\x00\x03foo"));
  p.dataReceived(latin1("\x00\x00\x00\x04ubar"));
  assert.deepEqual(received, [bytes("ubar")]);
});

Deno.test("Int16StringReceiver frames and parses Twisted's test data", () => {
  const { p, t, received } = tester(Int16StringReceiver);
  p.sendString(bytes("foo"));
  assert.deepEqual(t.value(), latin1("\x00\x03foo"));
  p.dataReceived(latin1("\x00\x04ubar"));
  assert.deepEqual(received, [bytes("ubar")]);
});

Deno.test("Int8StringReceiver frames and parses Twisted's test data", () => {
  const { p, t, received } = tester(Int8StringReceiver);
  p.sendString(bytes("foo"));
  assert.deepEqual(t.value(), latin1("\x03foo"));
  p.dataReceived(latin1("\x04ubar"));
  assert.deepEqual(received, [bytes("ubar")]);
});

Deno.test("sendString() throws StringTooLongError when the length does not fit the prefix", () => {
  const i8 = tester(Int8StringReceiver);
  i8.p.sendString(new Uint8Array(255));
  assert.throws(() => i8.p.sendString(new Uint8Array(256)), StringTooLongError);
  assert.throws(() => i8.p.sendString(new Uint8Array(257)), { name: "StringTooLongError" });
  const i16 = tester(Int16StringReceiver);
  i16.p.sendString(new Uint8Array(65535));
  assert.throws(() => i16.p.sendString(new Uint8Array(65536 + 1)), StringTooLongError);
  assert.equal(i8.t.writes.length, 1);
  assert.equal(i16.t.writes.length, 1);
  assert.equal(i16.t.writes[0].length, 65537);
  assert.ok(new StringTooLongError("x") instanceof Error);
});

Deno.test("Int32StringReceiver reads lengths above 2**31 as unsigned", () => {
  const { p, limits } = tester(Int32StringReceiver);
  p.dataReceived(latin1("\xff\xff\xff\xff"));
  assert.deepEqual(limits, [2 ** 32 - 1]);
});

Deno.test("Int32StringReceiver parses a large chunk of many strings", () => {
  const { p, t } = tester(Int32StringReceiver, 99999);
  const n = 20_000;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) parts.push(frame(4, bytes(`message ${i}`)));
  let count = 0;
  let ok = true;
  const decoder = new TextDecoder();
  p.stringReceived = (s) => {
    if (decoder.decode(s) !== `message ${count}`) ok = false;
    count++;
  };
  const stream = concat(parts);
  p.dataReceived(stream.subarray(0, 1001));
  p.dataReceived(stream.subarray(1001));
  assert.equal(count, n);
  assert.ok(ok);
  assert.equal(t.disconnecting, false);
});

Deno.test("IntNStringReceiver parses a nested dataReceived after the current chunk", () => {
  const { p } = tester(Int8StringReceiver);
  const got: string[] = [];
  p.stringReceived = (s) => {
    got.push(new TextDecoder().decode(s));
    if (got.length === 1) p.dataReceived(latin1("\x01c"));
  };
  p.dataReceived(latin1("\x01a\x01b"));
  assert.deepEqual(got, ["a", "b", "c"]);
});

Deno.test("IntNStringReceiver's default stringReceived throws NotImplementedError", () => {
  assert.throws(() => new Int32StringReceiver().stringReceived(bytes("foo")), {
    name: "NotImplementedError",
  });
});
