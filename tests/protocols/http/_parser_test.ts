import assert from "node:assert/strict";
import {
  HTTPResponseParser,
  MAX_EMPTY_LINES,
  MAX_HEADER_BYTES,
  MAX_INTERIM_RESPONSES,
  type ParserEnd,
  type ResponseHead,
} from "../../../protocols/http/_parser.ts";
import { BadResponseVersion, ParseError } from "../../../protocols/http/parse_error.ts";
import { chunkings, concat, latin1, randInt, rng } from "../_framing_fakes.ts";

// --- A recorder ------------------------------------------------------------------

/** What one parse gave, normalised so that every chunking gives the same. */
interface Outcome {
  head: ResponseHead | null;
  body: string;
  done: { rest: string; trailers: Array<readonly [string, string]> } | null;
  error: { name: string; reason: string } | null;
  end: ParserEnd;
}

const text = (b: Uint8Array): string => String.fromCharCode(...b);

/** Feeds `chunks` to a new parser, then ends the connection; checks the event order. */
function parse(chunks: Uint8Array[], method = "GET", maxHeaderBytes?: number): Outcome {
  const outcome: Outcome = { head: null, body: "", done: null, error: null, end: "failed" };
  const bodyParts: string[] = [];
  const restParts: string[] = [];
  const parser = new HTTPResponseParser({
    head(head) {
      assert.equal(outcome.head, null, "head reported twice");
      outcome.head = { ...head, headers: head.headers.map(([n, v]) => [n, v] as const) };
    },
    body(data) {
      assert.notEqual(outcome.head, null, "body before head");
      assert.equal(outcome.done, null, "body after done");
      assert.ok(data.length > 0, "empty body piece");
      bodyParts.push(text(data));
    },
    done(rest, trailers) {
      assert.notEqual(outcome.head, null, "done before head");
      assert.equal(outcome.done, null, "done reported twice");
      restParts.push(text(rest));
      outcome.done = { rest: "", trailers: trailers.map(([n, v]) => [n, v] as const) };
    },
  }, { method, maxHeaderBytes });
  for (const chunk of chunks) {
    const wasDone = outcome.done !== null;
    try {
      parser.feed(chunk);
    } catch (error) {
      assert.ok(error instanceof ParseError, `not a ParseError: ${error}`);
      outcome.error = { name: error.name, reason: error.reason };
      break;
    }
    // Bytes after the end are not the parser's: they come back as `rest` once.
    if (wasDone) restParts.push(text(chunk));
  }
  outcome.end = parser.connectionLost();
  // A second call finds the parser settled: finished, or failed for good.
  const settled = outcome.end === "complete" || outcome.end === "potentialDataLoss";
  assert.equal(parser.connectionLost(), settled ? "complete" : "failed");
  outcome.body = bodyParts.join("");
  if (outcome.done !== null) outcome.done.rest = restParts.join("");
  return outcome;
}

/** Parses `wire` in every chunking and checks they all agree; returns the outcome. */
function parseEveryWay(wire: string, method = "GET", maxHeaderBytes?: number): Outcome {
  const stream = latin1(wire);
  const whole = parse([stream], method, maxHeaderBytes);
  for (const { name, chunks } of chunkings(stream, wire.length)) {
    assert.deepEqual(parse(chunks, method, maxHeaderBytes), whole, `chunking ${name}`);
  }
  return whole;
}

function headers(outcome: Outcome): Array<readonly [string, string]> {
  return [...outcome.head!.headers];
}

// --- Valid responses ---------------------------------------------------------------

Deno.test("HTTPResponseParser reads a Content-Length body in every chunking", () => {
  const o = parseEveryWay(
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
  );
  assert.deepEqual(o.head!.version, ["HTTP", 1, 1]);
  assert.equal(o.head!.code, 200);
  assert.equal(o.head!.phrase, "OK");
  assert.equal(o.head!.bodyMode, "length");
  assert.equal(o.head!.length, 11);
  assert.equal(o.head!.persistent, true);
  assert.deepEqual(headers(o), [["Content-Type", "text/plain"], ["Content-Length", "11"]]);
  assert.equal(o.body, "hello world");
  assert.deepEqual(o.done, { rest: "", trailers: [] });
  assert.equal(o.end, "complete");
  assert.equal(o.error, null);
});

