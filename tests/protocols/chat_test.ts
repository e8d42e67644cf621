import assert from "node:assert/strict";
import { Failure } from "../../defer/failure.ts";
import { ConnectionLost } from "../../reactor/connection_errors.ts";
import { setLogSink } from "../../reactor/log.ts";
import type { PushProducer } from "../../reactor/interfaces.ts";
import { listenTCP } from "../../reactor/tcp.ts";
import { ChatFactory, type ChatProtocol } from "../../protocols/chat.ts";
import { StringTransportWithDisconnection } from "../../testing/string_transport.ts";
import { successResultOf } from "../../testing/assertions.ts";

const encoder = new TextEncoder();

interface User {
  protocol: ChatProtocol;
  transport: StringTransportWithDisconnection;
  /** Lines received since the last call. */
  lines(): string[];
  /** Types `text` (with its line ends), delivered `chunk` bytes at a time. */
  type(text: string, chunk?: number): void;
}

function connect(room: ChatFactory): User {
  const protocol = room.buildProtocol({ type: "TCP", host: "127.0.0.1", port: 40000 })!;
  const transport = new StringTransportWithDisconnection();
  transport.protocol = protocol;
  protocol.makeConnection(transport);
  return {
    protocol,
    transport,
    lines() {
      const text = transport.valueString();
      transport.clear();
      return text.split("\r\n").slice(0, -1);
    },
    type(text: string, chunk = text.length || 1) {
      const bytes = encoder.encode(text);
      for (let i = 0; i < bytes.length; i += chunk) {
        protocol.dataReceived(bytes.subarray(i, i + chunk));
      }
    },
  };
}

// The room logs joins and departures; keep test output quiet.
function quietly(
  fn: (t: Deno.TestContext) => void | Promise<void>,
): (t: Deno.TestContext) => Promise<void> {
  return async (t) => {
    const before = setLogSink(() => {});
    try {
      await fn(t);
    } finally {
      setLogSink(before);
    }
  };
}

Deno.test(
  "ChatFactory names newcomers guest-N, welcomes them and announces them",
  quietly(() => {
    const room = new ChatFactory("the test room");
    const alice = connect(room);
    assert.equal(alice.protocol.nick, "guest-1");
    assert.deepEqual(alice.lines(), [
      "* Welcome to the test room, guest-1. Type /help for commands.",
    ]);
    const bob = connect(room);
    assert.equal(bob.protocol.nick, "guest-2");
    assert.deepEqual(alice.lines(), ["* guest-2 has joined"]);
    assert.equal(room.size, 2);
  }),
);

Deno.test(
  "ChatProtocol broadcasts a line to everyone else, in every chunking",
  quietly(() => {
    for (let chunk = 1; chunk <= 12; chunk++) {
      const room = new ChatFactory();
      const [a, b, c] = [connect(room), connect(room), connect(room)];
      a.lines(), b.lines(), c.lines();
      a.type("hello there\r\n  spaced out  \r\n\r\nlast\r\n", chunk);
      const expected = ["<guest-1> hello there", "<guest-1> spaced out", "<guest-1> last"];
      assert.deepEqual(b.lines(), expected, `chunk ${chunk}`);
      assert.deepEqual(c.lines(), expected, `chunk ${chunk}`);
      assert.deepEqual(a.lines(), [], "no echo to the sender");
    }
  }),
);

