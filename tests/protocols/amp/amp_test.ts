import assert from "node:assert/strict";
import {
  AMP,
  command,
  encodeBox,
  Factory,
  Integer,
  InvalidSignature,
  MalformedAmpBox,
  NoEmptyBoxes,
  RemoteAmpError,
  TooLong,
  Unicode,
} from "../../../protocols/mod.ts";
import { Deferred } from "../../../defer/mod.ts";
import { Failure } from "../../../defer/failure.ts";
import { ConnectionDone, ConnectionLost } from "../../../reactor/connection_errors.ts";
import { setLogSink } from "../../../reactor/log.ts";
import {
  connectedServerAndClient,
  failureResultOf,
  successResultOf,
} from "../../../testing/mod.ts";
import { FramingTransport } from "../_framing_fakes.ts";
import {
  Divide,
  DivideByZero,
  Fail,
  Fatal,
  FatalError,
  Nope,
  Notified,
  Notify,
  Sum,
} from "./_commands.ts";

class Server extends AMP {
  notified: string[] = [];
  constructor() {
    super();
    this.respond(Sum, ({ a, b }) => ({ total: a + b }));
    this.respond(Divide, ({ numerator, denominator }) => {
      if (denominator === 0) throw new DivideByZero("no zeros");
      return { result: numerator / denominator };
    });
    this.respond(Fail, () => {
      throw new Error("a bug");
    });
    this.respond(Fatal, () => {
      throw new FatalError("the end");
    });
    this.respond(Notify, ({ text }) => {
      this.notified.push(text);
      return {};
    });
    this.respond(Notified, () => ({ texts: this.notified }));
  }
}

/** Runs `fn` with log lines captured. */
function logged<T>(fn: () => T): { result: T; lines: string[] } {
  const lines: string[] = [];
  const before = setLogSink((text) => void lines.push(text));
  try {
    return { result: fn(), lines };
  } finally {
    setLogSink(before);
  }
}

function pair() {
  return connectedServerAndClient(() => new Server(), () => new AMP());
}

Deno.test("AMP: a call is answered with the responder's values", () => {
  const { client, pump } = pair();
  const d = client.callRemote(Sum, { a: 13, b: 81 });
  pump.flush();
  assert.deepEqual(successResultOf(d), { total: 94 });
});

Deno.test("AMP: pipelined calls are answered in whatever order the responder finishes", () => {
  const waiting: Array<Deferred<{ total: number }>> = [];
  const server = new AMP().respond(Sum, () => {
    const d = new Deferred<{ total: number }>();
    waiting.push(d);
    return d;
  });
  const { client, pump } = connectedServerAndClient(() => server, () => new AMP());
  const calls = Array.from({ length: 100 }, (_, i) => client.callRemote(Sum, { a: i, b: 0 }));
  pump.flush();
  assert.equal(waiting.length, 100);
  const order: number[] = [];
  calls.forEach((d, i) =>
    d.addCallback((result) => {
      order.push(i);
      return result;
    })
  );
  for (let i = 99; i >= 0; i--) waiting[i].callback({ total: i });
  pump.flush();
  assert.deepEqual(order, Array.from({ length: 100 }, (_, i) => 99 - i));
  calls.forEach((d, i) => assert.deepEqual(successResultOf(d), { total: i }));
});

Deno.test("AMP: a mapped error comes back as its class; the connection stays up", () => {
  const { client, pump } = pair();
  const d = client.callRemote(Divide, { numerator: 1, denominator: 0 });
  pump.flush();
  const failure = failureResultOf(d, DivideByZero);
  assert.equal((failure.value as Error).message, "no zeros");
  const again = client.callRemote(Divide, { numerator: 3, denominator: 4 });
  pump.flush();
  assert.deepEqual(successResultOf(again), { result: 0.75 });
});

