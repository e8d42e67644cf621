import type { Address, ProtocolLike } from "../reactor/interfaces.ts";
import { ServerFactory } from "./factory.ts";
import { type ProtocolRegistry, ProtocolWrapper } from "./wrapping_factory.ts";

/**
 * A server factory that limits how many connections are open at once:
 * past {@linkcode LimitTotalConnectionsFactory.connectionLimit}, a new
 * connection gets the {@linkcode LimitTotalConnectionsFactory.overflowProtocol}
 * (to say "busy, try later") or, without one, is closed at once.
 *
 * Set `protocol` as for any factory. Each protocol is wrapped in a
 * {@linkcode ProtocolWrapper} that tells the factory when its connection
 * ends; the protocol's own `factory` field is this factory. Overflow
 * connections count towards `connectionCount` too.
 *
 * @example One connection at a time, and a polite refusal
 * ```ts
 * import { LimitTotalConnectionsFactory, Protocol } from "@torsion/torsion/protocols";
 * import { StringTransport, StringTransportWithDisconnection } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * class Busy extends Protocol {
 *   override connectionMade(): void {
 *     this.transport!.write("busy\r\n");
 *     this.transport!.loseConnection();
 *   }
 * }
 * const factory = new LimitTotalConnectionsFactory();
 * factory.protocol = Protocol;
 * factory.connectionLimit = 1;
 * factory.overflowProtocol = Busy;
 * const addr = { type: "TCP", host: "10.0.0.2", port: 4000 } as const;
 *
 * const first = factory.buildProtocol(addr)!;
 * first.makeConnection(new StringTransport());
 * const second = factory.buildProtocol(addr)!;
 * const transport = new StringTransportWithDisconnection();
 * transport.protocol = second;
 * second.makeConnection(transport);
 * assert.equal(transport.valueString(), "busy\r\n");
 * assert.equal(factory.connectionCount, 1);
 * ```
 */
export class LimitTotalConnectionsFactory extends ServerFactory implements ProtocolRegistry {
  /** How many connections are open (or built and not yet closed). */
  connectionCount: number = 0;
  /** The most connections open at once; `null` (the default) for no limit. */
  connectionLimit: number | null = null;
  /**
   * The protocol for connections past the limit; `null` (the default)
   * closes them at once.
   */
  overflowProtocol: (new () => ProtocolLike) | null = null;

  /**
   * Builds `protocol`, or `overflowProtocol` past the limit, and wraps it so
   * that the end of its connection is counted.
   *
   * @param addr The peer's address.
   * @returns The wrapper, or `null` past the limit without an overflow protocol.
   * @throws {TypeError} If `protocol` is not set.
   */
  override buildProtocol(addr: Address): ProtocolWrapper | null {
    let wrapped: ProtocolLike | null;
    if (this.connectionLimit === null || this.connectionCount < this.connectionLimit) {
      wrapped = super.buildProtocol(addr);
    } else if (this.overflowProtocol === null) {
      return null;
    } else {
      wrapped = new this.overflowProtocol();
      if ("factory" in wrapped) (wrapped as { factory: unknown }).factory = this;
    }
    if (wrapped === null) return null;
    const protocol = new ProtocolWrapper(this, wrapped);
    this.connectionCount++;
    return protocol;
  }

  /**
   * Does nothing: connections are counted when built.
   *
   * @param _p The wrapper.
   */
  registerProtocol(_p: ProtocolWrapper): void {}

  /**
   * Counts a closed connection.
   *
   * @param _p The wrapper.
   */
  unregisterProtocol(_p: ProtocolWrapper): void {
    this.connectionCount--;
  }
}
