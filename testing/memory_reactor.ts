import { Deferred } from "../defer/deferred.ts";
import type { DelayedCall, ReactorTime } from "../defer/time.ts";
import { Clock } from "../reactor/clock.ts";
import { ReactorAlreadyRunning, ReactorNotRunning } from "../reactor/errors.ts";
import {
  SystemEventTriggers,
  type TriggerId,
  type TriggerPhase,
} from "../reactor/_event_triggers.ts";
import type {
  Address,
  ClientFactoryLike,
  Connector,
  ConnectorState,
  FactoryLike,
  IPAddress,
  ListeningPort,
  UNIXAddress,
} from "../reactor/interfaces.ts";

/**
 * A local address to connect from, as `connectTCP` takes it: a
 * `[host, port]` pair or a `{ host, port }` object. Recorded as given.
 */
export type BindAddress =
  | readonly [host: string, port: number]
  | { readonly host: string; readonly port: number };

/** Options of {@linkcode MemoryReactor.listenTCP}, as the reactor takes them. */
export interface MemoryListenTCPOptions {
  /** Recorded; default 50. */
  backlog?: number;
  /** Recorded and used as the port's host; default `""` (every interface). */
  interface?: string;
}

/** Options of {@linkcode MemoryReactor.connectTCP}, as the reactor takes them. */
export interface MemoryConnectTCPOptions {
  /** Recorded; default 30. */
  timeout?: number;
  /** Recorded; default `null`. */
  bindAddress?: BindAddress | null;
}

/** Options of {@linkcode MemoryReactor.listenUNIX}. */
export interface MemoryListenUNIXOptions {
  /** Recorded; default 50. */
  backlog?: number;
  /** Recorded; default `0o666`. */
  mode?: number;
  /** Recorded; default `false`. */
  wantPID?: boolean;
}

/** Options of {@linkcode MemoryReactor.connectUNIX}. */
export interface MemoryConnectUNIXOptions {
  /** Recorded; default 30. */
  timeout?: number;
  /** Recorded; default `false`. */
  checkPID?: boolean;
}

/** Options of {@linkcode MemoryReactor.listenUDP}. */
export interface MemoryListenUDPOptions {
  /** Recorded and used as the port's host; default `""`. */
  interface?: string;
  /** Recorded; default 8192. */
  maxPacketSize?: number;
}

/** A `listenTCP` call, as {@linkcode MemoryReactor.tcpServers} records it. */
export type TCPServerRecord = [
  port: number,
  factory: FactoryLike,
  backlog: number,
  iface: string,
];

/** A `connectTCP` call, as {@linkcode MemoryReactor.tcpClients} records it. */
export type TCPClientRecord = [
  host: string,
  port: number,
  factory: ClientFactoryLike,
  timeout: number,
  bindAddress: BindAddress | null,
];

/** A `listenSSL` call, as {@linkcode MemoryReactor.sslServers} records it. */
export type SSLServerRecord = [
  port: number,
  factory: FactoryLike,
  contextFactory: object,
  backlog: number,
  iface: string,
];

/** A `connectSSL` call, as {@linkcode MemoryReactor.sslClients} records it. */
export type SSLClientRecord = [
  host: string,
  port: number,
  factory: ClientFactoryLike,
  contextFactory: object,
  timeout: number,
  bindAddress: BindAddress | null,
];

/** A `listenUNIX` call, as {@linkcode MemoryReactor.unixServers} records it. */
export type UNIXServerRecord = [
  address: string,
  factory: FactoryLike,
  backlog: number,
  mode: number,
  wantPID: boolean,
];

/** A `connectUNIX` call, as {@linkcode MemoryReactor.unixClients} records it. */
export type UNIXClientRecord = [
  address: string,
  factory: ClientFactoryLike,
  timeout: number,
  checkPID: boolean,
];

/** A `listenUDP` call, as {@linkcode MemoryReactor.udpPorts} records it. */
export type UDPPortRecord = [
  port: number,
  protocol: object,
  iface: string,
  maxPacketSize: number,
];

