/**
 * UDP for the reactor: a port that receives datagrams for one protocol and
 * sends datagrams for it, over `Deno.listenDatagram`. The reactor's
 * `listenUDP` is {@linkcode listenUDP}.
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import { _isIPv4, _isIPv6 } from "./_ip_address.ts";
import { CannotListenError } from "./connection_errors.ts";
import type { IPAddress, ListeningPort } from "./interfaces.ts";
import { Logger } from "./log.ts";

const logger = new Logger("udp");

const encoder = new TextEncoder();

/** The largest UDP payload over IPv4: 65535 minus the IP and UDP headers. */
const MAX_IPV4_PAYLOAD = 65507;
/** The largest UDP payload over IPv6 without jumbograms. */
const MAX_IPV6_PAYLOAD = 65527;

/** The message for a Deno started without `--unstable-net`. */
const NEEDS_FLAG = "listenUDP needs Deno's --unstable-net flag (deno run --unstable-net ...)";

/** Ports listening now, for {@linkcode _stopAllUDPPorts}. */
const ports = new Set<UDPPort>();

/** What a port calls on its protocol. `DatagramProtocol` in `protocols/` implements it. */
export interface DatagramProtocolLike {
  /**
   * Called once, before `listenUDP` returns: the protocol keeps the port as
   * its transport and starts (`DatagramProtocol` calls `startProtocol`).
   */
  makeConnection(transport: UDPPort): void;
  /** Called with each datagram, whole, and its sender. */
  datagramReceived(data: Uint8Array, addr: IPAddress): void;
  /** Called once the port has stopped (`DatagramProtocol` calls `stopProtocol`). */
  doStop?(): void;
  /** Called when a connected port's peer refused a datagram, where the platform reports it. */
  connectionRefused?(): void;
}

/** Where a datagram goes: an IP address (not a host name) and a port. */
export interface DatagramDestination {
  /** An IPv4 or IPv6 address of the port's own family. */
  readonly host: string;
  /** The port number. */
  readonly port: number;
}

/** Options for {@linkcode listenUDP}. */
export interface ListenUDPOptions {
  /**
   * The address to bind: `""` (the default) for every IPv4 interface,
   * `"::"` for every IPv6 one, or one local address.
   */
  interface?: string;
  /**
   * The largest datagram received whole, in bytes (default 8192); longer
   * ones are cut to this size, as `recvfrom` does.
   */
  maxPacketSize?: number;
}

/** The parts of `Deno.DatagramConn` a port uses. */
type DatagramConn = Deno.DatagramConn;

