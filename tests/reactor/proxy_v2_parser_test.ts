import assert from "node:assert/strict";
import {
  InvalidNetworkProtocol,
  InvalidProxyHeader,
  MissingAddressData,
} from "../../reactor/proxy_header_errors.ts";
import { V2Parser } from "../../reactor/proxy_v2_parser.ts";
import {
  concat,
  feedChunks,
  SIGNATURE,
  splits,
  text,
  tlv,
  u16,
  unixPath,
  v2,
} from "./_proxy_headers.ts";

const decoder = new TextDecoder();
const IPV4 = [192, 0, 2, 7, 198, 51, 100, 1, ...u16(56324), ...u16(443)];
const IPV6 = [
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
  ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  ...u16(40000),
  ...u16(8080),
];

Deno.test("V2Parser.SIGNATURE is the specification's and cannot break the parser", () => {
  assert.deepEqual(V2Parser.SIGNATURE, SIGNATURE);
  V2Parser.SIGNATURE[0] = 0;
  assert.notEqual(new V2Parser().feed(v2(0x20, 0)), null);
  V2Parser.SIGNATURE[0] = 0x0d;
});

Deno.test("V2Parser reads each family and transport", async (t) => {
  await t.step("TCP over IPv4", () => {
    const header = v2(0x21, 0x11, IPV4);
    const { info, rest } = new V2Parser().feed(concat(header, text("GET")))!;
    assert.deepEqual(info.source, { type: "TCP", host: "192.0.2.7", port: 56324 });
    assert.deepEqual(info.destination, { type: "TCP", host: "198.51.100.1", port: 443 });
    assert.equal(info.version, 2);
    assert.equal(info.command, "PROXY");
    assert.deepEqual(info.header, header);
    assert.equal(decoder.decode(rest), "GET");
  });
  await t.step("UDP over IPv4", () => {
    const { info } = new V2Parser().feed(v2(0x21, 0x12, IPV4))!;
    assert.deepEqual(info.source, { type: "UDP", host: "192.0.2.7", port: 56324 });
  });
  await t.step("TCP over IPv6, in canonical form", () => {
    const { info } = new V2Parser().feed(v2(0x21, 0x21, IPV6))!;
    assert.deepEqual(info.source, { type: "TCP", host: "2001:db8::7", port: 40000 });
    assert.deepEqual(info.destination, { type: "TCP", host: "::1", port: 8080 });
  });
  await t.step("UDP over IPv6", () => {
    const { info } = new V2Parser().feed(v2(0x21, 0x22, IPV6))!;
    assert.equal(info.source!.type, "UDP");
  });
  await t.step("UNIX stream and datagram", () => {
    for (const fam of [0x31, 0x32]) {
      const block = [...unixPath("/run/client.sock"), ...unixPath("/run/app.sock")];
      const { info } = new V2Parser().feed(v2(0x21, fam, block))!;
      assert.deepEqual(info.source, { type: "UNIX", path: "/run/client.sock" });
      assert.deepEqual(info.destination, { type: "UNIX", path: "/run/app.sock" });
    }
  });
  await t.step("an unspecified family or transport gives no addresses", () => {
    for (const fam of [0x00, 0x01, 0x10, 0x20, 0x30, 0x02]) {
      const { info } = new V2Parser().feed(v2(0x21, fam, IPV6))!;
      assert.equal(info.source, null, `family byte ${fam}`);
      assert.equal(info.destination, null);
      assert.equal(info.command, "PROXY");
    }
  });
});

Deno.test("V2Parser accepts LOCAL whatever its block holds, with no addresses", () => {
  for (const [fam, block] of [[0x00, []], [0x11, IPV4], [0xff, [1, 2, 3]]] as const) {
    const { info, rest } = new V2Parser().feed(concat(v2(0x20, fam, [...block]), text("x")))!;
    assert.equal(info.command, "LOCAL");
    assert.equal(info.source, null);
    assert.equal(info.destination, null);
    assert.equal(decoder.decode(rest), "x");
  }
});

Deno.test("V2Parser skips type-length-value fields, and checks their framing", () => {
  const tlvs = [
    ...tlv(0x01, [...text("h2")]), // ALPN
    ...tlv(0x02, [...text("example.com")]), // authority
    ...tlv(0x04, []), // no-op
    ...tlv(0x20, [0x05, 0, 0, 0, 0, ...tlv(0x21, [...text("TLSv1.3")])]), // SSL, nested
  ];
  const { info } = new V2Parser().feed(v2(0x21, 0x11, [...IPV4, ...tlvs]))!;
  assert.equal(info.source!.type === "TCP" && info.source!.host, "192.0.2.7");
  assert.throws(
    () => new V2Parser().feed(v2(0x21, 0x11, [...IPV4, 0x01, 0x00])),
    /ends inside a type-length-value field at byte 28/,
  );
  assert.throws(
    () => new V2Parser().feed(v2(0x21, 0x11, [...IPV4, 0x02, 0x00, 0x05, 1, 2])),
    /field 0x02 at byte 28 runs past the header's end/,
  );
});

