import assert from "node:assert/strict";
import {
  type AmpBox,
  BoxParser,
  encodeBox,
  MalformedAmpBox,
  parseBoxes,
  TooLong,
} from "../../../protocols/mod.ts";
import { chunkings, hex, randInt, rng } from "../_framing_fakes.ts";

const text = new TextDecoder();

function show(box: AmpBox): string {
  return [...box].map(([k, v]) => `${k}=${hex(v)}`).join(",");
}

/** Parses `chunks`, returning the boxes and the error, if any. */
function parse(chunks: Uint8Array[], maxBoxLength?: number): { boxes: string[]; error?: TooLong } {
  const boxes: string[] = [];
  let error: TooLong | undefined;
  const parser = new BoxParser({
    onBox: (box) => void boxes.push(show(box)),
    onError: (e) => void (error = e),
    maxBoxLength,
  });
  for (const chunk of chunks) parser.dataReceived(chunk);
  return { boxes, error };
}

const STREAM = Uint8Array.from([
  ...encodeBox(new Map([["_command", "Sum"], ["_ask", "1"], ["a", "13"], ["b", "81"]])),
  ...encodeBox(new Map()),
  ...encodeBox(new Map([["k\u00e9y", Uint8Array.from({ length: 256 }, (_, i) => i)]])),
  ...encodeBox(new Map([["x".repeat(255), ""]])),
]);
const BIG = encodeBox(new Map([["big", new Uint8Array(65535).fill(7)]]));

Deno.test("encodeBox() writes Twisted's bytes: sorted keys, 16-bit lengths, an empty key", () => {
  const bytes = encodeBox(new Map([["b", "81"], ["_command", "Sum"], ["a", "13"], ["_ask", "1"]]));
  const expected = "\x00\x04_ask\x00\x011\x00\x08_command\x00\x03Sum" +
    "\x00\x01a\x00\x0213\x00\x01b\x00\x0281\x00\x00";
  assert.deepEqual([...bytes], [...expected].map((c) => c.charCodeAt(0)));
});

Deno.test("encodeBox() refuses an empty key, a key over 255 bytes, a value over 65,535", () => {
  for (const [key, value] of [["", "v"], ["k".repeat(256), "v"], ["é".repeat(128), "v"]]) {
    assert.throws(() => encodeBox(new Map([[key, value]])), TooLong, JSON.stringify(key));
  }
  assert.throws(() => encodeBox(new Map([["k", new Uint8Array(65536)]])), {
    name: "TooLong",
    message: 'The local value for key "k" is too long: 65536 bytes (at most 65535)',
  });
  assert.equal(encodeBox(new Map([["k".repeat(255), new Uint8Array(65535)]])).length, 65535 + 261);
});

Deno.test("BoxParser gives the same boxes for every split of the stream", async (t) => {
  const whole = parse([STREAM]);
  assert.equal(whole.boxes.length, 4);
  assert.equal(whole.error, undefined);
  assert.equal(whole.boxes[0], "_ask=31,_command=53756d,a=3133,b=3831");
  assert.equal(whole.boxes[1], "");
  await t.step("cut once at every byte", () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const got = parse([STREAM.subarray(0, cut), STREAM.subarray(cut)]);
      assert.deepEqual(got, whole, `cut at ${cut}`);
    }
  });
  await t.step("cut twice at every pair of places in the small boxes", () => {
    const small = STREAM.subarray(0, 300);
    const expected = parse([small]);
    for (let a = 0; a <= small.length; a++) {
      for (let b = a; b <= small.length; b += 3) {
        const got = parse([small.subarray(0, a), small.subarray(a, b), small.subarray(b)]);
        assert.deepEqual(got, expected, `cuts at ${a} and ${b}`);
      }
    }
  });
  await t.step("one byte at a time, fixed sizes and random chunkings", () => {
    for (const { name, chunks } of chunkings(STREAM, 12)) {
      assert.deepEqual(parse(chunks), whole, name);
    }
  });
  await t.step("a value of 65,535 bytes, cut around its prefix and one byte at a time", () => {
    const big = parse([BIG]);
    assert.equal(big.boxes.length, 1);
    for (const cut of [1, 2, 3, 4, 5, 6, 7, 8, 9, 1000, BIG.length - 2, BIG.length - 1]) {
      assert.deepEqual(parse([BIG.subarray(0, cut), BIG.subarray(cut)]), big, `cut at ${cut}`);
    }
    assert.deepEqual(parse(Array.from(BIG, (b) => Uint8Array.of(b))), big, "one byte at a time");
  });
});

