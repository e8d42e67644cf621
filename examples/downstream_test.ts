// How a project that uses torsion tests its protocols: `deno test`, the
// `testing` kit, no sockets and no real time.
//
//   deno test examples/downstream_test.ts
//
// The protocol under test answers "PING" with "PONG" and hangs up after a
// minute of silence.
import assert from "node:assert/strict";
import { Factory, LineReceiver, TimeoutMixin } from "../mod.ts";
import {
  connectedServerAndClient,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from "../testing/mod.ts";
import { deferLater } from "../mod.ts";

class Pong extends TimeoutMixin(LineReceiver) {
  override connectionMade(): void {
    this.setTimeout(60);
  }

  override lineReceived(line: string): void {
    this.resetTimeout();
    this.sendLine(line === "PING" ? "PONG" : `unknown: ${line}`);
  }
}

Deno.test("Pong answers PING, one byte at a time", () => {
  const transport = new StringTransport();
  const protocol = new Pong();
  protocol.makeConnection(transport);
  for (const byte of new TextEncoder().encode("PING\r\nHELLO\r\n")) {
    protocol.dataReceived(Uint8Array.of(byte));
  }
  assert.equal(transport.valueString(), "PONG\r\nunknown: HELLO\r\n");
  protocol.setTimeout(null);
});

Deno.test("Pong hangs up after a minute of silence", () => {
  const clock = new MemoryReactorClock();
  const transport = new StringTransport();
  const protocol = new Pong();
  protocol.clock = clock;
  protocol.makeConnection(transport);
  clock.advance(59);
  assert.equal(transport.disconnecting, false);
  protocol.dataReceived(new TextEncoder().encode("PING\r\n"));
  clock.advance(59);
  assert.equal(transport.disconnecting, false, "data resets the timer");
  clock.advance(1);
  assert.equal(transport.disconnecting, true);
});

Deno.test("A client and a server talk through an in-memory connection", () => {
  class Client extends LineReceiver {
    replies: string[] = [];
    override lineReceived(line: string): void {
      this.replies.push(line);
    }
  }
  const { client, server, pump } = connectedServerAndClient(Factory.forProtocol(Pong), Client);
  client.sendLine("PING");
  pump.flush();
  assert.deepEqual(client.replies, ["PONG"]);
  (server as Pong).setTimeout(null);
});

Deno.test("successResultOf reads a fired Deferred without awaiting it", () => {
  const clock = new MemoryReactorClock();
  const d = deferLater(clock, 5, () => "done");
  clock.advance(5);
  assert.equal(successResultOf(d), "done");
});