function nameOf(value: unknown): string {
  const name = (value as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name !== "" ? name : "protocol";
}

function format(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${what} must be an integer from 0 to 65535, not ${port}`);
  }
}

function isClosedError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/**
 * A UDP port bound for one protocol, as returned by {@linkcode listenUDP}:
 * Twisted's `udp.Port`, which is both the listening port and the protocol's
 * transport. Each datagram received goes to the protocol's
 * `datagramReceived(data, { type: "UDP", host, port })` as a Uint8Array of
 * its own; `write` sends one.
 *
 * Divergences from Twisted:
 * - `write` never throws for a failed send: sending is asynchronous in Deno,
 *   so a datagram the operating system refuses is logged with the port and
 *   the destination, then dropped (Twisted raises from `write`). Datagrams
 *   are sent in the order written.
 * - Connected mode is emulated, as Deno's datagram sockets cannot
 *   `connect()`: after {@linkcode UDPPort.connect} the port drops datagrams
 *   from any other address and `write` defaults to the peer, but the kernel
 *   does not filter and ICMP errors are not reported, so
 *   `connectionRefused()` is never called.
 * - Deno turns on `SO_BROADCAST` for every UDP socket and cannot turn it off:
 *   {@linkcode UDPPort.getBroadcastAllowed} is always `true` (Twisted's
 *   default is `false`).
 * - Datagrams written after `stopListening()` are dropped, and none are
 *   delivered after it.
 * - Multicast (`listenMulticast`, `joinGroup`) is not provided.
 *
 * Test tip: bind to `127.0.0.1` port 0 and read the real port from
 * `getHost().port`; always `await port.stopListening()`, or the resource
 * sanitizer reports the socket.
 *
 * @example A UDP echo server
 * ```ts ignore
 * import { type IPAddress, reactor, type UDPPort } from "@torsion/torsion/reactor";
 *
 * const echo = {
 *   transport: null as UDPPort | null,
 *   makeConnection(t: UDPPort) {
 *     this.transport = t;
 *   },
 *   datagramReceived(data: Uint8Array, addr: IPAddress) {
 *     this.transport!.write(data, addr);
 *   },
 * };
 * const port = reactor.listenUDP(0, echo, { interface: "127.0.0.1" });
 * console.log(`echoing on ${port.getHost().port}`);
 * ```
 */
export class UDPPort implements ListeningPort {
  /** The largest datagram received whole, in bytes. */
  readonly maxPacketSize: number;

  readonly #conn: DatagramConn;
  readonly #protocol: DatagramProtocolLike;
  readonly #host: IPAddress;
  readonly #ipv6: boolean;
  #reading: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #connected: DatagramDestination | undefined;
  // The write queue: datagrams and where they go, sent one at a time in order.
  #queue: Array<[Uint8Array, Deno.NetAddr]> = [];
  #head = 0;
  #pumping: Promise<void> | undefined;

  /**
   * Wraps a bound socket; {@linkcode listenUDP} makes ports, then connects
   * the protocol and starts reading.
   *
   * @param conn The bound socket.
   * @param protocol The protocol it serves.
   * @param maxPacketSize The receive buffer's size.
   */
  constructor(conn: DatagramConn, protocol: DatagramProtocolLike, maxPacketSize: number) {
    this.#conn = conn;
    this.#protocol = protocol;
    this.maxPacketSize = maxPacketSize;
    const addr = conn.addr as Deno.NetAddr;
    this.#host = { type: "UDP", host: addr.hostname, port: addr.port };
    this.#ipv6 = _isIPv6(addr.hostname);
  }

  /**
   * Connects the protocol and starts the receive loop; {@linkcode listenUDP}
   * calls it once.
   *
   * @throws {unknown} Whatever the protocol's `makeConnection` throws; the
   *   socket is closed first.
   */
  start(): void {
    if (this.#reading !== undefined) throw new Error("The UDP port is already started");
    try {
      this.#protocol.makeConnection(this);
    } catch (error) {
      this.#conn.close();
      throw error;
    }
    ports.add(this);
    this.#reading = this.#readLoop();
  }

  /**
   * The address the port is bound to, with the real port number when 0 was
   * asked for.
   *
   * @returns The host and port.
   */
  getHost(): IPAddress {
    return this.#host;
  }

  /**
   * Sends one datagram. Never blocks: the datagram is queued and sent on a
   * later turn; one that cannot be sent is logged and dropped, as UDP
   * drops datagrams. A Uint8Array is not copied: do not change it after
   * writing it. Datagrams written once `stopListening()` was called are
   * dropped.
   *
   * @param packet The datagram (a string is encoded as UTF-8).
   * @param addr Where to send it: an IP address (not a host name) of the
   *   port's family and a port. Optional once the port is connected, and
   *   then it must be the peer.
   * @throws {TypeError} If `packet` is neither a Uint8Array nor a string, if
   *   `addr` is missing on an unconnected port, or if its host is not an IP
   *   address of the port's family.
   * @throws {RangeError} If the datagram is longer than UDP carries (65507
   *   bytes over IPv4, 65527 over IPv6), or the port number is out of range.
   * @throws {Error} If the port is connected and `addr` is another address.
   */
  write(packet: Uint8Array | string, addr?: DatagramDestination): void {
    if (typeof packet === "string") packet = encoder.encode(packet);
    else if (!(packet instanceof Uint8Array)) {
      throw new TypeError(`Data must be a Uint8Array or a string, not ${nameOf(packet)}`);
    }
    let to: DatagramDestination;
    if (this.#connected !== undefined) {
      const peer = this.#connected;
      if (addr !== undefined && (addr.host !== peer.host || addr.port !== peer.port)) {
        throw new Error(
          `Cannot write to ${format(addr.host, addr.port)}: the port is connected to ${
            format(peer.host, peer.port)
          }`,
        );
      }
      to = peer;
    } else {
      if (addr === undefined) {
        throw new TypeError("Cannot write without an address: the port is not connected");
      }
      this.#checkAddress(addr.host, addr.port);
      to = addr;
    }
    const limit = this.#ipv6 ? MAX_IPV6_PAYLOAD : MAX_IPV4_PAYLOAD;
    if (packet.length > limit) {
      throw new RangeError(
        `Datagram of ${packet.length} bytes is too long: UDP carries at most ${limit}`,
      );
    }
    if (this.#stopping !== undefined) return;
    this.#queue.push([packet, { transport: "udp", hostname: to.host, port: to.port }]);
    this.#pumping ??= this.#pump();
  }

  /**
   * Sends several chunks as one datagram.
   *
   * @param packets The chunks, joined in order (strings are encoded as UTF-8).
   * @param addr As for {@linkcode UDPPort.write}.
   * @throws {TypeError} As for {@linkcode UDPPort.write}.
   * @throws {RangeError} As for {@linkcode UDPPort.write}.
   */
  writeSequence(packets: Iterable<Uint8Array | string>, addr?: DatagramDestination): void {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for (const chunk of packets) {
      const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
      if (!(bytes instanceof Uint8Array)) {
        throw new TypeError(`Data must be a Uint8Array or a string, not ${nameOf(chunk)}`);
      }
      chunks.push(bytes);
      length += bytes.length;
    }
    const joined = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    this.write(joined, addr);
  }

  /**
   * Makes the port talk to one peer only: later datagrams from any other
   * address are dropped, and `write` may leave out the address.
   *
   * Divergence from Twisted: Deno's datagram sockets cannot `connect()`, so
   * this is emulated in the port (see the class notes); in particular
   * `connectionRefused()` is never called.
   *
   * @param host The peer's IP address (not a host name), of the port's family.
   * @param port The peer's port.
   * @throws {Error} If the port is already connected (reconnecting is not
   *   supported, as in Twisted).
   * @throws {TypeError} If `host` is not an IP address of the port's family.
   * @throws {RangeError} If `port` is out of range.
   */
  connect(host: string, port: number): void {
    if (this.#connected !== undefined) {
      throw new Error(
        `Cannot connect to ${format(host, port)}: the port is already connected to ${
          format(this.#connected.host, this.#connected.port)
        }`,
      );
    }
    this.#checkAddress(host, port);
    this.#connected = { host, port };
  }

  /**
   * Whether the port may send to broadcast addresses.
   *
   * Divergence from Twisted: always `true`, as Deno sets `SO_BROADCAST` on
   * every UDP socket.
   *
   * @returns `true`.
   */
  getBroadcastAllowed(): boolean {
    return true;
  }

  /**
   * Allows sending to broadcast addresses. Deno always allows it (see
   * {@linkcode UDPPort.getBroadcastAllowed}), so `true` changes nothing.
   *
   * @param enabled Must be `true`.
   * @throws {TypeError} If `enabled` is `false`: Deno cannot turn
   *   `SO_BROADCAST` off.
   */
  setBroadcastAllowed(enabled: boolean): void {
    if (!enabled) {
      throw new TypeError(
        "Cannot disallow broadcast: Deno enables SO_BROADCAST on every UDP socket",
      );
    }
  }

  /**
   * Stops the port: nothing more is delivered, what was already written is
   * sent, then the socket is closed and the protocol's `doStop()` runs.
   * Calling it again gives the same outcome.
   *
   * @returns A Deferred that fires once the socket is closed and the
   *   protocol stopped; it fails with whatever `doStop()` throws.
   */
  stopListening(): Deferred<void> {
    this.#stopping ??= this.#stop();
    return Deferred.fromPromise(this.#stopping);
  }

  /**
   * The same as {@linkcode UDPPort.stopListening}, ignoring its result.
   * Twisted keeps it, deprecated, for old code.
   */
  loseConnection(): void {
    this.stopListening().addErrback((failure) => {
      logger.error(
        `Unhandled error while stopping ${nameOf(this.#protocol)} on ${
          format(this.#host.host, this.#host.port)
        }`,
        failure,
      );
    });
  }

  #checkAddress(host: string, port: number): void {
    if (typeof host !== "string" || !(this.#ipv6 ? _isIPv6(host) : _isIPv4(host))) {
      throw new TypeError(
        `Address must be an ${this.#ipv6 ? "IPv6" : "IPv4"} address on this port, not ${
          JSON.stringify(host)
        }`,
      );
    }
    checkPort(port, "Port");
  }

  async #stop(): Promise<void> {
    // Let what was written before the stop go out, then close.
    while (this.#pumping !== undefined) await this.#pumping;
    try {
      this.#conn.close();
    } catch {
      // Already closed by a read error.
    }
    await this.#reading;
    ports.delete(this);
    this.#protocol.doStop?.();
  }

  async #pump(): Promise<void> {
    try {
      while (this.#head < this.#queue.length) {
        const [bytes, to] = this.#queue[this.#head];
        this.#queue[this.#head++] = undefined as unknown as [Uint8Array, Deno.NetAddr];
        try {
          await this.#conn.send(bytes, to);
        } catch (error) {
          if (isClosedError(error)) break;
          if (error instanceof Deno.errors.ConnectionRefused && this.#connected !== undefined) {
            this.#call(() => this.#protocol.connectionRefused?.(), "connectionRefused()");
            continue;
          }
          logger.error(
            `${nameOf(this.#protocol)} on ${format(this.#host.host, this.#host.port)} ` +
              `could not send a datagram to ${format(to.hostname, to.port)}`,
            error,
          );
        }
      }
    } finally {
      this.#queue = [];
      this.#head = 0;
      this.#pumping = undefined;
    }
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(this.maxPacketSize);
    for (;;) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await this.#conn.receive(buffer);
      } catch (error) {
        if (this.#stopping !== undefined || isClosedError(error)) return;
        if (error instanceof Deno.errors.ConnectionRefused) {
          if (this.#connected !== undefined) {
            this.#call(() => this.#protocol.connectionRefused?.(), "connectionRefused()");
          }
          continue;
        }
        // As in Twisted, any other read error ends the port.
        logger.error(
          `${nameOf(this.#protocol)} on ${
            format(this.#host.host, this.#host.port)
          } could not receive; stopping the port`,
          error,
        );
        this.loseConnection();
        return;
      }
      if (this.#stopping !== undefined) return;
      const sender = from as Deno.NetAddr;
      const peer = this.#connected;
      if (peer !== undefined && (sender.hostname !== peer.host || sender.port !== peer.port)) {
        continue;
      }
      const addr: IPAddress = { type: "UDP", host: sender.hostname, port: sender.port };
      const copy = data.slice();
      this.#call(() => this.#protocol.datagramReceived(copy, addr), "datagramReceived()");
    }
  }

  /** Runs a protocol callback; an exception is logged and the port carries on, as in Twisted. */
  #call(fn: () => void, what: string): void {
    try {
      fn();
    } catch (error) {
      logger.error(
        `Unhandled error in ${nameOf(this.#protocol)}.${what} on ${
          format(this.#host.host, this.#host.port)
        }`,
        error,
      );
    }
  }
}