Deno.test(
  "/nick renames, within the rules",
  quietly(async (t) => {
    const room = new ChatFactory();
    room.maxNickLength = 8;
    const a = connect(room);
    const b = connect(room);
    a.lines(), b.lines();
    await t.step("a good name is taken and announced", () => {
      a.type("/nick alice\r\n");
      assert.deepEqual(a.lines(), ["* You are now alice"]);
      assert.deepEqual(b.lines(), ["* guest-1 is now alice"]);
      assert.equal(a.protocol.nick, "alice");
      b.type("hi\r\n");
      assert.deepEqual(a.lines(), ["<guest-2> hi"]);
    });
    await t.step("names are unique without regard to case", () => {
      b.type("/nick ALICE\r\n");
      assert.deepEqual(b.lines(), ["* ALICE is taken"]);
      assert.equal(b.protocol.nick, "guest-2");
    });
    await t.step("taking one's own name again, in another case, is allowed", () => {
      a.type("/nick Alice\r\n");
      assert.deepEqual(a.lines(), ["* You are now Alice"]);
    });
    await t.step("bad names are refused with the reason", () => {
      b.lines();
      b.type("/nick\r\n/nick bob smith\r\n/nick waytoolong\r\n/nick b@d\r\n");
      assert.deepEqual(b.lines(), [
        "* Usage: /nick NAME",
        "* Names use letters, digits and _-.[]{}^`| only",
        "* Names are at most 8 characters",
        "* Names use letters, digits and _-.[]{}^`| only",
      ]);
      assert.deepEqual(a.lines(), []);
    });
    await t.step("a freed name can be taken", () => {
      a.type("/nick al\r\n");
      b.type("/nick alice\r\n");
      assert.equal(b.protocol.nick, "alice");
    });
  }),
);

Deno.test(
  "/who, /help and unknown commands",
  quietly(() => {
    const room = new ChatFactory();
    const a = connect(room);
    const b = connect(room);
    b.type("/nick zed\r\n");
    a.lines();
    a.type("/who\r\n/HELP\r\n/dance now\r\n");
    assert.deepEqual(a.lines(), [
      "* Here: guest-1, zed",
      "* Commands: /nick NAME, /who, /quit [message], /help",
      "* Unknown command /dance; try /help",
    ]);
  }),
);

Deno.test(
  "/quit says goodbye, closes, and tells the others once",
  quietly(() => {
    const room = new ChatFactory();
    const a = connect(room);
    const b = connect(room);
    a.lines(), b.lines();
    a.type("/quit see you\r\nthis is never sent\r\n");
    assert.deepEqual(a.lines(), ["* Goodbye!"]);
    assert.equal(a.transport.disconnecting, true);
    assert.deepEqual(b.lines(), ["* guest-1 has left (quit: see you)"]);
    assert.equal(room.size, 1);
    assert.deepEqual(room.nicks(), ["guest-2"]);
  }),
);

Deno.test(
  "An abrupt disconnect removes the user once and nobody writes to it",
  quietly(() => {
    const room = new ChatFactory();
    const a = connect(room);
    const b = connect(room);
    const c = connect(room);
    a.lines(), b.lines(), c.lines();
    b.transport.abortConnection();
    assert.deepEqual(a.lines(), ["* guest-2 has left (connection lost)"]);
    // A second report of the loss changes nothing.
    b.protocol.connectionLost(new Failure(new ConnectionLost()));
    assert.deepEqual(a.lines(), []);
    a.type("still here?\r\n");
    assert.deepEqual(c.lines(), ["* guest-2 has left (connection lost)", "<guest-1> still here?"]);
    assert.deepEqual(b.lines(), [], "nothing written after the loss");
    assert.equal(room.size, 2);
  }),
);

Deno.test(
  "An over-long line is dropped with a notice and the connection carries on",
  quietly(() => {
    const room = new ChatFactory();
    const a = connect(room);
    const b = connect(room);
    a.protocol.MAX_LENGTH = 16;
    a.lines(), b.lines();
    for (let chunk = 1; chunk <= 64; chunk++) {
      a.type(`${"x".repeat(40)}\r\nshort\n${"y".repeat(17)}\n${"z".repeat(16)}\n`, chunk);
      const notice = "* Line too long (over 16 bytes), dropped";
      assert.deepEqual(a.lines(), [notice, notice], `chunk ${chunk}`);
      assert.deepEqual(
        b.lines(),
        ["<guest-1> short", `<guest-1> ${"z".repeat(16)}`],
        `chunk ${chunk}`,
      );
      assert.equal(a.transport.disconnecting, false);
    }
  }),
);

