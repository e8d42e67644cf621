import assert from "node:assert/strict";
import {
  _bind,
  _parseDescription,
  EndpointDescriptionError,
} from "../../reactor/_endpoint_parser.ts";

Deno.test("_parseDescription() cuts fields at colons and keys at the first '='", () => {
  const parsed = _parseDescription("TCP:80:interface=127.0.0.1:backlog=5");
  assert.equal(parsed.type, "tcp");
  assert.deepEqual(parsed.positional, ["80"]);
  assert.deepEqual([...parsed.keywords], [["interface", "127.0.0.1"], ["backlog", "5"]]);
  assert.deepEqual([..._parseDescription("x:k=a=b").keywords], [["k", "a=b"]]);
  assert.deepEqual(_parseDescription("x:").positional, [""]);
  assert.deepEqual(_parseDescription("x").positional, []);
});

Deno.test("_parseDescription() unescapes backslashes", () => {
  assert.deepEqual(_parseDescription("unix:C\\:\\\\sock").positional, ["C:\\sock"]);
  assert.deepEqual([..._parseDescription("x:a\\=b=c\\:d").keywords], [["a=b", "c:d"]]);
  assert.deepEqual(_parseDescription("x:\\x").positional, ["x"]);
});

Deno.test("_parseDescription() rejects malformed descriptions", () => {
  for (
    const [description, message] of [
      ["", /No endpoint type/],
      [":80", /No endpoint type/],
      ["a=b:80", /No endpoint type/],
      ["tcp:80\\", /trailing backslash/],
      ["tcp:=1", /empty key/],
      ["tcp:port=1:port=2", /key port given twice/],
    ] as const
  ) {
    assert.throws(() => _parseDescription(description), (e: unknown) => {
      assert.ok(e instanceof EndpointDescriptionError);
      assert.equal(e.description, description);
      assert.match(e.message, message);
      assert.ok(e.message.includes(JSON.stringify(description)));
      return true;
    });
  }
  assert.throws(() => _parseDescription(80 as unknown as string), TypeError);
});

Deno.test("_bind() binds positional fields then keywords, as Python binds arguments", () => {
  const names = ["port", "interface", "backlog"];
  const bind = (d: string) => Object.fromEntries(_bind(d, _parseDescription(d), names));
  assert.deepEqual(bind("tcp:80:lo:5"), { port: "80", interface: "lo", backlog: "5" });
  assert.deepEqual(bind("tcp:backlog=5:port=80"), { port: "80", backlog: "5" });
  assert.throws(() => bind("tcp:80:port=81"), /port given twice/);
  assert.throws(() => bind("tcp:1:2:3:4"), /Too many fields for tcp/);
  assert.throws(() => bind("tcp:80:colour=red"), /Unknown key colour for tcp/);
});