/**
 * Binds a UDP port and serves `protocol` on it: the datagram side of the
 * reactor, for protocols such as DNS, syslog or game traffic where each
 * message stands alone. The socket is bound before this returns, so a busy
 * port throws here and port 0 gives a real port at once
 * (`getHost().port`), as in Twisted. `protocol.makeConnection(port)` runs
 * before this returns (`DatagramProtocol` then calls `startProtocol`), and
 * `stopListening()` ends with `protocol.doStop()`.
 *
 * An exception thrown by `datagramReceived` is logged with the protocol's
 * class name and the port; the port carries on.
 *
 * Divergences from Twisted: Deno's UDP is unstable, so the program must run
 * with `--unstable-net`; there is no `reactor` argument on the port; see
 * {@linkcode UDPPort} for connected mode, broadcast and send errors.
 *
 * @param port The port number; 0 for any free port.
 * @param protocol The protocol the port serves.
 * @param options `interface` (default `""`: every IPv4 interface) and
 *   `maxPacketSize` (default 8192).
 * @returns The port, already connected to the protocol and receiving.
 * @throws {CannotListenError} If the address cannot be bound (in use, not
 *   local, not allowed), with the Deno error as `cause`.
 * @throws {RangeError} If `port` or `maxPacketSize` is out of range.
 * @throws {Error} If Deno was started without `--unstable-net`.
 *
 * @example Two ports talking on the loopback interface
 * ```ts ignore
 * import { type IPAddress, reactor, type UDPPort } from "@torsion/torsion/reactor";
 *
 * const server = reactor.listenUDP(0, {
 *   transport: null as UDPPort | null,
 *   makeConnection(t: UDPPort) {
 *     this.transport = t;
 *   },
 *   datagramReceived(data: Uint8Array, addr: IPAddress) {
 *     this.transport!.write(data, addr); // echo
 *   },
 * }, { interface: "127.0.0.1" });
 *
 * const client = reactor.listenUDP(0, {
 *   makeConnection(t: UDPPort) {
 *     t.write("ping", server.getHost());
 *   },
 *   datagramReceived(data: Uint8Array) {
 *     console.log(new TextDecoder().decode(data)); // "ping"
 *   },
 * }, { interface: "127.0.0.1" });
 * ```
 */
