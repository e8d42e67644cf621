import assert from "node:assert/strict";
import { InvalidProxyHeader } from "../../reactor/proxy_header_errors.ts";
import { ProxyHeaderParser } from "../../reactor/proxy_header_parser.ts";
import { randInt, rng } from "../protocols/_framing_fakes.ts";
import { concat, feedChunks, SIGNATURE, splits, text, u16, v2 } from "./_proxy_headers.ts";

const decoder = new TextDecoder();

const HEADERS: Array<[string, Uint8Array]> = [
  ["v1 TCP4", text("PROXY TCP4 127.0.0.2 127.0.0.1 40000 8080\r\n")],
  ["v1 UNKNOWN", text("PROXY UNKNOWN\r\n")],
  ["v2 TCP4", v2(0x21, 0x11, [127, 0, 0, 2, 127, 0, 0, 1, ...u16(40000), ...u16(8080)])],
  ["v2 LOCAL", v2(0x20, 0x00)],
];

Deno.test("ProxyHeaderParser reads either version in every split", async (t) => {
  for (const [name, header] of HEADERS) {
    await t.step(name, () => {
      const expected = new ProxyHeaderParser().feed(header)!.info;
      assert.equal(expected.version, name.startsWith("v1") ? 1 : 2);
      for (const chunks of splits(concat(header, text("data")))) {
        const { result, after } = feedChunks(new ProxyHeaderParser(), chunks);
        assert.deepEqual(result!.info, expected);
        assert.equal(decoder.decode(after), "data");
      }
    });
  }
});

Deno.test("ProxyHeaderParser ignores empty chunks and is ready again after a header", () => {
  const parser = new ProxyHeaderParser();
  assert.equal(parser.feed(new Uint8Array(0)), null);
  for (const [, header] of HEADERS) assert.notEqual(parser.feed(header), null);
});

Deno.test("ProxyHeaderParser refuses anything but a header at its first byte", () => {
  for (const input of ["GET / HTTP/1.1\r\n", "\u0016\u0003\u0001", "\n", "p"]) {
    const parser = new ProxyHeaderParser();
    assert.throws(
      () => parser.feed(text(input).subarray(0, 1)),
      (error: unknown) =>
        error instanceof InvalidProxyHeader &&
        /^Expected a PROXY protocol header, not "/.test(error.message),
    );
  }
});

Deno.test("ProxyHeaderParser shows what was sent as escaped ASCII, at most 16 bytes", () => {
  const cases: Array<[number[], string]> = [
    [[0x16, 0x03, 0x01, 0x00, 0xff], String.raw`"\x16\x03\x01\x00\xff"`],
    [[...text('G"\\\t\r\n')], String.raw`"G\"\\\t\r\n"`],
    [[...text("GET /index.html HTTP/1.1")], '"GET /index.html "...'],
  ];
  for (const [bytes, shown] of cases) {
    assert.throws(
      () => new ProxyHeaderParser().feed(new Uint8Array(bytes)),
      (error: unknown) =>
        (error as Error).message === `Expected a PROXY protocol header, not ${shown}`,
    );
  }
});

Deno.test("ProxyHeaderParser limits version 2 headers to maxLength", () => {
  const block = new Uint8Array(300);
  assert.notEqual(new ProxyHeaderParser().feed(v2(0x20, 0, block)), null);
  assert.throws(
    () => new ProxyHeaderParser({ maxLength: 300 }).feed(v2(0x20, 0, block)),
    /316 bytes is longer than the limit of 300/,
  );
  assert.throws(() => new ProxyHeaderParser({ maxLength: 100 }), RangeError);
  assert.equal(new ProxyHeaderParser().maxLength, 4096);
});

Deno.test("ProxyHeaderParser fed garbage gives only InvalidProxyHeader, the same in any split", () => {
  const random = rng(0x5eed);
  const counts = { ok: 0, refused: 0, waiting: 0 };
  // The outcome of one stream fed in pieces of `size`: the header, the error's class, or waiting.
  const outcome = (stream: Uint8Array, size: number): string => {
    const parser = new ProxyHeaderParser({ maxLength: 512 });
    try {
      for (let i = 0; i < stream.length; i += size) {
        const result = parser.feed(stream.subarray(i, i + size));
        if (result !== null) return `ok ${JSON.stringify(result.info)}`;
      }
      return "waiting";
    } catch (error) {
      assert.ok(error instanceof InvalidProxyHeader, `${error}`);
      return `refused ${error.name}`;
    }
  };
  for (let round = 0; round < 3000; round++) {
    const kind = round % 3;
    let stream: Uint8Array;
    if (kind === 0) {
      // Bytes that start like a header, then noise.
      const start = round % 2 ? text("PROXY ") : SIGNATURE;
      const noise = Uint8Array.from(
        { length: randInt(random, 0, 200) },
        () => randInt(random, 0, 255),
      );
      stream = concat(start.subarray(0, randInt(random, 0, start.length)), noise);
    } else {
      // A valid header with a few bytes changed or cut.
      const header = HEADERS[randInt(random, 0, HEADERS.length - 1)][1].slice();
      for (let n = randInt(random, 1, 3); n > 0; n--) {
        header[randInt(random, 0, header.length - 1)] = kind === 1
          ? randInt(random, 0, 255)
          : header[randInt(random, 0, header.length - 1)];
      }
      stream = header.subarray(0, randInt(random, 1, header.length));
    }
    const whole = outcome(stream, stream.length || 1);
    assert.equal(outcome(stream, 1), whole);
    assert.equal(outcome(stream, randInt(random, 2, 20)), whole);
    counts[whole.split(" ")[0] as keyof typeof counts]++;
  }
  // The garbage exercised every outcome.
  assert.ok(counts.ok > 0 && counts.refused > 0 && counts.waiting > 0, JSON.stringify(counts));
});