/** A function and its arguments, as the reactor will call it. */
export type RecordedCall = [
  // deno-lint-ignore no-explicit-any
  fn: (...args: any[]) => unknown,
  args: unknown[],
];

/**
 * The listening port a {@linkcode MemoryReactor} returns: it accepts
 * nothing, and says where it would listen.
 *
 * Divergence from Twisted's `_FakePort`: `stopListening()` returns a fired
 * Deferred and records the call in {@linkcode FakePort.listening}.
 *
 * @example
 * ```ts
 * import { Factory, Protocol } from "@torsion/torsion/protocols";
 * import { FakePort, MemoryReactor } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const reactor = new MemoryReactor();
 * const port = reactor.listenTCP(8080, Factory.forProtocol(Protocol));
 * assert.ok(port instanceof FakePort);
 * assert.deepEqual(port.getHost(), { type: "TCP", host: "0.0.0.0", port: 8080 });
 * port.stopListening();
 * assert.equal(port.listening, false);
 * ```
 */
export class FakePort implements ListeningPort {
  /** `false` once `stopListening()` has been called. */
  listening: boolean = true;
  readonly #address: Address;

  /**
   * Makes a port that pretends to listen on `address`.
   *
   * @param address What `getHost()` returns.
   */
  constructor(address: Address) {
    this.#address = address;
  }

  /**
   * Where the port pretends to listen.
   *
   * @returns The address given to the constructor.
   */
  getHost(): Address {
    return this.#address;
  }

  /**
   * Sets {@linkcode FakePort.listening} to `false`.
   *
   * @returns A Deferred that has already fired.
   */
  stopListening(): Deferred<void> {
    this.listening = false;
    const d = new Deferred<void>();
    d.callback(undefined);
    return d;
  }
}

/**
 * The connector a {@linkcode MemoryReactor} returns: it never connects, and
 * records what it is asked to do. It starts in the `"connecting"` state.
 *
 * Divergences from Twisted's `_FakeConnector`: it has a `state`, which
 * `connect()`, `disconnect()` and `stopConnecting()` change;
 * {@linkcode FakeConnector.connectCount} counts `connect()` calls.
 *
 * @example Checking that a client gave up
 * ```ts
 * import { ClientFactory, Protocol } from "@torsion/torsion/protocols";
 * import { MemoryReactor } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const reactor = new MemoryReactor();
 * const connector = reactor.connectTCP("example.com", 80, ClientFactory.forProtocol(Protocol));
 * connector.stopConnecting();
 * assert.equal(reactor.connectors[0].stoppedConnecting, true);
 * assert.equal(connector.state, "disconnected");
 * ```
 */
export class FakeConnector implements Connector {
  /** `true` once `stopConnecting()` has been called. */
  stoppedConnecting: boolean = false;
  /** `true` once `disconnect()` has been called. */
  disconnected: boolean = false;
  /** How many times `connect()` has been called. */
  connectCount: number = 0;
  #state: ConnectorState = "connecting";
  readonly #address: Address;

  /**
   * Makes a connector to `address`, in the `"connecting"` state.
   *
   * @param address What `getDestination()` returns.
   */
  constructor(address: Address) {
    this.#address = address;
  }

  /** `"connecting"` at first; `"disconnected"` after `stopConnecting()` or `disconnect()`. */
  get state(): ConnectorState {
    return this.#state;
  }

  /** Counts the call in {@linkcode FakeConnector.connectCount} and goes back to `"connecting"`. */
  connect(): void {
    this.connectCount++;
    this.#state = "connecting";
  }

  /** Sets {@linkcode FakeConnector.disconnected}. */
  disconnect(): void {
    this.disconnected = true;
    this.#state = "disconnected";
  }

  /** Sets {@linkcode FakeConnector.stoppedConnecting}; never throws. */
  stopConnecting(): void {
    this.stoppedConnecting = true;
    this.#state = "disconnected";
  }

  /**
   * Where it pretends to connect.
   *
   * @returns The address given to the constructor.
   */
  getDestination(): Address {
    return this.#address;
  }
}

function ipAddress(type: "TCP" | "UDP", host: string, port: number): IPAddress {
  return { type, host, port };
}