Deno.test("AMP: an unmapped error is logged, sent as UNKNOWN, and the connection closed", () => {
  const { client, server, pump } = pair();
  const pending = client.callRemote(Sum, { a: 1, b: 1 });
  const d = client.callRemote(Fail, {});
  const { lines } = logged(() => pump.flush());
  assert.deepEqual(successResultOf(pending), { total: 2 });
  const failure = failureResultOf(d, RemoteAmpError);
  assert.equal(failure.type?.name, "UnknownRemoteError");
  assert.deepEqual(
    [(failure.value as RemoteAmpError).errorCode, (failure.value as RemoteAmpError).description],
    ["UNKNOWN", "Unknown Error"],
  );
  assert.equal(lines.length, 1);
  assert.match(lines[0], /\[error\] amp: Fail failed with an error .*\n.*Error: a bug/);
  assert.equal(server.connected, false);
  failureResultOf(client.callRemote(Sum, { a: 1, b: 1 }), ConnectionDone);
});

Deno.test("AMP: a fatal error comes back as its class, then the connection closes", () => {
  const { client, server, pump } = pair();
  const d = client.callRemote(Fatal, {});
  pump.flush();
  assert.equal((failureResultOf(d, FatalError).value as Error).message, "the end");
  assert.equal(server.connected, false);
  assert.equal(client.connected, false);
});

Deno.test("AMP: an unknown command is UNHANDLED, with Twisted's description", () => {
  const { client, pump } = pair();
  const d = client.callRemote(Nope, {});
  pump.flush();
  const error = failureResultOf(d, RemoteAmpError).value as RemoteAmpError;
  assert.equal(error.name, "UnhandledCommand");
  assert.equal(error.errorCode, "UNHANDLED");
  assert.equal(error.description, "Unhandled Command: b'Nope'");
  assert.equal(client.connected, true);
});

Deno.test("AMP: an unmapped code keeps its code and description; RemoteAmpError travels as is", () => {
  const Quota = command("Quota", {}, {});
  const server = new AMP().respond(Quota, () => {
    throw new RemoteAmpError("QUOTA", "too many, café");
  });
  const { client, pump } = connectedServerAndClient(() => server, () => new AMP());
  const d = client.callRemote(Quota, {});
  pump.flush();
  const error = failureResultOf(d, RemoteAmpError).value as RemoteAmpError;
  assert.deepEqual([error.name, error.errorCode, error.description], [
    "RemoteAmpError",
    "QUOTA",
    "too many, café",
  ]);
  assert.equal(server.connected, true);
});

Deno.test("AMP: a command without an answer is sent without _ask and gets nothing back", () => {
  const { client, server, pump } = pair();
  assert.equal(client.callRemote(Notify, { text: "hi" }), undefined);
  pump.flush();
  assert.deepEqual((server as Server).notified, ["hi"]);
  assert.throws(() => client.callRemote(Notify, {} as { text: string }), InvalidSignature);
});

Deno.test("AMP: bad arguments fail the call at once and send nothing", () => {
  const transport = new FramingTransport();
  const amp = new AMP();
  amp.makeConnection(transport);
  failureResultOf(amp.callRemote(Sum, { a: 1 } as { a: number; b: number }), InvalidSignature);
  failureResultOf(
    amp.callRemote(Sum, { a: 1, b: 2, c: 3 } as { a: number; b: number }),
    InvalidSignature,
  );
  const f = failureResultOf(amp.callRemote(Sum, { a: 1.5, b: 2 }), TypeError);
  assert.match(f.getErrorMessage(), /Sum arguments: "a": Bad Integer value: 1.5/);
  assert.deepEqual(transport.writes, []);
});

Deno.test("AMP: the bytes of a call and its answer are Twisted's", () => {
  const transport = new FramingTransport();
  const amp = new AMP();
  amp.makeConnection(transport);
  const d = amp.callRemote(Sum, { a: 13, b: 81 });
  assert.deepEqual(
    transport.value(),
    encodeBox(new Map([["_ask", "1"], ["_command", "Sum"], ["a", "13"], ["b", "81"]])),
  );
  amp.dataReceived(encodeBox(new Map([["_answer", "1"], ["total", "94"], ["extra", "x"]])));
  assert.deepEqual(successResultOf(d), { total: 94 });
});

