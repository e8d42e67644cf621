import assert from "node:assert/strict";
import { Factory } from "../../protocols/factory.ts";
import { Chargen, Daytime, Discard, Echo, QOTD, Time, Who } from "../../protocols/wire.ts";
import {
  AccumulatingProtocol,
  Clock,
  connectedServerAndClient,
  StringTransport,
} from "../../testing/mod.ts";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

/** RFC 864's line `n` (from 0): 72 printable characters from offset n mod 95, and CRLF. */
function chargenLine(n: number): string {
  let line = "";
  for (let i = 0; i < 72; i++) line += String.fromCharCode(32 + ((n + i) % 95));
  return line + "\r\n";
}

Deno.test("Echo writes back what it receives", () => {
  const t = new StringTransport();
  const echo = new Echo();
  echo.makeConnection(t);
  for (const word of ["hello", "world", "how", "are", "you"]) echo.dataReceived(encode(word));
  assert.equal(t.valueString(), "helloworldhowareyou");
});

Deno.test("Echo answers a client in memory", () => {
  const { client, pump } = connectedServerAndClient(
    Factory.forProtocol(Echo),
    AccumulatingProtocol,
  );
  client.transport!.write("ping\r\n");
  client.transport!.write("pong\r\n");
  pump.flush();
  assert.equal(client.dataString(), "ping\r\npong\r\n");
});

Deno.test("Discard writes nothing", () => {
  const t = new StringTransport();
  const discard = new Discard();
  discard.makeConnection(t);
  for (const word of ["hello", "world", "how", "are", "you"]) discard.dataReceived(encode(word));
  assert.equal(t.value().length, 0);
  assert.equal(t.disconnecting, false);
});

Deno.test("QOTD writes the quote and closes", () => {
  const t = new StringTransport();
  new QOTD().makeConnection(t);
  assert.equal(t.valueString(), "An apple a day keeps the doctor away.\r\n");
  assert.equal(t.disconnecting, true);
});

Deno.test("QOTD.getQuote() can be overridden", () => {
  class Wilde extends QOTD {
    override getQuote(): Uint8Array {
      return encode("I can resist everything except temptation.\r\n");
    }
  }
  const { client } = connectedServerAndClient(Wilde, AccumulatingProtocol);
  assert.equal(client.dataString(), "I can resist everything except temptation.\r\n");
  assert.equal(client.closed, true);
});

Deno.test("Who writes the users and closes", () => {
  const t = new StringTransport();
  new Who().makeConnection(t);
  assert.equal(t.valueString(), "root\r\n");
  assert.equal(t.disconnecting, true);
  class Team extends Who {
    override getUsers(): string {
      return "alice\r\nbob\r\n";
    }
  }
  const t2 = new StringTransport();
  new Team().makeConnection(t2);
  assert.equal(t2.valueString(), "alice\r\nbob\r\n");
});

Deno.test("Chargen registers itself as a pull producer", () => {
  const t = new StringTransport();
  const chargen = new Chargen();
  chargen.makeConnection(t);
  assert.equal(t.producer, chargen);
  assert.equal(t.streaming, false);
  assert.equal(t.value().length, 0); // StringTransport does not resume it
});

Deno.test("Chargen writes one rotating RFC 864 line per resumeProducing()", () => {
  const t = new StringTransport();
  const chargen = new Chargen();
  chargen.makeConnection(t);
  chargen.resumeProducing();
  assert.equal(
    t.valueString(),
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n",
  );
  t.clear();
  for (let n = 1; n < 200; n++) {
    chargen.resumeProducing();
    assert.equal(t.valueString(), chargenLine(n), `line ${n}`);
    t.clear();
  }
  chargen.pauseProducing(); // a pull producer ignores it
  chargen.resumeProducing();
  assert.equal(t.valueString(), chargenLine(200));
  assert.equal(chargenLine(200), chargenLine(200 - 95));
});

Deno.test("Chargen writes nothing once stopped", () => {
  const t = new StringTransport();
  const chargen = new Chargen();
  chargen.makeConnection(t);
  chargen.stopProducing();
  chargen.resumeProducing();
  assert.equal(t.value().length, 0);
});

Deno.test("Chargen writes only as fast as the transport drains", () => {
  const { client, server, pump } = connectedServerAndClient(
    Chargen,
    AccumulatingProtocol,
    { greet: false },
  );
  // One line at registration, then one each round: never more queued.
  for (let round = 0; round < 5; round++) pump.pump();
  assert.equal(
    client.dataString(),
    [0, 1, 2, 3, 4].map(chargenLine).join(""),
  );
  client.transport!.loseConnection();
  pump.pump();
  pump.pump();
  assert.equal(client.closed, true);
  assert.equal(server.connected, false);
  assert.throws(() => connectedServerAndClient(Chargen, AccumulatingProtocol), /^Error: Too long/);
});

Deno.test("Daytime writes the time in asctime form and closes", () => {
  const clock = new Clock();
  const daytime = new Daytime();
  daytime.clock = clock;
  const t = new StringTransport();
  daytime.makeConnection(t);
  assert.equal(t.valueString(), "Thu Jan  1 00:00:00 1970\r\n");
  assert.equal(t.disconnecting, true);
});

Deno.test("Daytime.getDaytime() formats the clock's time in UTC", () => {
  const daytime = new Daytime();
  const cases: Array<[number, string]> = [
    [1_000_000_000, "Sun Sep  9 01:46:40 2001\r\n"],
    [1_700_000_000.9, "Tue Nov 14 22:13:20 2023\r\n"],
    [951_782_400, "Tue Feb 29 00:00:00 2000\r\n"],
    [4_102_444_799, "Thu Dec 31 23:59:59 2099\r\n"],
  ];
  for (const [seconds, expected] of cases) {
    daytime.clock = { seconds: () => seconds };
    assert.equal(daytime.getDaytime(), expected);
  }
});

Deno.test("Daytime uses real time by default", () => {
  const daytime = new Daytime();
  const text = daytime.getDaytime();
  assert.match(
    text,
    /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$/,
  );
  assert.equal(text.slice(-6, -2), String(new Date().getUTCFullYear()));
});

Deno.test("Time writes RFC 868 seconds since 1900 and closes", () => {
  const clock = new Clock();
  const time = new Time();
  time.clock = clock;
  const t = new StringTransport();
  time.makeConnection(t);
  assert.deepEqual(t.value(), Uint8Array.of(0x83, 0xaa, 0x7e, 0x80)); // 2208988800
  assert.equal(t.disconnecting, true);

  clock.advance(1_000_000_000.5);
  const t2 = new StringTransport();
  time.makeConnection(t2);
  assert.equal(new DataView(t2.value().buffer).getUint32(0), 3_208_988_800);

  // 2036-02-07 06:28:16 UTC wraps to 0.
  clock.advance(2 ** 32 - 2_208_988_800 - clock.seconds());
  const t3 = new StringTransport();
  time.makeConnection(t3);
  assert.deepEqual(t3.value(), Uint8Array.of(0, 0, 0, 0));
});
