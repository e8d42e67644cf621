import type { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import { Protocol } from "../protocols/protocol.ts";
import { concat } from "./_bytes.ts";

/**
 * What an {@linkcode AccumulatingProtocol} looks for on its factory: a
 * Deferred to fire with the protocol once it is connected.
 */
export interface AccumulatingFactory {
  /**
   * Fired with the protocol by its `connectionMade`, then set to `null`, so
   * only the first connection fires it. Set a new Deferred to wait for the
   * next one.
   */
  protocolConnectionMade: Deferred<AccumulatingProtocol> | null;
}

const decoder = new TextDecoder();

/**
 * A protocol that records everything that happens to it: whether it was
 * connected, every byte it received, and why it was closed. The other end
 * of a connection in tests, when what matters is what the code under test
 * sends.
 *
 * To wait for the events, set {@linkcode AccumulatingProtocol.closedDeferred}
 * to a Deferred (fired with `undefined` by `connectionLost`), or give the
 * factory a `protocolConnectionMade` Deferred (fired with the protocol by
 * `connectionMade`; see {@linkcode AccumulatingFactory}). Each fires once and
 * is then set back to `null`.
 *
 * Divergences from Twisted: `made` and `closed` are booleans rather than
 * `0`/`1`; `closedReason` is `null` until closed; `dataString()` is added.
 *
 * @example Recording what a server sent
 * ```ts
 * import { Deferred } from "@torsion/torsion/defer";
 * import { AccumulatingProtocol, StringTransportWithDisconnection } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const p = new AccumulatingProtocol();
 * const closed = new Deferred<void>();
 * p.closedDeferred = closed;
 * const transport = new StringTransportWithDisconnection();
 * transport.protocol = p;
 * p.makeConnection(transport);
 * p.dataReceived(new TextEncoder().encode("hello "));
 * p.dataReceived(new TextEncoder().encode("world"));
 * transport.loseConnection();
 *
 * assert.equal(p.made, true);
 * assert.equal(p.dataString(), "hello world");
 * assert.equal(p.closed, true);
 * assert.equal(p.closedReason?.getErrorMessage(), "Bye.");
 * assert.equal(closed.called, true);
 * ```
 */
export class AccumulatingProtocol extends Protocol {
  /** `true` once `connectionMade` has run. */
  made: boolean = false;
  /** `true` once `connectionLost` has run. */
  closed: boolean = false;
  /** The reason given to `connectionLost`, or `null` before it. */
  closedReason: Failure | null = null;
  /** If set, fired with `undefined` by `connectionLost`, then set to `null`. */
  closedDeferred: Deferred<void> | null = null;

  #chunks: Uint8Array[] = [];
  #joined: Uint8Array | null = new Uint8Array(0);

  /**
   * Every byte received so far, in one array. Assign an empty array to
   * forget them.
   */
  get data(): Uint8Array {
    if (this.#joined === null) {
      this.#joined = concat(this.#chunks);
      this.#chunks = [this.#joined];
    }
    return this.#joined;
  }

  set data(value: Uint8Array) {
    this.#chunks = [value];
    this.#joined = value;
  }

  /**
   * Every byte received so far, decoded as UTF-8.
   *
   * @returns The text.
   */
  dataString(): string {
    return decoder.decode(this.data);
  }

  /**
   * Sets `made`, and fires the factory's `protocolConnectionMade` Deferred
   * (if it has one) with this protocol.
   */
  override connectionMade(): void {
    this.made = true;
    const factory = this.factory as Partial<AccumulatingFactory> | null;
    const d = factory?.protocolConnectionMade;
    if (d !== null && d !== undefined) {
      factory!.protocolConnectionMade = null;
      d.callback(this);
    }
  }

  /**
   * Appends `data` to {@linkcode AccumulatingProtocol.data}.
   *
   * @param data The bytes received.
   */
  override dataReceived(data: Uint8Array): void {
    this.#chunks.push(data.slice());
    this.#joined = null;
  }

  /**
   * Sets `closed` and `closedReason`, and fires `closedDeferred` if set.
   *
   * @param reason Why the connection ended.
   */
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.closed = true;
    this.closedReason = reason;
    const d = this.closedDeferred;
    if (d !== null) {
      this.closedDeferred = null;
      d.callback(undefined);
    }
  }
}
