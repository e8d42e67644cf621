import assert from "node:assert/strict";
import { Deferred } from "../../defer/deferred.ts";
import { DatagramProtocol, type DatagramTransport, type IPAddress } from "../../protocols/mod.ts";

class FakeUDPPort implements DatagramTransport {
  sent: Array<[Uint8Array | string, IPAddress]> = [];
  write(packet: Uint8Array | string, addr: IPAddress): void {
    this.sent.push([packet, addr]);
  }
  getHost(): IPAddress {
    return { type: "UDP", host: "127.0.0.1", port: 9999 };
  }
  stopListening(): Deferred<void> {
    const d = new Deferred<void>();
    d.callback(undefined);
    return d;
  }
}

class Recording extends DatagramProtocol {
  events: string[] = [];
  override startProtocol(): void {
    this.events.push(`start transport=${this.transport !== null}`);
  }
  override stopProtocol(): void {
    this.events.push(`stop transport=${this.transport !== null}`);
  }
  override datagramReceived(data: Uint8Array, addr: IPAddress): void {
    this.events.push(`datagram ${data.length} from ${addr.host}:${addr.port}`);
  }
}

const PEER: IPAddress = { type: "UDP", host: "10.1.2.3", port: 53 };

Deno.test("DatagramProtocol.makeConnection() sets the transport, then starts the protocol", () => {
  const p = new Recording();
  const port = new FakeUDPPort();
  p.makeConnection(port);
  assert.equal(p.transport, port);
  assert.equal(p.numPorts, 1);
  assert.deepEqual(p.events, ["start transport=true"]);
});

Deno.test("DatagramProtocol.makeConnection() twice throws", () => {
  const p = new Recording();
  p.makeConnection(new FakeUDPPort());
  assert.throws(() => p.makeConnection(new FakeUDPPort()), /already has a transport/);
});

Deno.test("DatagramProtocol.datagramReceived() gets each datagram with its sender", () => {
  const p = new Recording();
  p.makeConnection(new FakeUDPPort());
  p.datagramReceived(new Uint8Array(12), PEER);
  assert.deepEqual(p.events.slice(1), ["datagram 12 from 10.1.2.3:53"]);
});

Deno.test("DatagramProtocol can answer through its transport", () => {
  class Echo extends DatagramProtocol {
    override datagramReceived(data: Uint8Array, addr: IPAddress): void {
      this.transport!.write(data, addr);
    }
  }
  const port = new FakeUDPPort();
  const p = new Echo();
  p.makeConnection(port);
  p.datagramReceived(new Uint8Array([7]), PEER);
  assert.deepEqual(port.sent, [[new Uint8Array([7]), PEER]]);
});

Deno.test("DatagramProtocol.doStop() clears the transport and stops at the last port", () => {
  const p = new Recording();
  p.makeConnection(new FakeUDPPort());
  p.doStart();
  assert.deepEqual(p.events, ["start transport=true"]);
  p.doStop();
  assert.equal(p.transport, null);
  assert.equal(p.events.length, 1);
  p.doStop();
  assert.deepEqual(p.events, ["start transport=true", "stop transport=false"]);
  assert.equal(p.numPorts, 0);
  assert.throws(() => p.doStop(), /doStop\(\) called without doStart\(\)/);
});

Deno.test("DatagramProtocol can be attached again after it stopped", () => {
  const p = new Recording();
  p.makeConnection(new FakeUDPPort());
  p.doStop();
  p.makeConnection(new FakeUDPPort());
  assert.deepEqual(p.events, [
    "start transport=true",
    "stop transport=false",
    "start transport=true",
  ]);
});

Deno.test("DatagramProtocol's defaults do nothing", () => {
  const p = new DatagramProtocol();
  const port = new FakeUDPPort();
  p.makeConnection(port);
  p.datagramReceived(new Uint8Array(1), PEER);
  p.connectionRefused();
  p.doStop();
  assert.deepEqual(port.sent, []);
  assert.equal(p.logPrefix(), "DatagramProtocol");
});