Deno.test(
  "A 1 MiB line without a line end gets one notice, in any chunking",
  quietly(() => {
    for (const chunk of [1000, 4096, 65536, 1 << 20]) {
      const room = new ChatFactory();
      const a = connect(room);
      const b = connect(room);
      a.lines(), b.lines();
      a.type("y".repeat(1 << 20), chunk);
      assert.deepEqual(a.lines(), ["* Line too long (over 2048 bytes), dropped"], `chunk ${chunk}`);
      // The end of the long line is dropped too; the next line gets through.
      a.type("tail of it\nnext\n", chunk);
      assert.deepEqual(a.lines(), [], `chunk ${chunk}`);
      assert.deepEqual(b.lines(), ["<guest-1> next"], `chunk ${chunk}`);
      // A second long line is a second notice.
      a.type(`${"y".repeat(5000)}\n`, chunk);
      assert.deepEqual(a.lines(), ["* Line too long (over 2048 bytes), dropped"], `chunk ${chunk}`);
    }
  }),
);

Deno.test(
  "Lines may end with LF or CRLF, in every chunking; replies end with CRLF",
  quietly(() => {
    for (let chunk = 1; chunk <= 16; chunk++) {
      const room = new ChatFactory();
      const [a, b] = [connect(room), connect(room)];
      a.lines(), b.lines();
      a.type("/nick ann\nhi\r\n/who\nbye\n\r\n\n", chunk);
      assert.deepEqual(a.lines(), ["* You are now ann", "* Here: ann, guest-2"], `chunk ${chunk}`);
      assert.deepEqual(b.lines(), ["* guest-1 is now ann", "<ann> hi", "<ann> bye"]);
      a.type("/quit\n", chunk);
      assert.equal(a.transport.valueString(), "* Goodbye!\r\n");
    }
  }),
);

Deno.test(
  "Control characters are shown as text, never relayed; tab is kept",
  quietly(async (t) => {
    const room = new ChatFactory();
    const [a, b] = [connect(room), connect(room)];
    a.lines(), b.lines();
    await t.step("ANSI escapes, BEL, NUL, backspace, DEL and a bare CR", () => {
      a.type("\x1b[2J\x1b[31mred\x07\x00 x\x08y\x7f car\rriage\ttab\n");
      assert.deepEqual(b.lines(), ["<guest-1> ^[[2J^[[31mred^G^@ x^Hy^? car^Mriage\ttab"]);
    });
    await t.step("C1 controls, such as the one-character CSI", () => {
      a.type("\u009b2J \u0085 caf\u00e9\n");
      assert.deepEqual(b.lines(), ["<guest-1> \ufffd2J \ufffd caf\u00e9"]);
    });
    await t.step("in /quit messages and in what is echoed to the sender", () => {
      a.type("/nope\x1b[2J\n");
      assert.deepEqual(a.lines(), ["* Unknown command /nope^[[2j; try /help"]);
      a.type("/quit \x1b]0;pwned\x07\n");
      assert.deepEqual(b.lines(), ["* guest-1 has left (quit: ^[]0;pwned^G)"]);
    });
    await t.step("nothing sent to anyone holds a control character but CR LF and tab", () => {
      for (const user of [a, b]) {
        // deno-lint-ignore no-control-regex
        assert.doesNotMatch(user.transport.valueString(), /[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]/);
      }
    });
  }),
);

Deno.test(
  "Garbage in any chunking never reaches others as control characters",
  quietly(() => {
    let seed = 14;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 20; round++) {
      const room = new ChatFactory();
      const [a, b] = [connect(room), connect(room)];
      a.protocol.MAX_LENGTH = 64;
      const bytes = Uint8Array.from({ length: 4000 }, () => Math.floor(random() * 256));
      const chunk = 1 + Math.floor(random() * 300);
      for (let i = 0; i < bytes.length; i += chunk) {
        a.protocol.dataReceived(bytes.subarray(i, i + chunk));
      }
      const relayed = b.transport.valueString();
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(relayed.replaceAll("\r\n", ""), /[\x00-\x08\x0a-\x1f\x7f-\x9f]/);
    }
  }),
);

Deno.test(
  "sayGoodbye() tells everyone, closes every connection and fires when they are closed",
  quietly(() => {
    const room = new ChatFactory();
    const users = [connect(room), connect(room)];
    for (const u of users) u.lines();
    const done = room.sayGoodbye();
    for (const u of users) {
      assert.deepEqual(u.lines(), ["* The server is shutting down. Goodbye!"]);
      assert.equal(u.transport.disconnecting, true);
    }
    successResultOf(done);
    assert.equal(room.size, 0);
    successResultOf(new ChatFactory().sayGoodbye());
  }),
);

