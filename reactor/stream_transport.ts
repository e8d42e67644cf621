/**
 * The connection machinery shared by stream sockets (TCP now, TLS and UNIX
 * sockets later): one read loop and one write pump per `Deno.Conn`, flow
 * control in both directions, half-close, and the one call of
 * `connectionLost`.
 *
 * @module
 */
import { Failure } from "../defer/failure.ts";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "./connection_errors.ts";
import type { Address, Producer, ProtocolLike, PushProducer, Transport } from "./interfaces.ts";
import { Logger } from "./log.ts";
import { _WriteQueue } from "./_write_queue.ts";

const logger = new Logger("reactor");

/** The smallest read buffer: what an idle connection keeps pinned. */
const MIN_READ = 1024;
/**
 * The largest read buffer, reached after reads that fill the buffer. Each
 * full read hands its buffer to the protocol and takes a fresh one, whose
 * allocation and zeroing cost by the byte (a profile of the bulk echo
 * benchmark put a quarter of the server's CPU there, with the collector
 * freeing it); 256 KiB reads take a quarter of the allocations, promises and
 * calls of 64 KiB ones, and bulk CPU per MiB fell by about a fifth.
 */
const MAX_READ = 256 * 1024;
/**
 * Small reads share one buffer: each lands after the last, and the chunk
 * handed to the protocol is a view of it. A fresh buffer is taken once fewer
 * than this many bytes are left. Copying every small read into its own
 * buffer cost about 7% of an echo round trip.
 */
const MIN_ROOM = 512;
/**
 * Writes of up to this many bytes (or UTF-16 units, for a string) made while
 * a write is in flight are staged (see `_write_queue.ts`) instead of being
 * queued one by one.
 */
const STAGE_WRITE = 4 * 1024;

/**
 * The read buffer lent to a `dataReceived` that borrows its data, and the
 * transport lending it, while that call runs: a `write` of a view of it is
 * copied unless the lender's own pump can write it at once.
 */
let lentBuffer: ArrayBufferLike | undefined;
let lender: StreamTransport | undefined;

/** Every connection not yet lost, for the reactor's shutdown. */
const live = new Set<StreamTransport>();

/**
 * The stream connections that have started and are not yet lost, in the
 * order they started.
 *
 * @returns A snapshot of them.
 */
export function _liveStreamTransports(): StreamTransport[] {
  return [...live];
}

/**
 * Turns a Deno address into torsion's.
 *
 * @param addr A `Deno.Addr`.
 * @returns The same address as an {@linkcode Address}.
 */
export function _toAddress(addr: Deno.Addr): Address {
  switch (addr.transport) {
    case "tcp":
      return { type: "TCP", host: addr.hostname, port: addr.port };
    case "udp":
      return { type: "UDP", host: addr.hostname, port: addr.port };
    case "unix":
    case "unixpacket":
      return { type: "UNIX", path: addr.path ?? "" };
    default: {
      // A connection upgraded with Deno.startTls reports no transport.
      const ip = addr as unknown as { hostname?: unknown; port?: unknown };
      if (typeof ip.hostname === "string" && typeof ip.port === "number") {
        return { type: "TCP", host: ip.hostname, port: ip.port };
      }
      throw new TypeError(`Address transport ${addr.transport} is not supported`);
    }
  }
}