Deno.test("V2Parser gives the same result in every split", async (t) => {
  const streams: Array<[string, Uint8Array]> = [
    ["IPv4 with a TLV", v2(0x21, 0x11, [...IPV4, ...tlv(0x04, [1, 2, 3])])],
    ["IPv6", v2(0x21, 0x21, IPV6)],
    ["LOCAL", v2(0x20, 0x00)],
  ];
  for (const [name, header] of streams) {
    await t.step(name, () => {
      const expected = new V2Parser().feed(header)!.info;
      const stream = concat(header, text("after"));
      for (const chunks of splits(stream)) {
        const { result, after } = feedChunks(new V2Parser(), chunks);
        assert.deepEqual(result!.info, expected);
        assert.equal(decoder.decode(after), "after");
      }
    });
  }
  await t.step("UNIX (232 bytes), in two pieces and byte by byte", () => {
    const header = v2(0x21, 0x31, [...unixPath("/a"), ...unixPath("/b")]);
    for (const chunks of splits(concat(header, text("z")), false)) {
      const { result, after } = feedChunks(new V2Parser(), chunks);
      assert.deepEqual(result!.info.source, { type: "UNIX", path: "/a" });
      assert.equal(decoder.decode(after), "z");
    }
  });
});

Deno.test("V2Parser refuses a bad header as soon as it shows", async (t) => {
  const sig = [...SIGNATURE];
  const cases: Array<[string, number[], number, RegExp]> = [
    ["a wrong signature byte", [...sig.slice(0, 4), 0x01], 5, /must start with its signature/],
    ["version 1", [...sig, 0x11], 13, /has version 1, not 2/],
    ["version 3", [...sig, 0x31], 13, /has version 3, not 2/],
    ["command 2", [...sig, 0x22], 13, /has command 2, not 0 \(LOCAL\) or 1 \(PROXY\)/],
    [
      "a header over the limit",
      [...sig, 0x21, 0x11, 0x10, 0x00],
      16,
      /4112 bytes is longer than the limit of 4096/,
    ],
  ];
  for (const [name, bytes, refusedAt, message] of cases) {
    await t.step(name, () => {
      const parser = new V2Parser(4096);
      for (let i = 0; i < bytes.length; i++) {
        const byte = new Uint8Array([bytes[i]]);
        if (i + 1 < refusedAt) assert.equal(parser.feed(byte), null, `byte ${i}`);
        else assert.throws(() => parser.feed(byte), message);
      }
    });
  }
});

Deno.test("V2Parser.parse() refuses bad headers with the documented errors", async (t) => {
  const cases: Array<[string, Uint8Array, typeof InvalidProxyHeader, RegExp]> = [
    ["too short", SIGNATURE, InvalidProxyHeader, /12 bytes is shorter than 16/],
    [
      "a length field that does not match",
      concat(v2(0x21, 0x11, IPV4), new Uint8Array(1)),
      InvalidProxyHeader,
      /29 bytes, but its length field says 28/,
    ],
    ["family 4", v2(0x21, 0x41, IPV4), InvalidNetworkProtocol, /byte 0x41/],
    ["transport 3", v2(0x21, 0x13, IPV4), InvalidNetworkProtocol, /byte 0x13/],
    [
      "a short IPv4 block",
      v2(0x21, 0x11, IPV4.slice(0, 11)),
      MissingAddressData,
      /IPv4 header needs 12 address bytes, not 11/,
    ],
    [
      "a short IPv6 block",
      v2(0x21, 0x21, IPV4),
      MissingAddressData,
      /IPv6 header needs 36 address bytes, not 12/,
    ],
    [
      "a short UNIX block",
      v2(0x21, 0x31, IPV6),
      MissingAddressData,
      /UNIX header needs 216 address bytes, not 36/,
    ],
  ];
  for (const [name, header, type, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => V2Parser.parse(header), (error: unknown) => {
        assert.ok(error instanceof type, `${error} is a ${type.name}`);
        assert.match((error as Error).message, message);
        return true;
      });
    });
  }
});

Deno.test("new V2Parser() checks its limit", () => {
  assert.throws(() => new V2Parser(231), RangeError);
  assert.throws(() => new V2Parser(65552), RangeError);
  assert.throws(() => new V2Parser(1000.5), RangeError);
  assert.equal(new V2Parser(232).maxLength, 232);
  assert.equal(new V2Parser().maxLength, 65551);
});
