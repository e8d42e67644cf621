import type { DelayedCall } from "../defer/time.ts";
import type { Address, FactoryLike, Producer, ProtocolLike } from "../reactor/interfaces.ts";
import { realTime } from "../reactor/_real_time.ts";
import type { CallLaterClock } from "./timeout_mixin.ts";
import { ProtocolWrapper, WrappingFactory } from "./wrapping_factory.ts";

const encoder = new TextEncoder();

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/**
 * The wrapper a {@linkcode ThrottlingFactory} puts around each protocol: it
 * counts the bytes read and written on the factory, and pauses or resumes
 * the connection when the factory says so. Reads are throttled by pausing
 * the transport; writes by pausing the producer the protocol registered, if
 * any (a protocol that writes without a producer is never slowed down).
 *
 * @example Counting bytes
 * ```ts
 * import { Factory, Protocol, ThrottlingFactory, ThrottlingProtocol } from "@torsion/torsion/protocols";
 * import { Clock, StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), { clock: new Clock() });
 * const p = factory.buildProtocol({ type: "TCP", host: "10.0.0.2", port: 4000 });
 * assert.ok(p instanceof ThrottlingProtocol);
 * p.makeConnection(new StringTransport());
 * p.writeSequence(["bytes", "bytes"]);
 * assert.equal(factory.writtenThisSecond, 10);
 * ```
 */
export class ThrottlingProtocol extends ProtocolWrapper {
  /** The factory that counts the bytes. */
  declare factory: ThrottlingFactory | null;
  /** The producer the wrapped protocol registered, paused to throttle writes; or `null`. */
  producer: Producer | null = null;

  /**
   * Counts the bytes, then writes them.
   *
   * @param data The bytes, or a string (counted as UTF-8).
   */
  override write(data: Uint8Array | string): void {
    const bytes = toBytes(data);
    this.factory?.registerWritten(bytes.length);
    super.write(bytes);
  }

  /**
   * Counts the bytes, then writes them.
   *
   * @param chunks The bytes or strings, in order.
   */
  override writeSequence(chunks: Iterable<Uint8Array | string>): void {
    const list = Array.from(chunks, toBytes);
    let total = 0;
    for (const chunk of list) total += chunk.length;
    this.factory?.registerWritten(total);
    super.writeSequence(list);
  }

  /**
   * Counts the bytes, then passes them on.
   *
   * @param data The bytes received.
   */
  override dataReceived(data: Uint8Array): void {
    this.factory?.registerRead(data.length);
    super.dataReceived(data);
  }

  /**
   * Keeps the producer, to pause it when writes are throttled, and
   * registers it with the transport.
   *
   * @param producer The producer.
   * @param streaming `true` for a push producer.
   * @throws {Error} If the transport already has a producer.
   */
  override registerProducer(producer: Producer, streaming: boolean): void {
    this.producer = producer;
    super.registerProducer(producer, streaming);
  }

  /** Forgets the producer and unregisters it from the transport. */
  override unregisterProducer(): void {
    this.producer = null;
    super.unregisterProducer();
  }

  /** Stops reading from the connection. */
  throttleReads(): void {
    this.transport?.pauseProducing();
  }

  /** Reads from the connection again. */
  unthrottleReads(): void {
    this.transport?.resumeProducing();
  }

  /** Pauses the registered producer, if it can be paused. */
  throttleWrites(): void {
    const producer = this.producer as Partial<{ pauseProducing(): void }> | null;
    producer?.pauseProducing?.();
  }

  /** Resumes the registered producer. */
  unthrottleWrites(): void {
    this.producer?.resumeProducing();
  }
}

/** Options of a {@linkcode ThrottlingFactory}. */
export interface ThrottlingFactoryOptions {
  /** How many connections may be open at once (default: no limit). */
  maxConnectionCount?: number;
  /** Bytes per second to read, across all connections (default `null`: no limit). */
  readLimit?: number | null;
  /** Bytes per second to write, across all connections (default `null`: no limit). */
  writeLimit?: number | null;
  /** Where the once-a-second checks are scheduled (default: the reactor's real time). */
  clock?: CallLaterClock | null;
}