Deno.test("AMP: a whole conversation fed one byte at a time gives the same answers", () => {
  const transport = new FramingTransport();
  const server = new Server();
  server.makeConnection(transport);
  const stream = Uint8Array.from([
    ...encodeBox(new Map([["_ask", "a"], ["_command", "Sum"], ["a", "1"], ["b", "2"]])),
    ...encodeBox(new Map([["_command", "Notify"], ["text", "é"]])),
    ...encodeBox(
      new Map([["_ask", "b"], ["_command", "Divide"], ["numerator", "1"], ["denominator", "0"]]),
    ),
    ...encodeBox(new Map([["_ask", "c"], ["_command", "Notified"]])),
  ]);
  for (const byte of stream) server.dataReceived(Uint8Array.of(byte));
  const expected = Uint8Array.from([
    ...encodeBox(new Map([["_answer", "a"], ["total", "3"]])),
    ...encodeBox(
      new Map([["_error", "b"], ["_error_code", "ZERO_DIVISION"], [
        "_error_description",
        "no zeros",
      ]]),
    ),
    ...encodeBox(
      new Map<string, string | Uint8Array>([["_answer", "c"], [
        "texts",
        Uint8Array.of(0, 2, 0xc3, 0xa9),
      ]]),
    ),
  ]);
  assert.deepEqual(transport.value(), expected);
});

Deno.test("AMP: calls waiting when the connection is lost fail with its reason", () => {
  const transport = new FramingTransport();
  const amp = new AMP();
  amp.makeConnection(transport);
  const d1 = amp.callRemote(Sum, { a: 1, b: 2 });
  const d2 = amp.callRemote(Sum, { a: 3, b: 4 });
  amp.connectionLost(new Failure(new ConnectionLost()));
  failureResultOf(d1, ConnectionLost);
  failureResultOf(d2, ConnectionLost);
  failureResultOf(amp.callRemote(Sum, { a: 5, b: 6 }), ConnectionLost);
});

Deno.test("AMP: a peer breaking the protocol is disconnected; waiting calls fail with why", async (t) => {
  const cases: Array<[string, Uint8Array, new (...args: never[]) => Error, RegExp]> = [
    ["a key over 255 bytes", Uint8Array.of(1, 0, 0x61), TooLong, /remote key is too long: 256/],
    [
      "a box with no _command, _answer or _error",
      encodeBox(new Map([["x", "1"]])),
      NoEmptyBoxes,
      /keys: "x"/,
    ],
    ["an empty box", Uint8Array.of(0, 0), NoEmptyBoxes, /keys: none/],
    [
      "an answer to no question",
      encodeBox(new Map([["_answer", "99"]])),
      MalformedAmpBox,
      /never asked: "99"/,
    ],
    [
      "an error box with no code",
      encodeBox(new Map([["_error", "1"]])),
      MalformedAmpBox,
      /no _error_code/,
    ],
  ];
  for (const [name, bytes, type, message] of cases) {
    await t.step(name, () => {
      const transport = new FramingTransport();
      const amp = new AMP();
      amp.makeConnection(transport);
      const d = amp.callRemote(Sum, { a: 1, b: 2 });
      const { lines } = logged(() => amp.dataReceived(bytes));
      assert.equal(transport.loseConnectionCalls, 1);
      assert.match(lines[0], /\[warn\] amp: Closing the connection to 127\.0\.0\.1:2: /);
      amp.dataReceived(encodeBox(new Map([["_answer", "1"], ["total", "3"]]))); // ignored now
      amp.connectionLost(new Failure(new ConnectionDone()));
      const failure = failureResultOf(d, type);
      assert.match(failure.getErrorMessage(), message);
    });
  }
});

Deno.test("AMP: a box over maxBoxLength closes the connection", () => {
  const transport = new FramingTransport();
  const amp = new AMP();
  amp.maxBoxLength = 100;
  amp.makeConnection(transport);
  const { lines } = logged(() =>
    amp.dataReceived(encodeBox(new Map([["_command", "x".repeat(200)]])))
  );
  assert.equal(transport.loseConnectionCalls, 1);
  assert.match(lines[0], /remote box is too long/);
});