/** `127.0.0.1:80`, `[::1]:80` or a socket path, for log messages. */
export function _formatAddress(address: Address): string {
  if (address.type === "UNIX") return address.path || "(unnamed socket)";
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

function nameOf(value: unknown): string {
  const name = (value as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name !== "" ? name : "protocol";
}

/** Options for {@linkcode StreamTransport}. */
export interface StreamTransportOptions {
  /**
   * Called once, right after the protocol's `connectionLost`, with the same
   * reason: a client connection tells its connector here.
   */
  onConnectionLost?: (reason: Failure) => void;
}

/**
 * A connected stream socket as its protocol sees it: Twisted's
 * `tcp.Connection` over a `Deno.Conn`.
 *
 * Reading: one loop per connection awaits `conn.read` and hands each chunk to
 * `dataReceived` as a Uint8Array sized to the bytes read, which the protocol
 * may keep: the transport never writes to it again. The read buffer adapts:
 * it starts at 1 KiB (an idle connection pins only that), doubles after each
 * read that fills it, up to 256 KiB, and after a read that used a quarter of
 * it or less it shrinks to the smallest power of two that holds what that
 * read brought. A read that fills the buffer hands over the buffer itself;
 * smaller reads land one after another in the same buffer, each handed over
 * as a view of its own bytes. A protocol whose `borrowsData` is `true` gets
 * instead views of one reused buffer, valid until `dataReceived` returns.
 *
 * Writing: `write` never blocks and never throws for a closed connection (the
 * data is dropped). With nothing in flight, a chunk goes to the socket as
 * given. While a write is in flight, small chunks (up to 4 KiB) and strings
 * are copied (strings encoded in place) into a staging buffer that grows
 * from 4 KiB to 64 KiB, so a slow reader's backlog of small writes costs
 * its size and not a buffer and a queue slot each; larger chunks are queued
 * as given, not copied (do not change a Uint8Array after passing it to
 * `write`). One pump per connection writes the queue with
 * `await conn.write`, joining small queued chunks into writes of up to
 * 128 KiB and carrying on after partial writes. The staging buffer is let
 * go once the queue drains, so an idle connection keeps none.
 *
 * Divergences from Twisted, on purpose:
 * - When the peer ends the stream (EOF) and the protocol does not do
 *   half-close, what is already queued is still sent before the connection
 *   closes with `ConnectionDone` (Twisted drops it).
 * - `connectionLost` runs once the socket's pending read and write have
 *   settled, so it is always on a later turn than the call that closed the
 *   connection.
 */
export class StreamTransport implements Transport {
  /**
   * The number of queued bytes above which a registered streaming producer
   * is paused; it is resumed once the queue has drained.
   */
  bufferSize: number = 64 * 1024;

  #conn: Deno.Conn;
  readonly #protocol: ProtocolLike;
  readonly #onConnectionLost: ((reason: Failure) => void) | undefined;

  // Lifecycle.
  #disconnecting = false; // loseConnection() was called
  #closing = false; // the socket is closed or closing; waiting for its ops
  #lost = false; // connectionLost has run
  #reason: Failure | undefined;
  #closeAfterFlush = false; // the peer's EOF: close once the queue drains
  #lostWaiters: Array<() => void> | undefined;

  // Reading.
  #reading = false; // the read loop is running (possibly paused)
  #readPaused = false;
  #wake: (() => void) | undefined;
  #readSize = MIN_READ;
  // Borrowing: the pump is writing a view of the read buffer lent to the
  // protocol, which the read loop must not read into until it is written.
  #lentBusy = false;
  #lentFree: (() => void) | undefined;

  // Writing.
  readonly #queue: _WriteQueue = new _WriteQueue();
  #queued = 0; // bytes queued and not yet fully written
  #writing = false; // the write pump is running
  #writeDisconnecting = false;
  #writeDisconnected = false;

  // The producer feeding this transport.
  #producer: Producer | undefined;
  #streaming = false;
  #producerPaused = false;

  #peer: Address | undefined;
  #host: Address | undefined;

  // Upgrading the connection in place (startTLS).
  #inProtocol = false; // inside connectionMade or dataReceived: no read is pending
  #upgrade: ((conn: Deno.Conn) => Promise<Deno.Conn>) | undefined;
  #plaintext: Uint8Array[] = []; // queued before the upgrade was asked for
  #pumpStopped: (() => void) | undefined;

  /**
   * Wraps a connected socket. Nothing happens until {@linkcode start}.
   *
   * @param conn The socket.
   * @param protocol The protocol that will speak on it.
   * @param options A hook for the end of the connection.
   */
  constructor(conn: Deno.Conn, protocol: ProtocolLike, options: StreamTransportOptions = {}) {
    this.#conn = conn;
    this.#protocol = protocol;
    this.#onConnectionLost = options.onConnectionLost;
  }

  /**
   * Connects the protocol (`makeConnection`, hence `connectionMade`) and
   * starts reading. An exception from `connectionMade` is logged and closes
   * the connection with that exception as the reason.
   */
  start(): void {
    live.add(this);
    this.#inProtocol = true;
    try {
      this.#protocol.makeConnection(this);
    } catch (error) {
      this.#protocolError("makeConnection", error);
      return;
    } finally {
      this.#inProtocol = false;
    }
    if (!this.#closing && !this.#disconnecting) {
      this.#reading = true;
      this.#readLoop();
    }
  }

  /** The underlying socket, for subclasses that add socket options. */
  protected get conn(): Deno.Conn {
    return this.#conn;
  }

  /** Whether `loseConnection()` has been called. */
  get disconnecting(): boolean {
    return this.#disconnecting;
  }

  /** Whether the connection is up: started, and not yet closing or lost. */
  get connected(): boolean {
    return !this.#closing;
  }

  /**
   * The other end of the connection.
   *
   * @returns Its address.
   */
  getPeer(): Address {
    return (this.#peer ??= _toAddress(this.#conn.remoteAddr));
  }

  /**
   * This end of the connection.
   *
   * @returns Its address.
   */
  getHost(): Address {
    return (this.#host ??= _toAddress(this.#conn.localAddr));
  }

  // -------------------------------------------------------------------------
  // Writing
  // -------------------------------------------------------------------------

  /**
   * Queues bytes for the peer. Never blocks; dropped silently once the
   * connection is closed or its write side shut down. A string is sent as
   * UTF-8. The Uint8Array is kept, not copied, until it has been written.
   *
   * @param data The bytes, or a string.
   * @throws {TypeError} If `data` is neither a Uint8Array nor a string.
   */
  write(data: Uint8Array | string): void {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError(`Data must be a Uint8Array or a string, not ${nameOf(data)}`);
    }
    if (this.#closing || this.#writeDisconnected || data.length === 0) return;
    if (lentBuffer !== undefined && typeof data !== "string" && data.buffer === lentBuffer) {
      if (lender === this && !this.#writing && this.#upgrade === undefined) {
        // The pump takes it now, alone; the read loop waits until it is written.
        this.#lentBusy = true;
      } else if (!this.#writing || data.length > STAGE_WRITE) {
        data = data.slice(); // staging would copy it anyway
      }
    }
    this.#enqueue(data);
    this.#maybePauseProducer();
    if (!this.#writing && this.#upgrade === undefined) {
      this.#writing = true;
      this.#pump();
    }
  }

  /**
   * Queues several chunks at once, as one `write` each but with one check of
   * the producer.
   *
   * @param chunks The bytes or strings, in order.
   * @throws {TypeError} If a chunk is neither a Uint8Array nor a string.
   */
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    const list = [...chunks];
    for (const chunk of list) {
      if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) {
        throw new TypeError(`Data must be a Uint8Array or a string, not ${nameOf(chunk)}`);
      }
    }
    if (this.#closing || this.#writeDisconnected) return;
    for (const chunk of list) {
      if (chunk.length === 0) continue;
      const lent = lentBuffer !== undefined && typeof chunk !== "string" &&
        chunk.buffer === lentBuffer;
      this.#enqueue(lent ? chunk.slice() : chunk);
    }
    this.#maybePauseProducer();
    if (!this.#writing && this.#upgrade === undefined && !this.#queue.isEmpty) {
      this.#writing = true;
      this.#pump();
    }
  }

  /** Adds a non-empty chunk to the queue, staging it when a write is in flight. */
  #enqueue(data: Uint8Array | string): void {
    this.#queued += this.#writing && data.length <= STAGE_WRITE
      ? this.#queue.stage(data)
      : this.#queue.push(data);
  }

  #maybePauseProducer(): void {
    if (
      this.#streaming && !this.#producerPaused && this.#queued > this.bufferSize &&
      this.#producer !== undefined
    ) {
      this.#producerPaused = true;
      (this.#producer as PushProducer).pauseProducing();
    }
  }

  /** Starts the pump unless it runs; it also acts on a drained queue. */
  #kick(): void {
    if (this.#writing || this.#closing || this.#upgrade !== undefined) return;
    this.#writing = true;
    this.#pump();
  }

  /**
   * The write pump: writes until the queue is empty, then does what an
   * empty queue calls for (resume the producer, close, shut down writing).
   */
  async #pump(): Promise<void> {
    const conn = this.#conn;
    try {
      for (;;) {
        while (!this.#queue.isEmpty) {
          if (this.#upgrade !== undefined) return;
          const chunk = this.#queue.take();
          let written = await conn.write(chunk);
          while (written < chunk.length) {
            if (this.#closing) return;
            written += await conn.write(chunk.subarray(written));
          }
          if (this.#lentBusy) this.#releaseLent();
          if (this.#closing) return;
          this.#queued -= chunk.length;
        }
        // The queue has drained: let the staging buffer go.
        this.#queue.release();
        if (this.#closing || this.#upgrade !== undefined) return;
        if (this.#closeAfterFlush) {
          this.#closeNow(new Failure(new ConnectionDone()));
          return;
        }
        const producer = this.#producer;
        if (producer !== undefined && (!this.#streaming || this.#producerPaused)) {
          this.#producerPaused = false;
          try {
            producer.resumeProducing();
          } catch (error) {
            this.#protocolError("resumeProducing", error, producer);
            return;
          }
          if (this.#closing) return;
          if (!this.#queue.isEmpty) continue;
          // Nothing written: wait for the next write, unless the producer
          // has gone and the connection is waiting to close.
          if (this.#producer === undefined && (this.#disconnecting || this.#writeDisconnecting)) {
            continue;
          }
          return;
        }
        if (this.#disconnecting) {
          this.#closeNow(new Failure(new ConnectionDone()));
          return;
        }
        if (this.#writeDisconnecting && !this.#writeDisconnected) {
          this.#writeDisconnected = true;
          try {
            await conn.closeWrite();
          } catch {
            // Already shut down or reset: the connection's end will tell.
          }
          if (this.#closing) return;
          if (typeof this.#protocol.writeConnectionLost === "function") {
            try {
              this.#protocol.writeConnectionLost();
            } catch (error) {
              this.#protocolError("writeConnectionLost", error);
            }
          }
        }
        return;
      }
    } catch (error) {
      if (!this.#closing) {
        this.#closeNow(new Failure(new ConnectionLost(undefined, { cause: error })));
      }
    } finally {
      this.#writing = false;
      if (this.#lentBusy) this.#releaseLent();
      this.#pumpStopped?.();
      // The pump may have run synchronously inside loseConnection() or
      // unregisterProducer(): connectionLost must not run inside those.
      if (this.#closing) queueMicrotask(() => this.#finish());
    }
  }

  // -------------------------------------------------------------------------
  // Upgrading (startTLS)
  // -------------------------------------------------------------------------

  /**
   * Replaces the connection with `upgrade(conn)` (a TLS connection over
   * it), as Twisted's `startTLS` does: what was written before this call is
   * sent as it is first, what is written after goes over the new connection,
   * and the protocol keeps receiving. It must be called from
   * `connectionMade` or `dataReceived` (so that no read is pending on the
   * old connection), as a protocol does when its peer agrees to start TLS.
   * A failed upgrade closes the connection with `ConnectionLost`, the error
   * as its cause.
   *
   * @param upgrade Makes the new connection from the old.
   * @throws {Error} Outside `connectionMade` and `dataReceived`, on a closing
   *   connection, or while an upgrade is under way.
   */
  protected upgradeConnection(upgrade: (conn: Deno.Conn) => Promise<Deno.Conn>): void {
    if (this.#closing || this.#disconnecting) {
      throw new Error("Cannot upgrade a connection that is closing");
    }
    if (this.#upgrade !== undefined) throw new Error("An upgrade is already under way");
    if (!this.#inProtocol) {
      throw new Error(
        "startTLS must be called from connectionMade or dataReceived, when no read is pending",
      );
    }
    this.#upgrade = upgrade;
    this.#plaintext = this.#queue.takeAll();
  }

  /** Runs the upgrade asked for; `false` if the connection ended instead. */
  async #upgradeNow(): Promise<boolean> {
    const upgrade = this.#upgrade!;
    try {
      // Let a write in flight finish, then send what came before the upgrade.
      if (this.#writing) {
        await new Promise<void>((resolve) => (this.#pumpStopped = resolve));
        this.#pumpStopped = undefined;
      }
      const old = this.#conn;
      for (const chunk of this.#plaintext) {
        for (let done = 0; done < chunk.length;) {
          done += await old.write(chunk.subarray(done));
        }
        this.#queued -= chunk.length;
      }
      this.#plaintext = [];
      if (this.#closing) return false;
      this.#conn = await upgrade(old);
    } catch (error) {
      this.#upgrade = undefined;
      if (!this.#closing) {
        this.#closeNow(new Failure(new ConnectionLost(undefined, { cause: error })));
      }
      return false;
    }
    this.#upgrade = undefined;
    if (this.#closing) {
      try {
        this.#conn.close();
      } catch {
        // Closed with the old connection.
      }
      return false;
    }
    this.#kick();
    return true;
  }

  // -------------------------------------------------------------------------
  // Reading
  // -------------------------------------------------------------------------

  /** The pump is done with the lent read buffer: the read loop may reuse it. */
  #releaseLent(): void {
    this.#lentBusy = false;
    const free = this.#lentFree;
    if (free !== undefined) {
      this.#lentFree = undefined;
      free();
    }
  }

  #waitForResume(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }

  #wakeReader(): void {
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      wake();
    }
  }

  /**
   * The read loop: one pending `conn.read` at a time, none while paused.
   *
   * Each chunk handed to `dataReceived` is a view that the loop never writes
   * to again, so protocols may keep it (as a write queue does). Reads go into
   * the unused end of the current buffer; a read that fills a whole buffer
   * doubles the next one (up to 256 KiB), and a small read in a large buffer
   * shrinks it back, so an idle connection pins about 1 KiB. For a protocol
   * that borrows its data, every read goes to the start of one buffer, once
   * the pump has written any view of it that the protocol wrote.
   */
  async #readLoop(): Promise<void> {
    let conn = this.#conn;
    let buffer = new Uint8Array(this.#readSize);
    let offset = 0; // where the next read lands in `buffer`
    const borrows = this.#protocol.borrowsData === true;
    try {
      for (;;) {
        if (this.#upgrade !== undefined) {
          if (!(await this.#upgradeNow())) return;
          conn = this.#conn;
        }
        while (this.#readPaused && !this.#closing && !this.#disconnecting) {
          await this.#waitForResume();
        }
        if (this.#closing || this.#disconnecting) return;
        while (this.#lentBusy && !this.#closing) {
          await new Promise<void>((resolve) => (this.#lentFree = resolve));
        }
        if (this.#closing || this.#disconnecting) return;
        const target = offset === 0 ? buffer : buffer.subarray(offset);
        let n: number | null;
        try {
          n = await conn.read(target);
        } catch (error) {
          if (!this.#closing) {
            this.#closeNow(new Failure(new ConnectionLost(undefined, { cause: error })));
          }
          return;
        }
        if (this.#closing || this.#disconnecting) return;
        if (n === null) {
          this.#readEOF();
          return;
        }
        if (n === 0) continue;
        let data: Uint8Array;
        const size = buffer.length;
        if (borrows) {
          // The protocol gives the chunk back when dataReceived returns: read
          // into the same buffer next time, unless it should grow or shrink.
          data = n === size ? buffer : buffer.subarray(0, n);
          if (n === size && size < MAX_READ) {
            this.#readSize = size * 2;
            buffer = new Uint8Array(this.#readSize);
          } else if (size > MIN_READ && n <= size >> 2) {
            let fit = MIN_READ;
            while (fit < n) fit *= 2;
            this.#readSize = fit;
            buffer = new Uint8Array(fit);
          }
        } else if (n === target.length) {
          // Filled: more is probably waiting. A whole buffer filled grows the next one.
          data = target;
          if (offset === 0 && size < MAX_READ) this.#readSize = size * 2;
          buffer = new Uint8Array(this.#readSize);
          offset = 0;
        } else if (size > MIN_READ && n <= size >> 2) {
          // A small read in a large buffer: go back to a buffer that fits.
          data = target.subarray(0, n);
          let fit = MIN_READ;
          while (fit < n) fit *= 2;
          this.#readSize = fit;
          buffer = new Uint8Array(fit);
          offset = 0;
        } else {
          data = target.subarray(0, n);
          offset += n;
          if (size - offset < MIN_ROOM) {
            buffer = new Uint8Array(this.#readSize);
            offset = 0;
          }
        }
        // Paused while the read was pending: hold the chunk until resumed.
        while (this.#readPaused && !this.#closing && !this.#disconnecting) {
          await this.#waitForResume();
        }
        if (this.#closing || this.#disconnecting) return;
        this.#inProtocol = true;
        if (borrows) {
          lentBuffer = data.buffer;
          lender = this;
        }
        try {
          this.#protocol.dataReceived(data);
        } catch (error) {
          this.#protocolError("dataReceived", error);
          return;
        } finally {
          this.#inProtocol = false;
          lentBuffer = lender = undefined;
        }
      }
    } finally {
      this.#reading = false;
      if (this.#closing) this.#finish();
    }
  }

  /** The peer has ended its stream. */
  #readEOF(): void {
    const protocol = this.#protocol;
    if (typeof protocol.readConnectionLost === "function") {
      try {
        protocol.readConnectionLost();
      } catch (error) {
        this.#protocolError("readConnectionLost", error);
      }
      return;
    }
    if (this.#writing) {
      this.#closeAfterFlush = true;
    } else {
      this.#closeNow(new Failure(new ConnectionDone()));
    }
  }

  // -------------------------------------------------------------------------
  // Closing
  // -------------------------------------------------------------------------

  /**
   * Closes the connection once everything queued has been written; the
   * protocol's `connectionLost` then gets `ConnectionDone`. Reading stops at
   * once. As in Twisted, a registered pull producer (or a paused push
   * producer) is resumed instead while the queue is empty, so the
   * connection closes only after it unregisters.
   */
  loseConnection(): void {
    if (this.#closing || this.#disconnecting) return;
    if (this.#writeDisconnected) {
      this.#closeNow(new Failure(new ConnectionDone()));
      return;
    }
    this.#disconnecting = true;
    this.#wakeReader();
    this.#kick();
  }

  /**
   * Closes the connection at once, dropping whatever is queued. The
   * protocol's `connectionLost` gets `ConnectionAborted` on a later turn,
   * never from inside this call. Calling it again does nothing.
   */
  abortConnection(): void {
    if (this.#closing) return;
    this.#closeNow(new Failure(new ConnectionAborted()));
  }

  /**
   * Half-close: once everything queued has been written, shuts down the
   * write side (the peer reads EOF) and calls the protocol's
   * `writeConnectionLost()` if it has one. Reading carries on. Writes made
   * after the shutdown are dropped.
   */
  loseWriteConnection(): void {
    if (this.#closing || this.#writeDisconnecting) return;
    this.#writeDisconnecting = true;
    this.#kick();
  }

  /**
   * Resolves once `connectionLost` has run.
   *
   * @returns A promise of the end of the connection.
   */
  _whenLost(): Promise<void> {
    if (this.#lost) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#lostWaiters ??= []).push(resolve));
  }

  /** Closes the socket now; `connectionLost(reason)` follows once its ops settle. */
  #closeNow(reason: Failure): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#reason = reason;
    this.#queue.clear();
    this.#queued = 0;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    this.#wakeReader();
    this.#releaseLent();
    if (!this.#reading && !this.#writing) queueMicrotask(() => this.#finish());
  }

  /** Runs `connectionLost` once the read loop and the write pump are done. */
  #finish(): void {
    if (this.#lost || this.#reading || this.#writing) return;
    this.#lost = true;
    live.delete(this);
    const reason = this.#reason!;
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer !== undefined) {
      try {
        producer.stopProducing();
      } catch (error) {
        this.#logError("stopProducing", error, producer);
      }
    }
    try {
      this.#protocol.connectionLost(reason);
    } catch (error) {
      this.#logError("connectionLost", error);
    }
    if (this.#onConnectionLost !== undefined) {
      try {
        this.#onConnectionLost(reason);
      } catch (error) {
        this.#logError("connectionLost", error, this.#onConnectionLost);
      }
    }
    const waiters = this.#lostWaiters;
    this.#lostWaiters = undefined;
    if (waiters !== undefined) { for (const resolve of waiters) resolve(); }
  }

  #logError(where: string, error: unknown, owner: unknown = this.#protocol): void {
    let peer: string;
    try {
      peer = _formatAddress(this.getPeer());
    } catch {
      peer = "an unknown peer";
    }
    logger.error(
      `Unhandled error in ${nameOf(owner)}.${where}() on the connection with ${peer}`,
      error,
    );
  }

  /** An exception from the protocol: log it and close with it as the reason. */
  #protocolError(where: string, error: unknown, owner: unknown = this.#protocol): void {
    this.#logError(where, error, owner);
    this.#closeNow(new Failure(error));
  }

  // -------------------------------------------------------------------------
  // Consumer: a producer feeding this transport
  // -------------------------------------------------------------------------

  /**
   * Attaches a producer. A pull producer (`streaming` false) is resumed at
   * once and again each time the queue drains. A push producer is paused
   * when more than {@linkcode StreamTransport.bufferSize} bytes are queued
   * and resumed once they are written. On a closed connection the producer
   * is stopped instead.
   *
   * @param producer The producer.
   * @param streaming `true` for a push producer, `false` for a pull producer.
   * @throws {Error} If a producer is already registered.
   */
  registerProducer(producer: Producer, streaming: boolean): void {
    if (this.#producer !== undefined) {
      throw new Error(
        `Cannot register producer ${nameOf(producer)}: producer ${
          nameOf(this.#producer)
        } is still registered`,
      );
    }
    if (this.#closing) {
      producer.stopProducing();
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (!streaming) producer.resumeProducing();
  }

  /** Detaches the producer; a pending `loseConnection()` can then complete. */
  unregisterProducer(): void {
    this.#producer = undefined;
    this.#producerPaused = false;
    if (this.#disconnecting || this.#writeDisconnecting) this.#kick();
  }

  // -------------------------------------------------------------------------
  // Producer: this transport feeding a consumer
  // -------------------------------------------------------------------------

  /** Stops reading: no `dataReceived` until `resumeProducing()`. */
  pauseProducing(): void {
    this.#readPaused = true;
  }

  /** Reads again after `pauseProducing()`. */
  resumeProducing(): void {
    if (this.#closing || this.#disconnecting) return;
    this.#readPaused = false;
    this.#wakeReader();
  }

  /** Closes the connection, as `loseConnection()`: the consumer is gone. */
  stopProducing(): void {
    this.loseConnection();
  }
}
