// Headers: a case-insensitive multi-map of names to values.
import assert from "node:assert/strict";
import { Headers } from "../../../protocols/mod.ts";

Deno.test("Headers: names are case-insensitive and keep their first spelling", () => {
  const headers = new Headers();
  headers.addRawHeader("Content-Type", "text/plain");
  headers.addRawHeader("content-type", "text/html");
  assert.deepEqual(headers.getRawHeaders("CONTENT-TYPE"), ["text/plain", "text/html"]);
  assert.deepEqual([...headers.getAllRawHeaders()], [["Content-Type", [
    "text/plain",
    "text/html",
  ]]]);
  headers.setRawHeaders("CONTENT-type", ["x"]);
  assert.deepEqual([...headers], [["CONTENT-type", ["x"]]]);
  headers.removeHeader("content-TYPE");
  assert.equal(headers.hasHeader("content-type"), false);
  assert.equal(headers.getRawHeaders("content-type"), undefined);
  assert.equal(headers.getRawHeaders("content-type", null), null);
});

Deno.test("Headers: copies are independent, and values are copied out", () => {
  const headers = new Headers([["A", "1"], ["B", ["2", "3"]]]);
  const copy = headers.copy();
  copy.addRawHeader("a", "more");
  headers.getRawHeaders("a")!.push("not stored");
  assert.deepEqual(headers.getRawHeaders("a"), ["1"]);
  assert.deepEqual(copy.getRawHeaders("a"), ["1", "more"]);
  assert.deepEqual(new Headers(new globalThis.Headers({ "x-y": "z" })).getRawHeaders("X-Y"), ["z"]);
});

Deno.test("Headers: invalid names and values throw TypeError", () => {
  const headers = new Headers();
  assert.throws(() => headers.addRawHeader("", "x"), TypeError);
  assert.throws(() => headers.addRawHeader("a b", "x"), TypeError);
  assert.throws(() => headers.addRawHeader("a", "x\ny"), TypeError);
  assert.throws(() => headers.setRawHeaders("a", ["ok", "x\0"]), TypeError);
  assert.equal(headers.hasHeader("a"), false);
});