Deno.test("AMP: a responder may return a Promise or a Deferred, or fail one", async () => {
  const Slow = command("Slow", { text: Unicode }, { text: Unicode }, {
    errors: { BAD: RangeError },
  });
  const server = new AMP().respond(Slow, async ({ text }) => {
    await Promise.resolve();
    if (text === "bad") throw new RangeError("bad text");
    return { text: text.toUpperCase() };
  });
  const { client, pump } = connectedServerAndClient(() => server, () => new AMP());
  const ok = client.callRemote(Slow, { text: "shout" });
  const bad = client.callRemote(Slow, { text: "bad" });
  pump.flush();
  await new Promise((resolve) => setTimeout(resolve, 0));
  pump.flush();
  assert.deepEqual(await ok, { text: "SHOUT" });
  await assert.rejects(Promise.resolve(bad), { name: "RangeError", message: "bad text" });
});

Deno.test("AMP: a response that cannot be encoded is logged as BadLocalReturn and sent as UNKNOWN", () => {
  const server = new AMP().respond(Sum, () => ({ total: "many" as unknown as number }));
  const { client, pump } = connectedServerAndClient(() => server, () => new AMP());
  const d = client.callRemote(Sum, { a: 1, b: 2 });
  const { lines } = logged(() => pump.flush());
  assert.equal((failureResultOf(d, RemoteAmpError).value as RemoteAmpError).errorCode, "UNKNOWN");
  assert.match(
    lines[0],
    /BadLocalReturn: The responder for Sum returned a value that cannot be encoded/,
  );
});

Deno.test("AMP: bad arguments from the peer are UNKNOWN; a bad answer fails the call", () => {
  const transport = new FramingTransport();
  const server = new Server();
  server.makeConnection(transport);
  const { lines } = logged(() =>
    server.dataReceived(
      encodeBox(new Map([["_ask", "1"], ["_command", "Sum"], ["a", "x"], ["b", "1"]])),
    )
  );
  assert.match(lines[0], /TypeError: Sum arguments: "a": Bad Integer value: "x"/);
  assert.deepEqual(
    transport.value(),
    encodeBox(
      new Map([["_error", "1"], ["_error_code", "UNKNOWN"], [
        "_error_description",
        "Unknown Error",
      ]]),
    ),
  );

  const client = new AMP();
  client.makeConnection(new FramingTransport());
  const d = client.callRemote(Sum, { a: 1, b: 2 });
  client.dataReceived(encodeBox(new Map([["_answer", "1"], ["total", "9007199254740993"]])));
  assert.match(failureResultOf(d, RangeError).getErrorMessage(), /Sum response: "total": Integer/);
});

Deno.test("AMP: a cancelled call's late answer is ignored", () => {
  const { client, pump } = pair();
  const d = client.callRemote(Sum, { a: 1, b: 2 });
  d.cancel();
  failureResultOf(d);
  pump.flush();
  assert.equal(client.connected, true);
});

Deno.test("AMP: calling before the connection is made fails", () => {
  const amp = new AMP();
  assert.match(
    failureResultOf(amp.callRemote(Sum, { a: 1, b: 2 })).getErrorMessage(),
    /not made yet/,
  );
});

Deno.test("AMP: a factory builds connections that all have the responders", () => {
  const factory = Factory.forProtocol(Server);
  const address = { type: "TCP", host: "127.0.0.1", port: 1 } as const;
  const a = factory.buildProtocol(address) as Server;
  const b = factory.buildProtocol(address) as Server;
  for (const server of [a, b]) {
    const { client, pump } = connectedServerAndClient(() => server, () => new AMP());
    const d = client.callRemote(Sum, { a: 2, b: 2 });
    pump.flush();
    assert.deepEqual(successResultOf(d), { total: 4 });
  }
});

Deno.test("command() checks its name, schemas and errors", () => {
  assert.throws(() => command("", {}, {}), /non-empty string/);
  assert.throws(() => command("X", { _ask: Integer }, {}), /reserved name/);
  assert.throws(() => command("X", {}, { _answer: Integer }), /reserved name/);
  assert.throws(() => command("X", { a: 5 as never }, {}), /needs an argument type/);
  assert.throws(
    () => command("X", {}, {}, { errors: { E: "nope" as never } }),
    /needs an error class/,
  );
  assert.throws(
    () => command("X", {}, {}, { requiresAnswer: "yes" as never }),
    /must be a boolean/,
  );
  assert.throws(
    () => new AMP().respond({ commandName: "X" } as never, () => ({})),
    /not a command/,
  );
});
