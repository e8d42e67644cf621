import assert from "node:assert/strict";
import { NetstringParseError, NetstringReceiver } from "../../protocols/mod.ts";
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

// Twisted's TestNetstring: MAX_LENGTH 50, records strings and echoes them.
class TestNetstring extends NetstringReceiver {
  override MAX_LENGTH = 50;
  received: Uint8Array[] = [];
  errors: NetstringParseError[] = [];
  override stringReceived(s: Uint8Array): void {
    this.received.push(s.slice());
    this.transport?.write(s);
  }
  override handleParseError(error: NetstringParseError): void {
    this.errors.push(error);
    super.handleParseError(error);
  }
}

function connected(max?: number): [TestNetstring, FramingTransport] {
  const p = new TestNetstring();
  if (max !== undefined) p.MAX_LENGTH = max;
  const t = new FramingTransport();
  p.makeConnection(t);
  return [p, t];
}

function receive(input: string | Uint8Array, max?: number): [TestNetstring, FramingTransport] {
  const [p, t] = connected(max);
  p.dataReceived(typeof input === "string" ? latin1(input) : input);
  return [p, t];
}

const strings = ["hello", "world", "how", "are", "you123", ":today", "a".repeat(515)].map(bytes);

Deno.test("NetstringReceiver delivers the same strings in every chunking", () => {
  const [sender, st] = connected(699);
  for (const s of strings) sender.sendString(s);
  const stream = st.value();
  for (const { name, chunks } of chunkings(stream, 21)) {
    const [p, t] = connected(699);
    feed(p, t, chunks);
    assert.deepEqual(p.received, strings, name);
    assert.equal(t.disconnecting, false, name);
    assert.equal(p.brokenPeer, false, name);
  }
});

Deno.test("NetstringReceiver receives Twisted's valid netstrings", async (t) => {
  await t.step("empty", () => assert.deepEqual(receive("0:,")[0].received, [bytes("")]));
  await t.step("one character", () => assert.deepEqual(receive("1:a,")[0].received, [bytes("a")]));
  await t.step("two characters", () => {
    assert.deepEqual(receive("2:ab,")[0].received, [bytes("ab")]);
  });
  await t.step("nested", () => {
    assert.deepEqual(receive("4:1:a,,")[0].received, [bytes("1:a,")]);
  });
  await t.step("in two portions", () => {
    const [p] = connected();
    p.dataReceived(bytes("4:aa"));
    p.dataReceived(bytes("aa,"));
    assert.deepEqual(p.received, [bytes("aaaa")]);
  });
  await t.step("with the length split across portions", () => {
    const [p, tr] = connected();
    for (const part of ["1", "0:01234", "56789", ","]) p.dataReceived(bytes(part));
    assert.deepEqual(p.received, [bytes("0123456789")]);
    assert.equal(tr.disconnecting, false);
  });
  await t.step("one character at a time", () => {
    const [p] = connected();
    for (const part of ["2", ":", "a", "b", ","]) p.dataReceived(bytes(part));
    assert.deepEqual(p.received, [bytes("ab")]);
  });
  await t.step("two netstrings in two portions", () => {
    const [p] = connected();
    p.dataReceived(bytes("1:a,1"));
    assert.deepEqual(p.received, [bytes("a")]);
    p.dataReceived(bytes(":b,"));
    assert.deepEqual(p.received, [bytes("a"), bytes("b")]);
  });
  await t.step("binary payloads", () => {
    const payload = latin1("\x00\xff,:\r\n");
    const [p] = receive(concat([bytes("6:"), payload, bytes(",")]));
    assert.deepEqual(p.received, [payload]);
  });
});

const illegal: Array<[string, string | Uint8Array]> = [
  ["more data than announced", "2:aaa,"],
  ["data in an empty netstring", "0:a,"],
  ["no length", ":aaa,"],
  ["no colon", "3aaa,"],
  ["no length, no colon", "aaa,"],
  ["only data", "aaa"],
  ["letters", "abc"],
  ["a missing comma", "4:abcde"],
  ["a length over MAX_LENGTH", `51:${"a".repeat(50)}b,`],
  [
    "NUL bytes (Twisted's bytes(51))",
    concat([new Uint8Array(51), bytes(":"), bytes("a".repeat(51))]),
  ],
  ["a huge length", "9999999999999999999999"],
  ["a leading zero", "01:a,"],
  ["two zeros", "00:,"],
  ["a negative length", "-1:a,"],
  ["a space", " 1:a,"],
];

