/** Probes shared by the endpoint tests: a protocol and a factory that record what happens. */
import type { Failure } from "../../defer/failure.ts";
import type { Address, ProtocolLike, Transport } from "../../reactor/interfaces.ts";

/** A protocol that records its connection. */
export class Probe implements ProtocolLike {
  transport: Transport | null = null;
  made = 0;
  received: string[] = [];
  lost = Promise.withResolvers<Failure>();
  makeConnection(transport: Transport): void {
    this.transport = transport;
    this.made++;
  }
  dataReceived(data: Uint8Array): void {
    this.received.push(new TextDecoder().decode(data));
  }
  connectionLost(reason: Failure): void {
    this.lost.resolve(reason);
  }
}

/** A factory of Probes, counting starts and stops. */
export class Probes {
  built: Probe[] = [];
  addresses: Address[] = [];
  starts = 0;
  stops = 0;
  refuse = false;
  buildProtocol(addr: Address): Probe | null {
    this.addresses.push(addr);
    if (this.refuse) return null;
    const p = new Probe();
    this.built.push(p);
    return p;
  }
  doStart(): void {
    this.starts++;
  }
  doStop(): void {
    this.stops++;
  }
}
