import assert from "node:assert/strict";
import {
  InvalidNetworkProtocol,
  InvalidProxyHeader,
  MissingAddressData,
} from "../../reactor/proxy_header_errors.ts";
import { V1Parser } from "../../reactor/proxy_v1_parser.ts";
import { concat, feedChunks, splits, text } from "./_proxy_headers.ts";

const decoder = new TextDecoder();

Deno.test("V1Parser reads TCP4 and TCP6 headers and hands on the bytes after them", async (t) => {
  const cases: Array<[string, string, number, string, number]> = [
    ["PROXY TCP4 192.0.2.7 198.51.100.1 56324 443", "192.0.2.7", 56324, "198.51.100.1", 443],
    ["PROXY TCP4 255.255.255.255 0.0.0.0 65535 0", "255.255.255.255", 65535, "0.0.0.0", 0],
    ["PROXY TCP6 2001:db8::7 2001:db8::1 40000 8080", "2001:db8::7", 40000, "2001:db8::1", 8080],
    // Canonical form, as Deno reports addresses.
    ["PROXY TCP6 2001:DB8:0:0:0:0:0:7 ::1 1 2", "2001:db8::7", 1, "::1", 2],
  ];
  for (const [line, sHost, sPort, dHost, dPort] of cases) {
    await t.step(line, () => {
      const header = text(`${line}\r\n`);
      const { info, rest } = new V1Parser().feed(concat(header, text("GET /")))!;
      assert.deepEqual(info.source, { type: "TCP", host: sHost, port: sPort });
      assert.deepEqual(info.destination, { type: "TCP", host: dHost, port: dPort });
      assert.equal(info.version, 1);
      assert.equal(info.command, "PROXY");
      assert.deepEqual(info.header, header);
      assert.equal(decoder.decode(rest), "GET /");
    });
  }
});

Deno.test("V1Parser gives no addresses for UNKNOWN, with or without fields", () => {
  for (
    const line of ["PROXY UNKNOWN", "PROXY UNKNOWN ffff::1 ffff::2 65535 65535", "PROXY UNKNOWN x"]
  ) {
    const { info } = new V1Parser().feed(text(`${line}\r\n`))!;
    assert.equal(info.source, null);
    assert.equal(info.destination, null);
  }
});

Deno.test("V1Parser accepts the longest header, 107 bytes", () => {
  const f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const line = `PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`;
  assert.equal(line.length, 107);
  assert.notEqual(new V1Parser().feed(text(line)), null);
});

Deno.test("V1Parser gives the same result in every split", () => {
  const stream = text("PROXY TCP6 2001:db8::7 2001:db8::1 40000 8080\r\nhello");
  for (const chunks of splits(stream)) {
    const { result, after } = feedChunks(new V1Parser(), chunks);
    assert.deepEqual(result!.info.source, { type: "TCP", host: "2001:db8::7", port: 40000 });
    assert.equal(decoder.decode(after), "hello");
  }
});

Deno.test("V1Parser refuses a bad header at the first byte that shows it", async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ["GET / HTTP/1.1\r\n", 1, /must start with "PROXY ", not "G"/],
    ["PROXYTCP4", 6, /must start with "PROXY "/],
    ["PROXY TCP4 1.2.3.4\n", 19, /a LF without CR at byte 18/],
    ["PROXY TCP4\r1", 12, /a CR without LF at byte 11/],
    ["PROXY \u0000", 7, /printable ASCII, not byte 0x00 at byte 6/],
    ["PROXY \u00e9", 7, /printable ASCII/],
    [`PROXY ${"x".repeat(101)}`, 107, /No CRLF within the 107 bytes/],
  ];
  for (const [input, refusedAt, message] of cases) {
    await t.step(JSON.stringify(input), () => {
      const bytes = Uint8Array.from(input, (c) => c.charCodeAt(0));
      const parser = new V1Parser();
      for (let i = 0; i < bytes.length; i++) {
        if (i + 1 < refusedAt) {
          assert.equal(parser.feed(bytes.subarray(i, i + 1)), null, `byte ${i}`);
        } else {
          assert.throws(() => parser.feed(bytes.subarray(i, i + 1)), message);
          break;
        }
      }
    });
  }
});

Deno.test("V1Parser.parse() refuses bad fields with the documented errors", async (t) => {
  const cases: Array<[string, typeof InvalidProxyHeader, RegExp]> = [
    ["PROXY", InvalidProxyHeader, /must start with "PROXY "/],
    ["proxy TCP4 1.2.3.4 5.6.7.8 1 2", InvalidProxyHeader, /must start with "PROXY "/],
    ["PROXY TCP5 1.2.3.4 5.6.7.8 1 2", InvalidNetworkProtocol, /Unknown protocol "TCP5"/],
    ["PROXY ", InvalidNetworkProtocol, /Unknown protocol ""/],
    ["PROXY  TCP4 1.2.3.4 5.6.7.8 1 2", InvalidNetworkProtocol, /Unknown protocol ""/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1", MissingAddressData, /4 fields after the protocol, not 3/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3", MissingAddressData, /not 5/],
    ["PROXY TCP4 1.2.3.4  5.6.7.8 1 2", MissingAddressData, /not 5/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ", MissingAddressData, /not 5/],
    ["PROXY TCP4 1.2.3.256 5.6.7.8 1 2", MissingAddressData, /source address "1.2.3.256"/],
    ["PROXY TCP4 01.2.3.4 5.6.7.8 1 2", MissingAddressData, /source address "01.2.3.4"/],
    ["PROXY TCP4 ::1 5.6.7.8 1 2", MissingAddressData, /source address "::1"/],
    ["PROXY TCP6 1.2.3.4 ::1 1 2", MissingAddressData, /source address "1.2.3.4"/],
    ["PROXY TCP6 ::1 ::g 1 2", MissingAddressData, /destination address "::g"/],
    ["PROXY TCP6 ::1 fe80::1%eth0 1 2", MissingAddressData, /destination address/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 01 2", MissingAddressData, /source port "01"/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 65536", MissingAddressData, /destination port "65536"/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 -1 2", MissingAddressData, /source port "-1"/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 0x10", MissingAddressData, /destination port "0x10"/],
  ];
  for (const [line, type, message] of cases) {
    await t.step(line, () => {
      assert.throws(() => V1Parser.parse(text(line)), (error: unknown) => {
        assert.ok(error instanceof type, `${error} is a ${type.name}`);
        assert.match((error as Error).message, message);
        return true;
      });
    });
  }
});
