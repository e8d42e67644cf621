// Minimal fakes for the protocol tests: a transport that records writes, a
// connector that records calls.
import type {
  Address,
  Connector,
  ConnectorState,
  Producer,
  Transport,
} from "../../reactor/interfaces.ts";

export class FakeTransport implements Transport {
  written: Array<Uint8Array | string> = [];
  disconnecting = false;
  aborted = false;
  producer: Producer | null = null;

  write(data: Uint8Array | string): void {
    this.written.push(data);
  }
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    for (const c of chunks) this.write(c);
  }
  loseConnection(): void {
    this.disconnecting = true;
  }
  abortConnection(): void {
    this.aborted = true;
  }
  loseWriteConnection(): void {}
  getPeer(): Address {
    return { type: "TCP", host: "192.168.1.1", port: 54321 };
  }
  getHost(): Address {
    return { type: "TCP", host: "10.0.0.1", port: 1234 };
  }
  registerProducer(producer: Producer): void {
    this.producer = producer;
  }
  unregisterProducer(): void {
    this.producer = null;
  }
  pauseProducing(): void {}
  resumeProducing(): void {}
  stopProducing(): void {}
}

export class FakeConnector implements Connector {
  state: ConnectorState = "disconnected";
  connects = 0;
  stops = 0;
  disconnects = 0;

  connect(): void {
    if (this.state !== "disconnected") throw new Error(`Cannot connect: ${this.state}`);
    this.connects++;
    this.state = "connecting";
  }
  disconnect(): void {
    this.disconnects++;
    this.state = "disconnected";
  }
  stopConnecting(): void {
    if (this.state !== "connecting") {
      const e = new Error("Not connecting");
      e.name = "NotConnectingError";
      throw e;
    }
    this.stops++;
    this.state = "disconnected";
  }
  getDestination(): Address {
    return { type: "TCP", host: "127.0.0.1", port: 4321 };
  }
}
