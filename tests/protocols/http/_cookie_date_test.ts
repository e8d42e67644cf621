// parseCookieDate(): RFC 6265's forgiving date algorithm on the formats
// servers send, and on garbage.
import assert from "node:assert/strict";
import { parseCookieDate } from "../../../protocols/http/_cookie_date.ts";

const at = (y: number, mo: number, d: number, h: number, mi: number, s: number): number =>
  Date.UTC(y, mo - 1, d, h, mi, s);

Deno.test("parseCookieDate() reads the formats servers send", () => {
  const cases: [string, number][] = [
    ["Wed, 21 Oct 2015 07:28:00 GMT", at(2015, 10, 21, 7, 28, 0)],
    ["Wednesday, 21-Oct-15 07:28:00 GMT", at(2015, 10, 21, 7, 28, 0)],
    ["Wed Oct 21 07:28:00 2015", at(2015, 10, 21, 7, 28, 0)],
    ["21 October 1999 23:59:59", at(1999, 10, 21, 23, 59, 59)],
    ["Thu, 01-Jan-70 00:00:01 GMT", at(1970, 1, 1, 0, 0, 1)],
    ["1-jan-2069 1:2:3", at(2069, 1, 1, 1, 2, 3)],
    ["Fri, 31 Dec 9999 23:59:59 GMT", at(9999, 12, 31, 23, 59, 59)],
  ];
  for (const [text, expected] of cases) assert.equal(parseCookieDate(text), expected, text);
});

Deno.test("parseCookieDate() refuses what is no date", () => {
  for (
    const text of [
      "",
      "tomorrow",
      "Wed, 21 Oct 2015",
      "21 Foo 2015 07:28:00",
      "31 Feb 2015 07:28:00",
      "21 Oct 2015 24:00:00",
      "21 Oct 1600 07:28:00",
      "0 Oct 2015 07:28:00",
      "123 Oct 2015 07:28:00",
    ]
  ) {
    assert.equal(parseCookieDate(text), undefined, text);
  }
});

Deno.test("parseCookieDate() never throws on garbage", () => {
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < 2000; i++) {
    const chars = Array.from({ length: next() % 40 }, () => String.fromCharCode(next() % 128));
    const result = parseCookieDate(chars.join(""));
    assert.ok(result === undefined || Number.isFinite(result));
  }
});