Deno.test("HTTPResponseParser decodes chunked bodies, ignoring extensions and keeping trailers", () => {
  const o = parseEveryWay(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;name=value\r\nhello\r\n1A \r\n" + "abcdefghijklmnopqrstuvwxyz\r\n" +
      "0\r\nExpires: never\r\nX-Sum: 31\r\n\r\n",
  );
  assert.equal(o.head!.bodyMode, "chunked");
  assert.equal(o.head!.length, undefined);
  assert.equal(o.body, "helloabcdefghijklmnopqrstuvwxyz");
  assert.deepEqual(o.done!.trailers, [["Expires", "never"], ["X-Sum", "31"]]);
  assert.equal(o.end, "complete");
});

Deno.test("HTTPResponseParser lets Transfer-Encoding win over Content-Length, and closes after", () => {
  // RFC 9112 section 6.3: read as chunked, and do not reuse the connection.
  const o = parseEveryWay(
    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: Chunked\r\n" +
      "Connection: keep-alive\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  );
  assert.equal(o.head!.bodyMode, "chunked");
  assert.equal(o.head!.length, undefined);
  assert.equal(o.head!.persistent, false);
  assert.equal(o.body, "abc");
  assert.equal(o.end, "complete");
});

Deno.test("HTTPResponseParser reads an HTTP/1.0 body until the connection closes", () => {
  const o = parseEveryWay("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this is the body\r\n\r\n");
  assert.deepEqual(o.head!.version, ["HTTP", 1, 0]);
  assert.equal(o.head!.bodyMode, "close");
  assert.equal(o.head!.persistent, false);
  assert.equal(o.body, "all of this is the body\r\n\r\n");
  assert.equal(o.done, null);
  assert.equal(o.end, "potentialDataLoss");
});

Deno.test("HTTPResponseParser reads an HTTP/1.1 body without a length until the close", () => {
  const o = parseEveryWay("HTTP/1.1 200 OK\r\n\r\nbody");
  assert.equal(o.head!.bodyMode, "close");
  assert.equal(o.head!.persistent, false);
  assert.equal(o.body, "body");
  assert.equal(o.end, "potentialDataLoss");
});

Deno.test("HTTPResponseParser expects no body for HEAD, 204 and 304", async (t) => {
  await t.step("HEAD, with the Content-Length of the GET", () => {
    const o = parseEveryWay("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", "HEAD");
    assert.equal(o.head!.bodyMode, "none");
    assert.equal(o.head!.length, 0);
    assert.deepEqual(headers(o), [["Content-Length", "1000"]]);
    assert.equal(o.body, "");
    assert.deepEqual(o.done, { rest: "", trailers: [] });
    assert.equal(o.end, "complete");
  });
  for (const code of [204, 304]) {
    await t.step(`${code}, even with a Content-Length`, () => {
      const o = parseEveryWay(`HTTP/1.1 ${code} Whatever\r\nContent-Length: 5\r\n\r\n`);
      assert.equal(o.head!.code, code);
      assert.equal(o.head!.bodyMode, "none");
      assert.equal(o.end, "complete");
    });
  }
  await t.step("Content-Length: 0", () => {
    const o = parseEveryWay("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert.equal(o.head!.bodyMode, "none");
    assert.equal(o.head!.length, 0);
    assert.equal(o.end, "complete");
  });
});

Deno.test("HTTPResponseParser skips 1xx interim responses", () => {
  const o = parseEveryWay(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" +
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
  );
  assert.equal(o.head!.code, 201);
  assert.deepEqual(headers(o), [["Content-Length", "2"]]);
  assert.equal(o.body, "ok");
});

Deno.test("HTTPResponseParser skips up to MAX_INTERIM_RESPONSES interim responses", () => {
  const o = parseEveryWay(
    "HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_INTERIM_RESPONSES) +
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  );
  assert.equal(o.head!.code, 200);
  assert.equal(o.body, "ok");
  assert.equal(o.error, null);
});

Deno.test("HTTPResponseParser takes status codes 000 to 099 as final responses", async (t) => {
  for (const code of ["000", "042", "099"]) {
    await t.step(`${code} with a Content-Length`, () => {
      const o = parseEveryWay(`HTTP/1.1 ${code} Odd\r\nContent-Length: 2\r\n\r\nok`);
      assert.equal(o.head!.code, Number(code));
      assert.equal(o.head!.phrase, "Odd");
      assert.equal(o.head!.bodyMode, "length");
      assert.equal(o.body, "ok");
      assert.equal(o.end, "complete");
    });
  }
  await t.step("099 without a length reads to the close", () => {
    const o = parseEveryWay("HTTP/1.1 099\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
    assert.equal(o.head!.code, 99);
    assert.equal(o.body, "HTTP/1.1 200 OK\r\n\r\n");
    assert.equal(o.end, "potentialDataLoss");
  });
});

Deno.test("HTTPResponseParser ignores empty lines before a status line (RFC 9112 2.2)", async (t) => {
  const cases: Array<[string, string]> = [
    ["one CRLF", "\r\n"],
    ["one LF", "\n"],
    ["CRLF and LF mixed", "\r\n\n\r\n"],
    [`${MAX_EMPTY_LINES} of them`, "\r\n".repeat(MAX_EMPTY_LINES)],
  ];
  for (const [name, empty] of cases) {
    await t.step(`${name}, before the first status line`, () => {
      const o = parseEveryWay(`${empty}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`);
      assert.equal(o.head!.code, 200);
      assert.equal(o.body, "ok");
      assert.equal(o.end, "complete");
    });
    await t.step(`${name}, after a 100 Continue (as aiohttp sends)`, () => {
      const o = parseEveryWay(
        `HTTP/1.1 100 Continue\r\n\r\n${empty}HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok`,
      );
      assert.equal(o.head!.code, 201);
      assert.equal(o.body, "ok");
    });
  }
});

Deno.test("HTTPResponseParser accepts status lines without a reason phrase", async (t) => {
  for (const line of ["HTTP/1.1 200", "HTTP/1.1 200 "]) {
    await t.step(JSON.stringify(line), () => {
      const o = parseEveryWay(`${line}\r\nContent-Length: 0\r\n\r\n`);
      assert.equal(o.head!.code, 200);
      assert.equal(o.head!.phrase, "");
    });
  }
  await t.step("a phrase with spaces", () => {
    const o = parseEveryWay("HTTP/1.1 404 Not  Found here\r\nContent-Length: 0\r\n\r\n");
    assert.equal(o.head!.phrase, "Not  Found here");
  });
});

Deno.test("HTTPResponseParser keeps repeated headers and joins folded lines", () => {
  const o = parseEveryWay(
    "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Long: first\r\n  second\r\n\tthird\r\n" +
      "set-cookie: b=2\r\nEmpty:\r\nSpaces:   padded  \r\nContent-Length: 0\r\n\r\n",
  );
  assert.deepEqual(headers(o), [
    ["Set-Cookie", "a=1"],
    ["X-Long", "first second third"],
    ["set-cookie", "b=2"],
    ["Empty", ""],
    ["Spaces", "padded"],
    ["Content-Length", "0"],
  ]);
});

Deno.test("HTTPResponseParser accepts bare LF line endings in the head", () => {
  const o = parseEveryWay("HTTP/1.1 200 OK\nContent-Length: 3\n\nabc");
  assert.equal(o.body, "abc");
  assert.equal(o.end, "complete");
});

Deno.test("HTTPResponseParser decodes header values byte for byte (ISO-8859-1)", () => {
  const o = parseEveryWay(
    "HTTP/1.1 200 \xe9t\xe9\r\nX-Bytes: \x80\xff\xc3\xa9\r\nContent-Length: 0\r\n\r\n",
  );
  assert.equal(o.head!.phrase, "\xe9t\xe9");
  assert.deepEqual(headers(o)[0], ["X-Bytes", "\x80\xff\xc3\xa9"]);
});

Deno.test("HTTPResponseParser hands back the bytes after the response", async (t) => {
  await t.step("after a Content-Length body", () => {
    const o = parseEveryWay("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n");
    assert.equal(o.body, "ok");
    assert.equal(o.done!.rest, "HTTP/1.1 200 OK\r\n");
  });
  await t.step("after a chunked body", () => {
    const o = parseEveryWay("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nextra");
    assert.equal(o.done!.rest, "extra");
  });
  await t.step("after a response without a body", () => {
    const o = parseEveryWay("HTTP/1.1 204 No Content\r\n\r\nextra", "GET");
    assert.equal(o.done!.rest, "extra");
  });
});

Deno.test("HTTPResponseParser works out whether the connection persists", async (t) => {
  const cases: Array<[string, boolean]> = [
    ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.1 200 OK\r\nConnection: Upgrade, Close\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", false],
  ];
  for (const [wire, persistent] of cases) {
    await t.step(JSON.stringify(wire.split("\r\n").slice(0, 2).join(" | ")), () => {
      assert.equal(parseEveryWay(wire).head!.persistent, persistent);
    });
  }
});

Deno.test("HTTPResponseParser accepts agreeing repeated Content-Length values", () => {
  const o = parseEveryWay(
    "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 003\r\n\r\nabc",
  );
  assert.equal(o.head!.length, 3);
  assert.equal(o.body, "abc");
});

Deno.test("HTTPResponseParser hands body bytes over as views of the fed chunk", () => {
  const wire = latin1("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody");
  let seen: Uint8Array | undefined;
  new HTTPResponseParser({ head() {}, body: (b) => (seen = b), done() {} }).feed(wire);
  assert.equal(seen!.buffer, wire.buffer);
  assert.equal(text(seen!), "body");
});

Deno.test("HTTPResponseParser.stop() ends delivery, even inside feed()", () => {
  const events: string[] = [];
  const parser = new HTTPResponseParser({
    head: () => events.push("head"),
    body: (b) => {
      events.push(text(b));
      parser.stop();
    },
    done: () => events.push("done"),
  });
  parser.feed(
    latin1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n"),
  );
  parser.feed(latin1("more"));
  // Tiny chunks from one feed are reported together, so "a" and "b" arrive as one.
  assert.deepEqual(events, ["head", "ab"]);
  assert.equal(parser.connectionLost(), "failed");
});

Deno.test("HTTPResponseParser.stop() inside feed() stops before the next large chunk", () => {
  const events: string[] = [];
  const a = "a".repeat(100);
  const parser = new HTTPResponseParser({
    head: () => events.push("head"),
    body: (b) => {
      events.push(text(b));
      parser.stop();
    },
    done: () => events.push("done"),
  });
  parser.feed(
    latin1(
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n${a}\r\n1\r\nb\r\n0\r\n\r\n`,
    ),
  );
  assert.deepEqual(events, ["head", a]);
  assert.equal(parser.connectionLost(), "failed");
});

Deno.test("HTTPResponseParser reports a body of tiny chunks once per feed, in fresh views", () => {
  const bodies: Uint8Array[] = [];
  let done = 0;
  const parser = new HTTPResponseParser({
    head: () => {},
    body: (b) => bodies.push(b),
    done: () => done++,
  });
  const chunks = Array.from(
    { length: 500 },
    (_, i) => `1\r\n${String.fromCharCode(97 + i % 26)}\r\n`,
  );
  parser.feed(latin1(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n`));
  parser.feed(latin1(chunks.slice(0, 250).join("")));
  parser.feed(latin1(chunks.slice(250).join("") + "0\r\n\r\n"));
  assert.equal(bodies.length, 2, "one report per feed");
  assert.equal(done, 1);
  const want = chunks.map((c) => c[3]).join("");
  assert.equal(bodies.map(text).join(""), want, "kept views were not overwritten");
});

// --- Ends of connection -------------------------------------------------------------

Deno.test("HTTPResponseParser.connectionLost() says how the response stood", async (t) => {
  const cases: Array<[string, string, ParserEnd]> = [
    ["nothing received", "", "noResponse"],
    ["part of the status line", "HTTP/1.1 2", "incompleteHead"],
    ["part of the headers", "HTTP/1.1 200 OK\r\nContent-Le", "incompleteHead"],
    ["only an interim response", "HTTP/1.1 100 Continue\r\n\r\n", "incompleteHead"],
    ["a short Content-Length body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "dataLoss"],
    [
      "a chunked body without its last chunk",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
      "dataLoss",
    ],
    [
      "a chunked body in its trailers",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n",
      "dataLoss",
    ],
    ["a close-delimited body", "HTTP/1.0 200 OK\r\n\r\nabc", "potentialDataLoss"],
    ["a complete response", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", "complete"],
  ];
  for (const [name, wire, end] of cases) {
    await t.step(name, () => assert.equal(parseEveryWay(wire).end, end));
  }
});

// --- Malformed responses -------------------------------------------------------------

Deno.test("HTTPResponseParser throws ParseError for malformed responses, in every chunking", async (t) => {
  const big = "X-Big: " + "a".repeat(MAX_HEADER_BYTES) + "\r\n";
  const cases: Array<[string, string, string, RegExp]> = [
    ["no status code", "HTTP/1.1\r\n\r\n", "ParseError", /no status code/],
    ["not HTTP", "ICY 200 OK\r\n\r\n", "BadResponseVersion", /Not an HTTP version/],
    ["HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", "BadResponseVersion", /not supported/],
    ["garbage version", "HTTP/1.x 200 OK\r\n\r\n", "BadResponseVersion", /Not an HTTP version/],
    ["a 4-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "ParseError", /not 3 digits/],
    ["a word for a status", "HTTP/1.1 OK\r\n\r\n", "ParseError", /not 3 digits/],
    [
      "too many empty lines before the status line",
      "\r\n".repeat(MAX_EMPTY_LINES + 1) + "HTTP/1.1 200 OK\r\n\r\n",
      "ParseError",
      /More than 16 empty lines before the status line/,
    ],
    [
      "too many empty lines after an interim response",
      "HTTP/1.1 100 Continue\r\n\r\n" + "\n".repeat(MAX_EMPTY_LINES + 1) +
      "HTTP/1.1 200 OK\r\n\r\n",
      "ParseError",
      /More than 16 empty lines/,
    ],
    [
      "an endless stream of 100 Continue",
      "HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_INTERIM_RESPONSES + 1),
      "ParseError",
      /More than 100 interim \(1xx\) responses/,
    ],
    [
      "more interim responses than the limit, even with a final one after",
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n".repeat(MAX_INTERIM_RESPONSES + 1) +
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      "ParseError",
      /More than 100 interim/,
    ],
    ["a header without a colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "ParseError", /no colon/],
    [
      "a space in a header name",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "ParseError",
      /Invalid header name/,
    ],
    [
      "a space before the colon",
      "HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
      "ParseError",
      /Invalid header name/,
    ],
    ["an empty header name", "HTTP/1.1 200 OK\r\n: x\r\n\r\n", "ParseError", /Invalid header name/],
    [
      "a fold before any header",
      "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
      "ParseError",
      /before any header/,
    ],
    ["a NUL in a header", "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", "ParseError", /CR or NUL/],
    ["a bare CR in a header", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "ParseError", /CR or NUL/],
    [
      "a bad Content-Length",
      "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
      "ParseError",
      /Invalid Content-Length/,
    ],
    [
      "a negative Content-Length",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "ParseError",
      /Invalid Content-Length/,
    ],
    [
      "conflicting Content-Lengths",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "ParseError",
      /Conflicting/,
    ],
    [
      "a huge Content-Length",
      "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
      "ParseError",
      /too large/,
    ],
    [
      "an unknown transfer coding",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "ParseError",
      /Unsupported transfer coding/,
    ],
    [
      "a bad chunk size",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "ParseError",
      /not a hexadecimal/,
    ],
    [
      "an empty chunk size",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
      "ParseError",
      /not a hexadecimal/,
    ],
    [
      "a signed chunk size",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n",
      "ParseError",
      /not a hexadecimal/,
    ],
    [
      "a huge chunk size",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
      "ParseError",
      /not a hexadecimal/,
    ],
    [
      "a chunk size line ending in LF",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n",
      "ParseError",
      /CRLF/,
    ],
    [
      "a chunk without its CRLF",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n",
      "ParseError",
      /not followed by CRLF/,
    ],
    [
      "a chunk followed by LF only",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n",
      "ParseError",
      /not followed by CRLF/,
    ],
    [
      "a control byte in a chunk extension",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;\x01\r\nabc\r\n",
      "ParseError",
      /chunk extensions/,
    ],
    [
      "a long chunk size line",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;" + "x".repeat(2000),
      "ParseError",
      /longer than 1024/,
    ],
    [
      "a trailer without a colon",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad\r\n\r\n",
      "ParseError",
      /trailer line has no colon/,
    ],
    ["headers over the limit", `HTTP/1.1 200 OK\r\n${big}\r\n`, "ParseError", /longer than 65536/],
    [
      "a status line over the limit",
      `HTTP/1.1 200 ${"x".repeat(MAX_HEADER_BYTES)}`,
      "ParseError",
      /longer than 65536/,
    ],
    [
      "trailers over the limit",
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${big}`,
      "ParseError",
      /Trailers are longer/,
    ],
  ];
  for (const [name, wire, errorName, reason] of cases) {
    await t.step(name, () => {
      const o = parseEveryWay(wire);
      assert.notEqual(o.error, null, "no error");
      assert.equal(o.error!.name, errorName);
      assert.match(o.error!.reason, reason);
      assert.equal(o.end, "failed");
    });
  }
});

Deno.test("HTTPResponseParser honours a smaller header limit", () => {
  const o = parseEveryWay("HTTP/1.1 200 OK\r\nX-A: 0123456789\r\n\r\n", "GET", 24);
  assert.match(o.error!.reason, /longer than 24 bytes/);
});

Deno.test("ParseError shows the reason and the offending bytes", () => {
  const e = new ParseError("Bad", latin1("a\r\n\x00\xff" + "z".repeat(100)));
  assert.equal(e.name, "ParseError");
  assert.equal(e.reason, "Bad");
  assert.match(e.message, /^Bad: "a\\r\\n\\u0000\\xffz+\.\.\." \(105 bytes\)$/);
  assert.ok(new BadResponseVersion("v", new Uint8Array()) instanceof ParseError);
});

// --- Fuzz ---------------------------------------------------------------------------

const VALID = [
  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n",
  "HTTP/1.0 200 OK\r\n\r\nclose-delimited",
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
  "HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
  "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\nnot found",
];
const VOCABULARY = [
  "HTTP/1.1 ",
  "HTTP/1.0 ",
  "HTTP/",
  "200",
  " OK",
  "\r\n",
  "\n",
  "\r",
  ":",
  " ",
  "\t",
  "Content-Length: ",
  "Transfer-Encoding: chunked",
  "Connection: close",
  "0",
  "5",
  "ff",
  "fffffffffffffffff",
  ";",
  "abc",
  "\x00",
  "\xff",
  "-1",
  "100 Continue",
  "304",
  "X-A: b",
];

function garbage(random: () => number): string {
  switch (randInt(random, 0, 2)) {
    case 0: { // random bytes
      let s = "";
      for (let i = randInt(random, 0, 200); i > 0; i--) {
        s += String.fromCharCode(randInt(random, 0, 255));
      }
      return s;
    }
    case 1: { // HTTP-ish words
      let s = "";
      for (let i = randInt(random, 1, 40); i > 0; i--) {
        s += VOCABULARY[randInt(random, 0, VOCABULARY.length - 1)];
      }
      return s;
    }
    default: { // a valid response, mutated
      const chars = [...VALID[randInt(random, 0, VALID.length - 1)]];
      for (let i = randInt(random, 1, 6); i > 0; i--) {
        const at = randInt(random, 0, chars.length);
        switch (randInt(random, 0, 3)) {
          case 0:
            chars[at] = String.fromCharCode(randInt(random, 0, 255));
            break;
          case 1:
            chars.splice(at, 0, VOCABULARY[randInt(random, 0, VOCABULARY.length - 1)]);
            break;
          case 2:
            chars.splice(at, randInt(random, 1, 4));
            break;
          default:
            chars.length = at; // truncated
        }
      }
      return chars.join("");
    }
  }
}

Deno.test("HTTPResponseParser survives 10,000 garbage responses with documented outcomes only", () => {
  const random = rng(20240607);
  const ends = new Set<ParserEnd>([
    "complete",
    "potentialDataLoss",
    "dataLoss",
    "incompleteHead",
    "noResponse",
    "failed",
  ]);
  const seen = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    const stream = latin1(garbage(random));
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < stream.length;) {
      const n = randInt(random, 1, 16);
      chunks.push(stream.subarray(at, at + n));
      at += n;
    }
    const method = random() < 0.1 ? "HEAD" : "GET";
    let o: Outcome;
    try {
      o = parse(chunks, method); // only ParseError may come out of feed()
    } catch (error) {
      throw new Error(`Garbage #${i} ${JSON.stringify(text(stream))}: ${error}`);
    }
    assert.ok(ends.has(o.end), `end ${o.end}`);
    if (o.error !== null) assert.equal(o.end, "failed");
    const key = o.error?.name ?? o.end;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  // The fuzz reaches the interesting outcomes, not only "failed".
  for (
    const key of ["ParseError", "BadResponseVersion", "complete", "dataLoss", "incompleteHead"]
  ) {
    assert.ok((seen.get(key) ?? 0) > 0, `no ${key} in ${JSON.stringify([...seen])}`);
  }
});

Deno.test("HTTPResponseParser parses a 1 MiB body fed in 1,000 pieces without copying", () => {
  const body = new Uint8Array(1 << 20).fill(0x62);
  const wire = concat([latin1(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
  let received = 0;
  let views = 0;
  let done = false;
  const parser = new HTTPResponseParser({
    head() {},
    body(b) {
      received += b.length;
      if (b.byteOffset !== 0 || b.length !== b.buffer.byteLength) views++;
    },
    done: () => (done = true),
  });
  const step = Math.ceil(wire.length / 1000);
  for (let i = 0; i < wire.length; i += step) parser.feed(wire.subarray(i, i + step));
  assert.equal(received, body.length);
  assert.ok(done);
  assert.ok(views > 0);
});