Deno.test("NetstringReceiver disconnects on Twisted's illegal netstrings, in every chunking", () => {
  for (const [what, input] of illegal) {
    const stream = typeof input === "string" ? latin1(input) : input;
    for (const { name, chunks } of chunkings(stream, 22, 4)) {
      const [p, t] = connected();
      for (const c of chunks) p.dataReceived(c);
      assert.equal(t.disconnecting, true, `${what}, ${name}`);
      assert.equal(t.loseConnectionCalls, 1, `${what}, ${name}`);
      assert.equal(p.brokenPeer, true, `${what}, ${name}`);
      assert.deepEqual(p.received, [], `${what}, ${name}`);
      assert.equal(p.errors.length, 1);
      assert.ok(p.errors[0] instanceof NetstringParseError);
      assert.equal(p.errors[0].name, "NetstringParseError");
    }
  }
});

Deno.test("NetstringReceiver accepts a length equal to MAX_LENGTH and refuses MAX_LENGTH + 1", () => {
  const [ok, okT] = receive("12:", 12);
  assert.equal(okT.disconnecting, false);
  assert.equal(ok.brokenPeer, false);
  ok.dataReceived(bytes("abcdefghijkl,"));
  assert.deepEqual(ok.received, [bytes("abcdefghijkl")]);

  const [bad, badT] = receive("12:", 11);
  assert.equal(badT.disconnecting, true);
  assert.ok(bad.errors[0] instanceof NetstringParseError);

  const [bad2] = receive("1000:", 11);
  assert.equal(bad2.brokenPeer, true);
});

Deno.test("NetstringReceiver refuses a too long length prefix before it ends", () => {
  // MAX_LENGTH 100000 allows ceil(log10(100000)) + 1 = 6 digits.
  const [p, t] = connected(100_000);
  for (const c of bytes("100000")) p.dataReceived(Uint8Array.of(c));
  assert.equal(t.disconnecting, false);
  p.dataReceived(bytes("0"));
  assert.equal(t.disconnecting, true);
  assert.match(p.errors[0].message, /longer than MAX_LENGTH/);

  // A value over MAX_LENGTH is refused as soon as its digits show it.
  const [q, qt] = connected(99_999);
  q.dataReceived(bytes("99999"));
  assert.equal(qt.disconnecting, false);
  q.dataReceived(bytes("9"));
  assert.equal(qt.disconnecting, true);

  // A megabyte of digits costs no parsing.
  const [r, rt] = connected();
  r.dataReceived(new Uint8Array(1 << 20).fill(0x31));
  assert.equal(rt.disconnecting, true);
  assert.equal(r.brokenPeer, true);
});

Deno.test("NetstringReceiver discards data after a parse error", () => {
  const [p, t] = receive("1:a,x");
  assert.deepEqual(p.received, [bytes("a")]);
  assert.equal(p.brokenPeer, true);
  p.dataReceived(bytes("1:b,"));
  assert.deepEqual(p.received, [bytes("a")]);
  assert.equal(p.errors.length, 1);
  assert.equal(t.loseConnectionCalls, 1);
  // A new connection starts afresh.
  p.makeConnection(new FramingTransport());
  assert.equal(p.brokenPeer, false);
  p.dataReceived(bytes("1:c,"));
  assert.deepEqual(p.received, [bytes("a"), bytes("c")]);
});

Deno.test("NetstringReceiver keeps delivering after stringReceived closes, as Twisted", () => {
  const [p, t] = connected();
  p.stringReceived = (s) => {
    p.received.push(s);
    t.loseConnection();
  };
  p.dataReceived(bytes("1:a,1:b,"));
  assert.deepEqual(p.received, [bytes("a"), bytes("b")]);
});

Deno.test("NetstringReceiver parses a nested dataReceived after the current chunk", () => {
  const [p] = connected();
  p.stringReceived = (s) => {
    p.received.push(s.slice());
    if (s[0] === 0x61) p.dataReceived(bytes("1:c,"));
  };
  p.dataReceived(bytes("1:a,1:b,"));
  assert.deepEqual(p.received, [bytes("a"), bytes("b"), bytes("c")]);
});

Deno.test("NetstringReceiver.sendString() frames bytes and UTF-8 strings", () => {
  const [p, t] = connected();
  p.sendString(bytes("hello"));
  p.sendString("");
  p.sendString("é");
  assert.deepEqual(t.writes, [bytes("5:hello,"), bytes("0:,"), bytes("2:é,")]);
  assert.throws(() => new NetstringReceiver().sendString("x"), /no transport/);
});

