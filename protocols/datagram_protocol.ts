import type { IPAddress, ListeningPort } from "../reactor/interfaces.ts";

/**
 * A UDP port as its protocol sees it: send a datagram to an address, or stop
 * listening. `reactor.listenUDP` gives one to the protocol.
 *
 * Divergence from Twisted: there is no connected mode (`connect`), as Deno's
 * datagram sockets have none, so every `write` names its destination.
 */
export interface DatagramTransport extends ListeningPort {
  /**
   * Sends one datagram. Never blocks; a datagram that cannot be sent is
   * dropped, as UDP does.
   *
   * @param packet The datagram (a string is encoded as UTF-8).
   * @param addr Where to send it.
   */
  write(packet: Uint8Array | string, addr: IPAddress): void;
  /** The address the port is bound to. */
  getHost(): IPAddress;
}

/**
 * The base class of UDP protocols. Unlike a stream protocol, one instance
 * serves the whole port: there is no connection, only datagrams, each whole
 * and each with its sender's address, so {@linkcode DatagramProtocol.datagramReceived}
 * never has to reassemble anything.
 *
 * `reactor.listenUDP(port, protocol)` calls
 * {@linkcode DatagramProtocol.makeConnection}, which sets
 * {@linkcode DatagramProtocol.transport} and calls
 * {@linkcode DatagramProtocol.startProtocol}; stopping the port calls
 * {@linkcode DatagramProtocol.doStop}, which clears the transport and calls
 * {@linkcode DatagramProtocol.stopProtocol}. The start and stop hooks run
 * once however many ports share the protocol, as a factory's do.
 *
 * Divergences from Twisted: this class merges Twisted's
 * `AbstractDatagramProtocol` and `DatagramProtocol`; the assertions of
 * `makeConnection` and `doStop` throw `Error`s; there is no `noisy` flag and
 * nothing is logged; addresses are `{ type: "UDP", host, port }` objects, not
 * tuples.
 *
 * @example An echo server's protocol, driven by hand
 * ```ts
 * import {
 *   DatagramProtocol,
 *   type DatagramTransport,
 *   type IPAddress,
 * } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class UDPEcho extends DatagramProtocol {
 *   override datagramReceived(data: Uint8Array, addr: IPAddress): void {
 *     this.transport!.write(data, addr);
 *   }
 * }
 *
 * const sent: Array<[Uint8Array | string, IPAddress]> = [];
 * const transport = {
 *   write: (packet: Uint8Array | string, addr: IPAddress) => sent.push([packet, addr]),
 * } as unknown as DatagramTransport;
 * const echo = new UDPEcho();
 * echo.makeConnection(transport);
 * const from: IPAddress = { type: "UDP", host: "127.0.0.1", port: 5353 };
 * echo.datagramReceived(new Uint8Array([1, 2]), from);
 * assert.deepEqual(sent, [[new Uint8Array([1, 2]), from]]);
 * ```
 */
export class DatagramProtocol {
  /** The port, from `makeConnection` until `doStop`; `null` otherwise. */
  transport: DatagramTransport | null = null;

  /** How many ports use the protocol: `doStart()` minus `doStop()` calls. */
  numPorts: number = 0;

  /**
   * Called by the port when it starts using the protocol; calls
   * {@linkcode DatagramProtocol.startProtocol} if no other port uses it yet.
   * `makeConnection` calls it; users do not.
   */
  doStart(): void {
    if (this.numPorts === 0) this.startProtocol();
    this.numPorts++;
  }

  /**
   * Called by the port when it stops: clears `transport`, and calls
   * {@linkcode DatagramProtocol.stopProtocol} when the last port stops. Users
   * do not call it.
   *
   * @throws {Error} If the protocol is not started.
   */
  doStop(): void {
    if (this.numPorts === 0) {
      throw new Error(`Cannot stop ${this.logPrefix()}: doStop() called without doStart()`);
    }
    this.numPorts--;
    this.transport = null;
    if (this.numPorts === 0) this.stopProtocol();
  }

  /**
   * Called once when the first port starts using the protocol: the place to
   * join a multicast group or send a first datagram. Does nothing by
   * default.
   */
  startProtocol(): void {}

  /**
   * Called once when the last port stops using the protocol. Does nothing by
   * default.
   */
  stopProtocol(): void {}

  /**
   * Attaches the protocol to its port: sets `transport`, then calls
   * {@linkcode DatagramProtocol.doStart}. The reactor calls it; tests call it
   * with a fake transport.
   *
   * @param transport The port.
   * @throws {Error} If the protocol already has a transport.
   */
  makeConnection(transport: DatagramTransport): void {
    if (this.transport !== null) {
      throw new Error(`Cannot attach ${this.logPrefix()}: it already has a transport`);
    }
    this.transport = transport;
    this.doStart();
  }

  /**
   * Called with each datagram received, whole. Does nothing by default.
   *
   * @param data The datagram.
   * @param addr Who sent it.
   */
  // deno-lint-ignore no-unused-vars
  datagramReceived(data: Uint8Array, addr: IPAddress): void {}

  /**
   * Called when the peer refused an earlier datagram (an ICMP "port
   * unreachable"), where the platform reports it. Does nothing by default.
   */
  connectionRefused(): void {}

  /**
   * Names this protocol in log messages.
   *
   * @returns The class name.
   */
  logPrefix(): string {
    return this.constructor.name;
  }
}
