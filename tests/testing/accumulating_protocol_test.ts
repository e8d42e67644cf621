import assert from "node:assert/strict";
import { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import { ConnectionLost } from "../../reactor/connection_errors.ts";
import { Factory } from "../../protocols/factory.ts";
import {
  type AccumulatingFactory,
  AccumulatingProtocol,
  StringTransport,
} from "../../testing/mod.ts";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

Deno.test("AccumulatingProtocol records the connection", () => {
  const p = new AccumulatingProtocol();
  assert.deepEqual([p.made, p.closed, p.closedReason], [false, false, null]);
  p.makeConnection(new StringTransport());
  assert.equal(p.made, true);
  assert.equal(p.connected, true);
});

Deno.test("AccumulatingProtocol accumulates the data received", () => {
  const p = new AccumulatingProtocol();
  p.makeConnection(new StringTransport());
  assert.deepEqual(p.data, new Uint8Array(0));
  const chunk = encode("ab");
  p.dataReceived(chunk);
  chunk[0] = 0x7a; // the protocol kept a copy
  p.dataReceived(encode("c"));
  assert.deepEqual(p.data, encode("abc"));
  p.dataReceived(encode("dé"));
  assert.equal(p.dataString(), "abcdé");
  p.data = new Uint8Array(0);
  p.dataReceived(encode("x"));
  assert.equal(p.dataString(), "x");
});

Deno.test("AccumulatingProtocol records the reason and fires closedDeferred once", () => {
  const p = new AccumulatingProtocol();
  const closed = new Deferred<void>();
  const fired: unknown[] = [];
  closed.addCallback((r) => void fired.push(r));
  p.closedDeferred = closed;
  p.makeConnection(new StringTransport());
  const reason = new Failure(new ConnectionLost());
  p.connectionLost(reason);
  assert.equal(p.closed, true);
  assert.equal(p.closedReason, reason);
  assert.equal(p.connected, false);
  assert.deepEqual(fired, [undefined]);
  assert.equal(p.closedDeferred, null);
  p.connectionLost(reason); // no second firing, no AlreadyCalledError
  assert.deepEqual(fired, [undefined]);
});

Deno.test("AccumulatingProtocol fires its factory's protocolConnectionMade once", () => {
  class Accumulating extends Factory<AccumulatingProtocol> implements AccumulatingFactory {
    override protocol = AccumulatingProtocol;
    protocolConnectionMade: Deferred<AccumulatingProtocol> | null = new Deferred();
  }
  const factory = new Accumulating();
  const made: AccumulatingProtocol[] = [];
  factory.protocolConnectionMade!.addCallback((p) => void made.push(p));
  const addr = { type: "TCP", host: "10.0.0.2", port: 1 } as const;
  const first = factory.buildProtocol(addr)!;
  first.makeConnection(new StringTransport());
  assert.deepEqual(made, [first]);
  assert.equal(factory.protocolConnectionMade, null);
  const second = factory.buildProtocol(addr)!;
  second.makeConnection(new StringTransport());
  assert.equal(made.length, 1);
  assert.equal(second.made, true);
});

Deno.test("AccumulatingProtocol works with a factory without protocolConnectionMade", () => {
  const p = Factory.forProtocol(AccumulatingProtocol).buildProtocol({
    type: "TCP",
    host: "10.0.0.2",
    port: 1,
  })!;
  p.makeConnection(new StringTransport());
  assert.equal(p.made, true);
});