/**
 * Limits the bandwidth and the number of connections of the factory it
 * wraps: a cheap defence against a client that floods a server, or a way
 * to keep a crawler polite.
 *
 * At the connection cap, `buildProtocol` returns `null`, so the connection
 * is closed at once. With a `readLimit` or `writeLimit`, the bytes are
 * counted across all connections and checked once a second while any
 * connection is open: a second that went over the limit pauses every
 * connection (reads: the transport; writes: the registered producer) for
 * as long as the excess would take at the limit
 * (`bytes / limit - 1` seconds), then resumes it. Throttling is coarse, by
 * whole seconds, and bursts up to a second's worth pass unchecked. The
 * checks stop when the last connection closes.
 *
 * Divergences from Twisted: settings are passed as an options object, with
 * the `clock` (Twisted's tests override `callLater`, which also works);
 * the cap is checked before the bandwidth checks start, and a refused or
 * unbuilt connection does not count, so no timer is left behind; a new
 * throttle replaces a pending unthrottle rather than leaving two; nothing
 * is logged.
 *
 * @example Capping connections
 * ```ts
 * import { Factory, Protocol, ThrottlingFactory } from "@torsion/torsion/protocols";
 * import { Clock } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), {
 *   maxConnectionCount: 1,
 *   clock: new Clock(),
 * });
 * const addr = { type: "TCP", host: "10.0.0.2", port: 4000 } as const;
 * assert.notEqual(factory.buildProtocol(addr), null);
 * assert.equal(factory.buildProtocol(addr), null);
 * assert.equal(factory.connectionCount, 1);
 * ```
 */
export class ThrottlingFactory extends WrappingFactory {
  /** How many connections are open. */
  connectionCount: number = 0;
  /** How many connections may be open at once. */
  maxConnectionCount: number;
  /** Bytes per second to read, or `null` for no limit. */
  readLimit: number | null;
  /** Bytes per second to write, or `null` for no limit. */
  writeLimit: number | null;
  /** Bytes read since the last check. */
  readThisSecond: number = 0;
  /** Bytes written since the last check. */
  writtenThisSecond: number = 0;
  /** Where checks are scheduled: `null` uses the reactor's real time. */
  clock: CallLaterClock | null;

  #unthrottleReadsCall: DelayedCall | null = null;
  #checkReadCall: DelayedCall | null = null;
  #unthrottleWritesCall: DelayedCall | null = null;
  #checkWriteCall: DelayedCall | null = null;

  /**
   * Wraps a factory.
   *
   * @param wrappedFactory The factory whose connections are limited.
   * @param options The limits, and the clock.
   */
  constructor(wrappedFactory: FactoryLike, options: ThrottlingFactoryOptions = {}) {
    super(wrappedFactory);
    this.maxConnectionCount = options.maxConnectionCount ?? Infinity;
    this.readLimit = options.readLimit ?? null;
    this.writeLimit = options.writeLimit ?? null;
    this.clock = options.clock ?? null;
  }

  /**
   * Schedules `fn` after `period` seconds on {@linkcode ThrottlingFactory.clock};
   * override it to schedule elsewhere.
   *
   * @param period Seconds from now.
   * @param fn The function.
   * @returns The call.
   */
  callLater(period: number, fn: () => void): DelayedCall {
    return (this.clock ?? realTime).callLater(period, fn);
  }

  /**
   * Counts bytes written; the wrappers call it.
   *
   * @param length How many.
   */
  registerWritten(length: number): void {
    this.writtenThisSecond += length;
  }

  /**
   * Counts bytes read; the wrappers call it.
   *
   * @param length How many.
   */
  registerRead(length: number): void {
    this.readThisSecond += length;
  }