Deno.test("BoxParser: a key over 255 bytes is TooLong and stops parsing, in every split", () => {
  const bad = Uint8Array.from([...encodeBox(new Map([["a", "1"]])), 0x01, 0x00, 0x61, 0, 0]);
  for (let cut = 0; cut <= bad.length; cut++) {
    const got = parse([bad.subarray(0, cut), bad.subarray(cut), encodeBox(new Map())]);
    assert.deepEqual(got.boxes, ["a=31"], `cut at ${cut}`);
    assert.ok(got.error instanceof TooLong);
    assert.equal(got.error.message, "The remote key is too long: 256 bytes (at most 255)");
    assert.equal(got.error.isKey, true);
    assert.equal(got.error.isLocal, false);
  }
});

Deno.test("BoxParser: a box over maxBoxLength is TooLong before its bytes arrive", () => {
  const box = encodeBox(new Map([["a", new Uint8Array(1000)]]));
  assert.deepEqual(parse([box], box.length).boxes.length, 1);
  const got = parse([box.subarray(0, 7)], box.length - 1);
  assert.deepEqual(got.boxes, []);
  assert.match(got.error!.message, /The remote box is too long: 1007 bytes \(at most 1006\)/);
});

Deno.test("BoxParser without onError throws TooLong from dataReceived", () => {
  const parser = new BoxParser({ onBox: () => {} });
  assert.throws(() => parser.dataReceived(Uint8Array.of(0xff, 0xff)), TooLong);
  assert.equal(parser.error?.name, "TooLong");
  parser.dataReceived(encodeBox(new Map())); // ignored from now on
});

Deno.test("BoxParser: keys are UTF-8 text, or one character per byte when not UTF-8", () => {
  const { boxes } = parse([Uint8Array.of(0, 2, 0xc3, 0xa9, 0, 0, 0, 2, 0xff, 0x41, 0, 0, 0, 0)]);
  assert.deepEqual(boxes, ["\u00e9=,\u00ffA="]);
});

Deno.test("BoxParser: 5000 garbage streams give boxes or TooLong, never another error", () => {
  const random = rng(77);
  let errors = 0;
  for (let n = 0; n < 5000; n++) {
    const stream = Uint8Array.from(
      { length: randInt(random, 0, 200) },
      () => random() < 0.5 ? 0 : randInt(random, 0, 255),
    );
    const chunked = [];
    for (let i = 0; i < stream.length;) {
      const size = randInt(random, 1, 9);
      chunked.push(stream.subarray(i, i + size));
      i += size;
    }
    const got = parse(chunked);
    assert.deepEqual(got, parse([stream]), `stream ${hex(stream)}`);
    if (got.error !== undefined) errors++;
  }
  assert.ok(errors > 100, `${errors} streams broke a limit`);
});

Deno.test("BoxParser: onBox may feed the parser again; the data is parsed after", () => {
  const order: string[] = [];
  const parser: BoxParser = new BoxParser({
    onBox: (box) => {
      order.push(text.decode(box.get("n")));
      if (order.length === 1) parser.dataReceived(encodeBox(new Map([["n", "3"]])));
    },
  });
  parser.dataReceived(Uint8Array.from([
    ...encodeBox(new Map([["n", "1"]])),
    ...encodeBox(new Map([["n", "2"]])),
  ]));
  assert.deepEqual(order, ["1", "2", "3"]);
});

Deno.test("parseBoxes() reads whole boxes and refuses bytes that end inside one", () => {
  assert.deepEqual(parseBoxes(new Uint8Array(0)), []);
  assert.equal(parseBoxes(STREAM).length, 4);
  for (let cut = 1; cut < 40; cut++) {
    assert.throws(() => parseBoxes(STREAM.subarray(0, cut)), MalformedAmpBox, `cut ${cut}`);
  }
  assert.throws(() => parseBoxes(Uint8Array.of(1, 0)), TooLong);
});