function unixAddress(path: string): UNIXAddress {
  return { type: "UNIX", path };
}

/**
 * A reactor that records what is asked of it and does nothing: the way to
 * test code that listens or connects (a service, an endpoint, a client
 * factory) without sockets. Pass it where the code takes a reactor, then
 * look at {@linkcode MemoryReactor.tcpServers},
 * {@linkcode MemoryReactor.tcpClients} and the other records, and drive the
 * factories they hold by hand: `factory.buildProtocol(addr)` and
 * `protocol.makeConnection(new StringTransport())`, or
 * `factory.clientConnectionFailed(connector, reason)`.
 *
 * Listening returns a {@linkcode FakePort}; connecting returns a
 * {@linkcode FakeConnector} (also kept in
 * {@linkcode MemoryReactor.connectors}) after calling the factory's
 * `startedConnecting`, as a reactor does. Factories are not started
 * (`doStart` is not called). System event triggers work as in the real
 * reactor, synchronously: `run()` fires `startup` (setting `running` in its
 * `during` phase) and `stop()` fires `shutdown`. For time as well, use
 * {@linkcode MemoryReactorClock}.
 *
 * Divergences from Twisted:
 * - `run()` does not stop the reactor: it returns a Deferred that fires
 *   once `stop()` has run the shutdown triggers, as the real reactor's does.
 *   `run()` while running throws `ReactorAlreadyRunning`, `stop()` while not
 *   running throws `ReactorNotRunning`; a stopped MemoryReactor may run
 *   again.
 * - `hasRun`, `hasStopped` and `hasCrashed` start `false` (Twisted starts
 *   them `true`).
 * - `fireSystemEvent` and `removeSystemEventTrigger` work (Twisted raises
 *   `NotImplementedError`); `callWhenRunning` calls at once when running.
 * - `listenTCP` and `listenUDP` use the `interface` option as the port's
 *   host (Twisted uses `0.0.0.0` for any IPv4 interface).
 * - `listenSSL`/`connectSSL` take Deno's TLS settings where Twisted takes
 *   a context factory (in the same position), and record them; `listenUDP`
 *   is added.
 * - Calls are recorded as tuples without keyword arguments.
 *
 * @example Checking where a client connects
 * ```ts
 * import { ClientFactory, Protocol } from "@torsion/torsion/protocols";
 * import { MemoryReactor } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * function startClient(reactor: MemoryReactor): void {
 *   reactor.connectTCP("db.example.com", 5432, ClientFactory.forProtocol(Protocol), { timeout: 5 });
 * }
 *
 * const reactor = new MemoryReactor();
 * startClient(reactor);
 * const [host, port, factory, timeout] = reactor.tcpClients[0];
 * assert.deepEqual([host, port, timeout], ["db.example.com", 5432, 5]);
 * assert.ok(factory instanceof ClientFactory);
 * ```
 */
export class MemoryReactor {
  /** Whether the reactor is running: set during startup, cleared by `stop()` and `crash()`. */
  running: boolean = false;
  /** `true` once `run()` has been called. */
  hasRun: boolean = false;
  /** `true` once `stop()` has been called. */
  hasStopped: boolean = false;
  /** `true` once `crash()` has been called. */
  hasCrashed: boolean = false;
  /** Every `callWhenRunning` call: the function and its arguments. */
  readonly whenRunningHooks: RecordedCall[] = [];
  /**
   * Every system event trigger registered and not removed, by phase and
   * event: `triggers.before.shutdown` lists the `before shutdown` triggers.
   * Triggers stay listed after they have run.
   */
  readonly triggers: Record<TriggerPhase, Record<string, RecordedCall[]>> = {
    before: {},
    during: {},
    after: {},
  };
  /** Every `listenTCP` call. */
  readonly tcpServers: TCPServerRecord[] = [];
  /** Every `connectTCP` call. */
  readonly tcpClients: TCPClientRecord[] = [];
  /** Every `listenSSL` call. */
  readonly sslServers: SSLServerRecord[] = [];
  /** Every `connectSSL` call. */
  readonly sslClients: SSLClientRecord[] = [];
  /** Every `listenUNIX` call. */
  readonly unixServers: UNIXServerRecord[] = [];
  /** Every `connectUNIX` call. */
  readonly unixClients: UNIXClientRecord[] = [];
  /** Every `listenUDP` call. */
  readonly udpPorts: UDPPortRecord[] = [];
  /** The connector returned by each `connect*` call, in order. */
  readonly connectors: FakeConnector[] = [];