export function listenUDP(
  port: number,
  protocol: DatagramProtocolLike,
  options: ListenUDPOptions = {},
): UDPPort {
  checkPort(port, "Port");
  const maxPacketSize = options.maxPacketSize ?? 8192;
  if (!Number.isInteger(maxPacketSize) || maxPacketSize < 1 || maxPacketSize > 65535) {
    throw new RangeError(
      `maxPacketSize must be an integer from 1 to 65535, not ${maxPacketSize}`,
    );
  }
  const listen = (Deno as { listenDatagram?: unknown }).listenDatagram;
  if (typeof listen !== "function") throw new Error(NEEDS_FLAG);
  const iface = options.interface ?? "";
  let conn: DatagramConn;
  try {
    conn = Deno.listenDatagram({
      transport: "udp",
      hostname: iface === "" ? "0.0.0.0" : iface,
      port,
    });
  } catch (error) {
    throw new CannotListenError(iface, port, { cause: error });
  }
  const udp = new UDPPort(conn, protocol, maxPacketSize);
  udp.start();
  return udp;
}

/**
 * Stops every UDP port still listening: the reactor's shutdown calls it, as
 * Twisted's `disconnectAll` closes every port.
 *
 * @returns A Deferred that fires once every port has stopped; an error in a
 *   protocol's `doStop()` is logged.
 */
export function _stopAllUDPPorts(): Deferred<void> {
  const waits = [...ports].map((port) =>
    port.stopListening().asPromise().catch((error) => {
      logger.error("Unhandled error while stopping a UDP port", error);
    })
  );
  return Deferred.fromPromise(Promise.all(waits).then(() => {}));
}
