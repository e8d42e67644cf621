import assert from "node:assert/strict";
import { Failure } from "../../defer/failure.ts";
import { Factory, Protocol } from "../../protocols/mod.ts";
import type { ProtocolLike } from "../../protocols/mod.ts";
import { FakeTransport } from "./_fakes.ts";

class Recording extends Protocol {
  events: string[] = [];
  override connectionMade(): void {
    this.events.push(`made connected=${this.connected} transport=${this.transport !== null}`);
  }
  override dataReceived(data: Uint8Array): void {
    this.events.push(`data ${new TextDecoder().decode(data)}`);
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.events.push(`lost ${reason.getErrorMessage()}`);
  }
}

Deno.test("Protocol starts disconnected, with no transport and no factory", () => {
  const p = new Protocol();
  assert.equal(p.connected, false);
  assert.equal(p.transport, null);
  assert.equal(p.factory, null);
});

Deno.test("Protocol.makeConnection() sets connected and transport before connectionMade()", () => {
  const p = new Recording();
  const t = new FakeTransport();
  p.makeConnection(t);
  assert.equal(p.transport, t);
  assert.equal(p.connected, true);
  assert.deepEqual(p.events, ["made connected=true transport=true"]);
});

Deno.test("Protocol.connectionLost() clears connected", () => {
  const p = new Recording();
  p.makeConnection(new FakeTransport());
  p.dataReceived(new TextEncoder().encode("x"));
  p.connectionLost(new Failure(new Error("done")));
  assert.equal(p.connected, false);
  assert.deepEqual(p.events.slice(1), ["data x", "lost done"]);
});

Deno.test("Protocol's default event methods do nothing", () => {
  const p = new Protocol();
  const t = new FakeTransport();
  p.makeConnection(t);
  p.dataReceived(new Uint8Array([1, 2, 3]));
  p.connectionLost(new Failure(new Error("gone")));
  assert.deepEqual(t.written, []);
  assert.equal(t.disconnecting, false);
});

Deno.test("Protocol has no half-close methods unless a subclass defines them", () => {
  const plain: ProtocolLike = new Protocol();
  assert.equal(plain.readConnectionLost, undefined);
  assert.equal(plain.writeConnectionLost, undefined);

  class HalfClose extends Protocol {
    reads = 0;
    readConnectionLost(): void {
      this.reads++;
    }
    writeConnectionLost(): void {}
  }
  const half: ProtocolLike = new HalfClose();
  assert.equal(typeof half.readConnectionLost, "function");
  half.readConnectionLost!();
  assert.equal((half as HalfClose).reads, 1);
});

Deno.test("Protocol.logPrefix() names the class", () => {
  assert.equal(new Recording().logPrefix(), "Recording");
});

Deno.test("Protocol's factory field can be narrowed to a subclass's factory", () => {
  class Shared extends Factory<Counting> {
    override protocol = Counting;
    count = 0;
  }
  class Counting extends Protocol {
    declare factory: Shared | null;
    override connectionMade(): void {
      this.factory!.count++;
    }
  }
  const f = new Shared();
  const p = f.buildProtocol({ type: "TCP", host: "127.0.0.1", port: 1 })!;
  p.makeConnection(new FakeTransport());
  assert.equal(f.count, 1);
});