  readonly #events: SystemEventTriggers = new SystemEventTriggers();
  readonly #recorded = new Map<TriggerId, RecordedCall>();
  #whenStopped: Deferred<void> | null = null;

  /** Makes a reactor that has never run and has recorded nothing. */
  constructor() {
    this.#addRunningTrigger();
  }

  // The real reactor sets `running` in the `during startup` phase, before
  // the triggers of that phase that users add.
  #addRunningTrigger(): void {
    this.#events.addSystemEventTrigger("during", "startup", () => {
      this.running = true;
    });
  }

  /**
   * Starts the reactor: sets `hasRun` and fires the `startup` event, whose
   * `during` phase sets `running`, and whose `after` phase runs the
   * `callWhenRunning` calls. Unlike the real reactor, nothing keeps the
   * process alive.
   *
   * @returns A Deferred that fires once `stop()` has run the shutdown triggers.
   * @throws {ReactorAlreadyRunning} If it is running.
   */
  run(): Deferred<void> {
    if (this.running || this.#whenStopped !== null) throw new ReactorAlreadyRunning();
    this.hasRun = true;
    const whenStopped = this.#whenStopped = new Deferred<void>();
    this.#events.fireSystemEvent("startup");
    this.#addRunningTrigger();
    return whenStopped;
  }

  /**
   * Stops the reactor: clears `running`, sets `hasStopped` and fires the
   * `shutdown` event, synchronously (the real reactor waits for a later
   * turn). The Deferred from `run()` fires once every shutdown trigger has
   * finished.
   *
   * @throws {ReactorNotRunning} If it is not running.
   */
  stop(): void {
    const whenStopped = this.#whenStopped;
    if (whenStopped === null) throw new ReactorNotRunning();
    this.#whenStopped = null;
    this.running = false;
    this.hasStopped = true;
    this.#events.fireSystemEvent("shutdown").addCallback(() => whenStopped.callback(undefined));
  }

  /**
   * Stops at once, without the shutdown triggers: clears `running` and sets
   * `hasCrashed`. The Deferred from `run()` never fires.
   */
  crash(): void {
    this.#whenStopped = null;
    this.running = false;
    this.hasCrashed = true;
  }

  /**
   * Records `fn(...args)` in {@linkcode MemoryReactor.whenRunningHooks}, and
   * calls it now if the reactor is running, otherwise once `run()` reaches
   * the `after startup` phase.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @returns The `after startup` trigger's id, or `undefined` if `fn` was called now.
   */
  callWhenRunning<A extends unknown[]>(
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerId | undefined {
    this.whenRunningHooks.push([fn, args]);
    if (this.running) {
      fn(...args);
      return undefined;
    }
    return this.#events.addSystemEventTrigger("after", "startup", fn, ...args);
  }

  /**
   * Registers `fn(...args)` for `phase` of `event`, as the reactor does, and
   * lists it in {@linkcode MemoryReactor.triggers}.
   *
   * @param phase `"before"`, `"during"` or `"after"`.
   * @param event `"startup"`, `"shutdown"` or your own event.
   * @param fn The trigger.
   * @param args Its arguments.
   * @returns An id for `removeSystemEventTrigger`.
   * @throws {TypeError} For an unknown phase.
   */
  addSystemEventTrigger<A extends unknown[]>(
    phase: TriggerPhase,
    event: string,
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerId {
    const id = this.#events.addSystemEventTrigger(phase, event, fn, ...args);
    const call: RecordedCall = [fn, args];
    (this.triggers[phase][event] ??= []).push(call);
    this.#recorded.set(id, call);
    return id;
  }

  /**
   * Unregisters a trigger and takes it off {@linkcode MemoryReactor.triggers}.
   *
   * @param id What `addSystemEventTrigger` returned.
   * @throws {TypeError} If `id` is not a trigger id.
   * @throws {Error} If the trigger was already removed or has already run.
   */
  removeSystemEventTrigger(id: TriggerId): void {
    this.#events.removeSystemEventTrigger(id);
    const call = this.#recorded.get(id);
    if (call === undefined) return;
    this.#recorded.delete(id);
    const list = this.triggers[id.phase][id.event];
    list.splice(list.indexOf(call), 1);
    if (list.length === 0) delete this.triggers[id.phase][id.event];
  }

  /**
   * Fires an event's `before`, `during` and `after` triggers, as the
   * reactor does.
   *
   * @param event The event name.
   * @returns A Deferred that fires once every trigger has finished.
   */
  fireSystemEvent(event: string): Deferred<void> {
    return this.#events.fireSystemEvent(event);
  }

  /**
   * Records the call in {@linkcode MemoryReactor.tcpServers}.
   *
   * @param port The port number (0 stays 0: nothing picks a free port).
   * @param factory The factory; not started.
   * @param options Backlog and interface.
   * @returns A port whose host is the interface (`0.0.0.0` for `""`).
   */
  listenTCP(port: number, factory: FactoryLike, options: MemoryListenTCPOptions = {}): FakePort {
    const iface = options.interface ?? "";
    this.tcpServers.push([port, factory, options.backlog ?? 50, iface]);
    return new FakePort(ipAddress("TCP", iface === "" ? "0.0.0.0" : iface, port));
  }

  /**
   * Records the call in {@linkcode MemoryReactor.tcpClients} and calls the
   * factory's `startedConnecting`. Nothing connects.
   *
   * @param host The host.
   * @param port The port.
   * @param factory The client factory.
   * @param options Timeout and local address.
   * @returns A connector to `host:port`, also kept in `connectors`.
   */
  connectTCP(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    options: MemoryConnectTCPOptions = {},
  ): FakeConnector {
    this.tcpClients.push([host, port, factory, options.timeout ?? 30, options.bindAddress ?? null]);
    return this.#connector(ipAddress("TCP", host, port), factory);
  }

  /**
   * Records the call in {@linkcode MemoryReactor.sslServers}.
   *
   * @param port The port number.
   * @param factory The factory; not started.
   * @param contextFactory The TLS settings, recorded as they are.
   * @param options Backlog and interface.
   * @returns A port whose host is the interface (`0.0.0.0` for `""`).
   */
  listenSSL(
    port: number,
    factory: FactoryLike,
    contextFactory: object = {},
    options: MemoryListenTCPOptions = {},
  ): FakePort {
    const iface = options.interface ?? "";
    const backlog = options.backlog ?? 50;
    this.sslServers.push([port, factory, contextFactory, backlog, iface]);
    return new FakePort(ipAddress("TCP", iface === "" ? "0.0.0.0" : iface, port));
  }

  /**
   * Records the call in {@linkcode MemoryReactor.sslClients} and calls the
   * factory's `startedConnecting`.
   *
   * @param host The host.
   * @param port The port.
   * @param factory The client factory.
   * @param contextFactory The TLS settings, recorded as they are.
   * @param options Timeout and local address.
   * @returns A connector to `host:port`, also kept in `connectors`.
   */
  connectSSL(
    host: string,
    port: number,
    factory: ClientFactoryLike,
    contextFactory: object = {},
    options: MemoryConnectTCPOptions = {},
  ): FakeConnector {
    this.sslClients.push([
      host,
      port,
      factory,
      contextFactory,
      options.timeout ?? 30,
      options.bindAddress ?? null,
    ]);
    return this.#connector(ipAddress("TCP", host, port), factory);
  }

  /**
   * Records the call in {@linkcode MemoryReactor.unixServers}.
   *
   * @param address The socket path.
   * @param factory The factory; not started.
   * @param options Backlog, mode and PID lock.
   * @returns A port at `address`.
   */
  listenUNIX(
    address: string,
    factory: FactoryLike,
    options: MemoryListenUNIXOptions = {},
  ): FakePort {
    this.unixServers.push([
      address,
      factory,
      options.backlog ?? 50,
      options.mode ?? 0o666,
      options.wantPID ?? false,
    ]);
    return new FakePort(unixAddress(address));
  }

  /**
   * Records the call in {@linkcode MemoryReactor.unixClients} and calls the
   * factory's `startedConnecting`.
   *
   * @param address The socket path.
   * @param factory The client factory.
   * @param options Timeout and PID check.
   * @returns A connector to `address`, also kept in `connectors`.
   */
  connectUNIX(
    address: string,
    factory: ClientFactoryLike,
    options: MemoryConnectUNIXOptions = {},
  ): FakeConnector {
    this.unixClients.push([address, factory, options.timeout ?? 30, options.checkPID ?? false]);
    return this.#connector(unixAddress(address), factory);
  }

  /**
   * Records the call in {@linkcode MemoryReactor.udpPorts}. The protocol is
   * not started.
   *
   * @param port The port number.
   * @param protocol The datagram protocol.
   * @param options Interface and largest datagram.
   * @returns A port whose host is the interface (`0.0.0.0` for `""`), over UDP.
   */
  listenUDP(port: number, protocol: object, options: MemoryListenUDPOptions = {}): FakePort {
    const iface = options.interface ?? "";
    this.udpPorts.push([port, protocol, iface, options.maxPacketSize ?? 8192]);
    return new FakePort(ipAddress("UDP", iface === "" ? "0.0.0.0" : iface, port));
  }

  #connector(address: Address, factory: ClientFactoryLike): FakeConnector {
    const connector = new FakeConnector(address);
    factory.startedConnecting?.(connector);
    this.connectors.push(connector);
    return connector;
  }
}

/**
 * A {@linkcode MemoryReactor} that is also a deterministic clock: for code
 * that both connects and schedules calls (a reconnecting client, a
 * connection timeout). Time starts at 0 and moves only with
 * {@linkcode MemoryReactorClock.advance}; see `Clock`.
 *
 * @example Testing a retry after a failed connection
 * ```ts
 * import { ClientFactory, Protocol } from "@torsion/torsion/protocols";
 * import { MemoryReactorClock } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const reactor = new MemoryReactorClock();
 * const factory = ClientFactory.forProtocol(Protocol);
 * reactor.callLater(5, () => reactor.connectTCP("example.com", 80, factory));
 * reactor.advance(4.9);
 * assert.equal(reactor.tcpClients.length, 0);
 * reactor.advance(0.1);
 * assert.equal(reactor.tcpClients.length, 1);
 * assert.equal(reactor.seconds(), 5);
 * ```
 */
export class MemoryReactorClock extends MemoryReactor implements ReactorTime {
  readonly #clock: Clock = new Clock();

  /**
   * The current time.
   *
   * @returns Seconds since the reactor was made, as moved by `advance`.
   */
  seconds(): number {
    return this.#clock.seconds();
  }

  /**
   * Schedules `fn(...args)` for `delay` seconds from now.
   *
   * @param delay Seconds from now, zero or more.
   * @param fn The function.
   * @param args Its arguments.
   * @returns The call.
   * @throws {RangeError} If `delay` is negative or not finite.
   */
  // deno-lint-ignore no-explicit-any
  callLater<A extends any[]>(delay: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    return this.#clock.callLater(delay, fn, ...args);
  }

  /**
   * Every pending call.
   *
   * @returns The calls in the order they would run, in a new array.
   */
  getDelayedCalls(): DelayedCall[] {
    return this.#clock.getDelayedCalls();
  }

  /**
   * Moves time forward and runs the calls then due.
   *
   * @param seconds How far, zero or more.
   * @throws {RangeError} If `seconds` is negative or not finite.
   */
  advance(seconds: number): void {
    this.#clock.advance(seconds);
  }

  /**
   * Advances by each amount in turn.
   *
   * @param timings The steps, in seconds.
   * @throws {RangeError} If a step is negative or not finite.
   */
  pump(timings: Iterable<number>): void {
    this.#clock.pump(timings);
  }
}