  /**
   * The once-a-second read check: throttles reads if the last second went
   * over `readLimit`, then starts a new second.
   */
  checkReadBandwidth(): void {
    const limit = this.readLimit;
    if (limit !== null && this.readThisSecond > limit) {
      this.throttleReads();
      this.#cancel(this.#unthrottleReadsCall);
      this.#unthrottleReadsCall = this.callLater(
        this.readThisSecond / limit - 1,
        () => this.unthrottleReads(),
      );
    }
    this.readThisSecond = 0;
    this.#checkReadCall = this.callLater(1, () => this.checkReadBandwidth());
  }

  /**
   * The once-a-second write check: throttles writes if the last second went
   * over `writeLimit`, then starts a new second.
   */
  checkWriteBandwidth(): void {
    const limit = this.writeLimit;
    if (limit !== null && this.writtenThisSecond > limit) {
      this.throttleWrites();
      this.#cancel(this.#unthrottleWritesCall);
      this.#unthrottleWritesCall = this.callLater(
        this.writtenThisSecond / limit - 1,
        () => this.unthrottleWrites(),
      );
    }
    this.writtenThisSecond = 0;
    this.#checkWriteCall = this.callLater(1, () => this.checkWriteBandwidth());
  }

  /** Pauses reading on every connection. */
  throttleReads(): void {
    for (const p of this.#throttled()) p.throttleReads();
  }

  /** Resumes reading on every connection. */
  unthrottleReads(): void {
    this.#unthrottleReadsCall = null;
    for (const p of this.#throttled()) p.unthrottleReads();
  }

  /** Pauses the producers of every connection. */
  throttleWrites(): void {
    for (const p of this.#throttled()) p.throttleWrites();
  }

  /** Resumes the producers of every connection. */
  unthrottleWrites(): void {
    this.#unthrottleWritesCall = null;
    for (const p of this.#throttled()) p.unthrottleWrites();
  }

  /**
   * Builds a wrapped protocol unless the connection cap is reached; the
   * first connection starts the bandwidth checks.
   *
   * @param addr The peer's address.
   * @returns The wrapper, or `null` to refuse the connection.
   */
  override buildProtocol(addr: Address): ProtocolWrapper | null {
    if (this.connectionCount >= this.maxConnectionCount) return null;
    const p = super.buildProtocol(addr);
    if (p === null) return null;
    if (this.connectionCount === 0) {
      if (this.readLimit !== null) this.checkReadBandwidth();
      if (this.writeLimit !== null) this.checkWriteBandwidth();
    }
    this.connectionCount++;
    return p;
  }

  /**
   * Makes a {@linkcode ThrottlingProtocol}.
   *
   * @param wrappedProtocol The protocol to wrap.
   * @returns The wrapper.
   */
  override wrapProtocol(wrappedProtocol: ProtocolLike): ProtocolWrapper {
    return new ThrottlingProtocol(this, wrappedProtocol);
  }

  /**
   * Forgets a closed connection; the last one stops the checks.
   *
   * @param p The wrapper.
   */
  override unregisterProtocol(p: ProtocolWrapper): void {
    super.unregisterProtocol(p);
    this.connectionCount--;
    if (this.connectionCount === 0) {
      for (
        const call of [
          this.#unthrottleReadsCall,
          this.#checkReadCall,
          this.#unthrottleWritesCall,
          this.#checkWriteCall,
        ]
      ) {
        this.#cancel(call);
      }
      this.#unthrottleReadsCall = this.#checkReadCall = null;
      this.#unthrottleWritesCall = this.#checkWriteCall = null;
    }
  }

  #cancel(call: DelayedCall | null): void {
    if (call !== null && call.active()) call.cancel();
  }

  #throttled(): ThrottlingProtocol[] {
    return [...this.protocols].filter((p) => p instanceof ThrottlingProtocol);
  }
}