Deno.test(
  "The chat over real sockets",
  quietly(async () => {
    const room = new ChatFactory();
    const port = listenTCP(0, room, { interface: "127.0.0.1" });
    const conns: Deno.TcpConn[] = [];
    try {
      const open = async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: port.getHost().port });
        conns.push(conn);
        return conn;
      };
      const reader = (conn: Deno.Conn) => {
        let text = "";
        const buffer = new Uint8Array(4096);
        return async (until: string): Promise<string> => {
          const deadline = Date.now() + 5000;
          while (!text.includes(until)) {
            if (Date.now() > deadline) throw new Error(`Timed out waiting for ${until}`);
            const n = await conn.read(buffer);
            if (n === null) break;
            text += new TextDecoder().decode(buffer.subarray(0, n));
          }
          return text;
        };
      };
      const a = await open();
      const readA = reader(a);
      await readA("Welcome");
      const b = await open();
      const readB = reader(b);
      await readB("Welcome");
      await readA("guest-2 has joined");
      await a.write(encoder.encode("/nick ann\r\nhello bob\r\n"));
      assert.match(await readB("<ann> hello bob"), /guest-1 is now ann/);
      b.close();
      conns.splice(conns.indexOf(b), 1);
      await readA("guest-2 has left (connection lost)");
      assert.equal(room.size, 1);
    } finally {
      for (const conn of conns) conn.close();
      await port.stopListening();
      // Let the server side see the last close.
      const deadline = Date.now() + 5000;
      while (room.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }),
);

Deno.test(
  "a user who stops reading gets a bounded backlog: the oldest lines dropped, a notice, the newest lines",
  quietly(() => {
    const room = new ChatFactory();
    room.maxOutput = 4096; // 2 KiB queued in the transport, then 2 KiB held
    const talker = connect(room);
    const sleeper = connect(room);
    talker.lines();
    sleeper.lines();
    assert.equal(sleeper.transport.streaming, true, "the chat registers a push producer");
    // The transport's queue is full: it pauses the producer, as a socket does.
    (sleeper.transport.producer as PushProducer).pauseProducing();
    for (let i = 0; i < 10_000; i++) talker.type(`message number ${i}\n`);
    assert.deepEqual(sleeper.lines(), [], "nothing written while paused");
    const line = `<${talker.protocol.nick}> message number 9999`.length;
    // The transport drains and resumes the producer.
    sleeper.transport.producer!.resumeProducing();
    const got = sleeper.lines();
    const held = got.slice(1);
    assert.match(got[0], /^\* (\d+) lines were dropped: you were not reading fast enough$/);
    const dropped = Number(got[0].match(/\d+/)![0]);
    assert.equal(dropped + held.length, 10_000, "every line is either delivered or counted");
    assert.ok(held.length * line <= 2048 + line, `${held.length} lines held`);
    assert.ok(held.length > 10);
    assert.equal(
      held.at(-1),
      `<${talker.protocol.nick}> message number 9999`,
      "the newest are kept",
    );
    // Back to normal: lines go straight out.
    talker.type("awake?\n");
    assert.deepEqual(sleeper.lines(), [`<${talker.protocol.nick}> awake?`]);
  }),
);

Deno.test(
  "the goodbye reaches a user whose backlog is full, and the connection closes",
  quietly(() => {
    const room = new ChatFactory();
    room.maxOutput = 1024;
    const talker = connect(room);
    const sleeper = connect(room);
    (sleeper.transport.producer as PushProducer).pauseProducing();
    for (let i = 0; i < 100; i++) talker.type(`filler ${i}\n`);
    sleeper.lines();
    const done = room.sayGoodbye();
    assert.deepEqual(sleeper.lines(), ["* The server is shutting down. Goodbye!"]);
    assert.equal(sleeper.transport.producer, null, "the backlog no longer holds the close");
    assert.equal(sleeper.transport.disconnecting, true);
    assert.equal(talker.transport.disconnecting, true);
    successResultOf(done);
  }),
);
