import type { Failure } from "../defer/failure.ts";
import type { ProtocolLike, Transport } from "../reactor/interfaces.ts";
import type { Factory } from "./factory.ts";

/**
 * The base class of every stream protocol, client or server: subclass it and
 * override the event methods you need. A protocol turns a stream of bytes into
 * higher-level events, and writes its answers through
 * {@linkcode Protocol.transport}.
 *
 * The reactor calls {@linkcode Protocol.makeConnection} once the connection is
 * up, then {@linkcode Protocol.dataReceived} for each chunk that arrives, then
 * {@linkcode Protocol.connectionLost} exactly once. Bytes arrive in chunks of
 * arbitrary size: a message may be split over several calls, or several
 * messages may share one. Buffer what you have not parsed yet, and in tests
 * feed `dataReceived` the same stream in every chunking, down to one byte at
 * a time.
 *
 * Half-close is opt-in: this class has no `readConnectionLost` or
 * `writeConnectionLost`. Define both on a subclass and the transport calls
 * `readConnectionLost()` on the peer's end of stream instead of
 * `connectionLost`, and `writeConnectionLost()` after
 * `transport.loseWriteConnection()`; without them, the peer's end of stream
 * closes the whole connection.
 *
 * Divergences from Twisted: `connected` is a boolean rather than `0`/`1`;
 * `connectionLost` needs its reason (Twisted defaults it to `connectionDone`);
 * the base `connectionLost` sets `connected` back to `false`, so an override
 * should call `super.connectionLost(reason)`.
 *
 * @example An echo server's protocol, driven by hand
 * ```ts
 * import { Protocol, type Transport } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport!.write(data);
 *   }
 * }
 *
 * const written: Array<Uint8Array | string> = [];
 * const transport = { write: (d: Uint8Array | string) => written.push(d) } as unknown as Transport;
 * const p = new Echo();
 * p.makeConnection(transport);
 * assert.equal(p.connected, true);
 * p.dataReceived(new TextEncoder().encode("hi"));
 * assert.deepEqual(written, [new TextEncoder().encode("hi")]);
 * ```
 */
export class Protocol implements ProtocolLike {
  /**
   * The connection: `null` until {@linkcode Protocol.makeConnection}, then the
   * transport to write to (inside `connectionMade` and later,
   * `this.transport!` is safe). A TCP protocol may narrow it with
   * `declare transport: TCPTransport | null;` to reach `setTcpNoDelay`.
   */
  transport: Transport | null = null;

  /**
   * The factory that built this protocol, set by
   * {@linkcode Factory.buildProtocol}; `null` for a protocol made by hand.
   * Narrow it in a subclass with `declare factory: MyFactory | null;` to reach
   * the factory's shared state.
   */
  factory: Factory | null = null;

  /** Whether the connection is up: set by `makeConnection`, cleared by `connectionLost`. */
  connected: boolean = false;

  /**
   * Attaches the protocol to its transport: sets `connected` and `transport`,
   * then calls {@linkcode Protocol.connectionMade}. The reactor calls it;
   * tests call it with a fake transport.
   *
   * @param transport The connection.
   */
  makeConnection(transport: Transport): void {
    this.connected = true;
    this.transport = transport;
    this.connectionMade();
  }

  /**
   * Called once the connection is up: the place for a greeting, or for state
   * that needs the transport. Does nothing by default.
   */
  connectionMade(): void {}

  /**
   * Called with each chunk of bytes received, of any size: buffer partial
   * messages. Does nothing by default.
   *
   * @param data The bytes, in a chunk of arbitrary size.
   */
  // deno-lint-ignore no-unused-vars
  dataReceived(data: Uint8Array): void {}

  /**
   * Called exactly once when the connection is gone; drop references to
   * other objects here. Sets `connected` to `false`.
   *
   * @param reason Why: `ConnectionDone` for a clean close, `ConnectionLost`
   * (or its subclass `ConnectionAborted`) otherwise.
   */
  // deno-lint-ignore no-unused-vars
  connectionLost(reason: Failure): void {
    this.connected = false;
  }

  /**
   * Names this protocol in log messages.
   *
   * @returns The class name.
   */
  logPrefix(): string {
    return this.constructor.name;
  }
}