Deno.test("NetstringReceiver's default stringReceived throws NotImplementedError", () => {
  assert.throws(() => new NetstringReceiver().stringReceived(bytes("foo")), {
    name: "NotImplementedError",
  });
});

// The reference: Twisted's algorithm with regular expressions, on the whole stream.
function oracle(stream: Uint8Array, max: number): string[] {
  let data = String.fromCharCode(...stream);
  const maxSize = Math.ceil(Math.log10(max)) + 1;
  const events: string[] = [];
  const extract = (digits: string): number | null => {
    if (digits.length > maxSize) return null;
    const n = Number(digits);
    return n > max ? null : n;
  };
  let expected = -1;
  let payload = "";
  while (data.length > 0) {
    if (expected < 0) {
      const m = /^(0|[1-9]\d*)(:)/.exec(data);
      if (!m) {
        const partial = /^(0|[1-9]\d*)$/.exec(data);
        if (!partial || extract(partial[1]) === null) events.push("error");
        return events;
      }
      const n = extract(m[1]);
      if (n === null) {
        events.push("error");
        return events;
      }
      expected = n + 1;
      payload = "";
      data = data.slice(m[0].length);
    }
    const take = Math.min(expected - payload.length, data.length);
    payload += data.slice(0, take);
    data = data.slice(take);
    if (payload.length < expected) return events;
    if (!payload.endsWith(",")) {
      events.push("error");
      return events;
    }
    events.push(`string ${hex(latin1(payload.slice(0, -1)))}`);
    expected = -1;
  }
  return events;
}

/** Netstrings, then a few random mutations, or pure garbage. */
function garbageNetstrings(random: () => number): Uint8Array {
  const alphabet = latin1("0123456789:,a\xff");
  const pick = () => alphabet[randInt(random, 0, alphabet.length - 1)];
  if (random() < 0.2) {
    return Uint8Array.from({ length: randInt(random, 0, 40) }, pick);
  }
  const parts: number[] = [];
  const count = randInt(random, 0, 6);
  for (let i = 0; i < count; i++) {
    const n = random() < 0.1 ? randInt(random, 0, 200) : randInt(random, 0, 12);
    parts.push(...bytes(`${n}:`), ...Array.from({ length: n }, pick), 0x2c);
  }
  const mutations = random() < 0.3 ? 0 : randInt(random, 1, 3);
  for (let i = 0; i < mutations && parts.length > 0; i++) {
    const at = randInt(random, 0, parts.length - 1);
    const kind = randInt(random, 0, 2);
    if (kind === 0) parts[at] = pick();
    else if (kind === 1) parts.splice(at, 1);
    else parts.splice(at, 0, pick());
  }
  return Uint8Array.from(parts);
}

Deno.test("NetstringReceiver survives 10000 garbage inputs with the events of the reference parser", () => {
  const random = rng(1997);
  const maxes = [1, 5, 9, 10, 11, 12, 50, 99, 100, 101, 99999];
  let brokenCount = 0;
  for (let n = 0; n < 10_000; n++) {
    const stream = garbageNetstrings(random);
    const max = maxes[n % maxes.length];
    const expected = oracle(stream, max);
    const events: string[] = [];
    const p = new NetstringReceiver();
    p.MAX_LENGTH = max;
    p.stringReceived = (s) => void events.push(`string ${hex(s)}`);
    p.handleParseError = (e) => {
      assert.ok(e instanceof NetstringParseError);
      events.push("error");
      NetstringReceiver.prototype.handleParseError.call(p, e);
    };
    const t = new FramingTransport();
    p.makeConnection(t);
    feed(p, t, randomChunks(stream, random, n % 10 === 0 ? 1 : randInt(random, 1, 24)));
    const label = `input #${n}: ${JSON.stringify(String.fromCharCode(...stream))} max ${max}`;
    assert.deepEqual(events, expected, label);
    const broken = expected.includes("error");
    if (broken) brokenCount++;
    assert.equal(p.brokenPeer, broken, label);
    assert.equal(t.loseConnectionCalls, broken ? 1 : 0, label);
  }
  // Both outcomes are well represented.
  assert.ok(brokenCount > 2000 && brokenCount < 8000, `${brokenCount} broken`);
});
