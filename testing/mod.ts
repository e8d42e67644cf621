/**
 * Fakes and assertions for testing code built on torsion, in `deno test`,
 * without sockets and without waiting: Twisted's `proto_helpers`, `iosim`
 * and trial's synchronous assertions.
 *
 * - {@linkcode StringTransport} records what a protocol writes;
 *   {@linkcode StringTransportWithDisconnection} also delivers
 *   `connectionLost`. {@linkcode AccumulatingProtocol} records what it
 *   receives.
 * - {@linkcode connectedServerAndClient} joins a server and a client protocol
 *   in memory; its {@linkcode IOPump} moves the bytes when told to.
 * - {@linkcode MemoryReactor} records `listenTCP`, `connectTCP` and the rest;
 *   {@linkcode MemoryReactorClock} is also a {@linkcode Clock}, the
 *   deterministic time re-exported here.
 * - {@linkcode successResultOf}, {@linkcode failureResultOf} and
 *   {@linkcode assertNoResult} read a Deferred's result synchronously.
 *
 * Time in tests goes through a `Clock` passed to the code under test, never
 * through real sleeps, so tests are exact and fast, and pass the resource
 * sanitizers.
 *
 * @example Testing a line protocol with a timeout, end to end
 * ```ts
 * import { Deferred } from "@torsion/torsion/defer";
 * import { Factory, Protocol, TimeoutMixin } from "@torsion/torsion/protocols";
 * import {
 *   AccumulatingProtocol,
 *   assertNoResult,
 *   Clock,
 *   connectedServerAndClient,
 *   StringTransport,
 *   successResultOf,
 * } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * // The code under test: answers "PING" with "PONG", and hangs up on a
 * // client that stays silent for 10 seconds.
 * class Pong extends TimeoutMixin(Protocol) {
 *   override timeOut: number | null = 10;
 *   override connectionMade(): void {
 *     this.setTimeout(this.timeOut);
 *   }
 *   override dataReceived(data: Uint8Array): void {
 *     this.resetTimeout();
 *     if (new TextDecoder().decode(data) === "PING\r\n") this.transport!.write("PONG\r\n");
 *   }
 * }
 *
 * // 1. One side, with a StringTransport and a Clock.
 * const clock = new Clock();
 * const pong = new Pong();
 * pong.clock = clock;
 * const transport = new StringTransport();
 * pong.makeConnection(transport);
 * pong.dataReceived(new TextEncoder().encode("PING\r\n"));
 * assert.equal(transport.valueString(), "PONG\r\n");
 * clock.advance(9.9);
 * assert.equal(transport.disconnecting, false);
 * clock.advance(0.1);
 * assert.equal(transport.disconnecting, true);
 *
 * // 2. Both sides, in memory.
 * const serverClock = new Clock();
 * class PongFactory extends Factory<Pong> {
 *   override buildProtocol(): Pong {
 *     const p = new Pong();
 *     p.clock = serverClock;
 *     return p;
 *   }
 * }
 * const { client, pump } = connectedServerAndClient(new PongFactory(), AccumulatingProtocol);
 * const closed = new Deferred<void>();
 * client.closedDeferred = closed;
 * client.transport!.write("PING\r\n");
 * pump.flush();
 * assert.equal(client.dataString(), "PONG\r\n");
 * assertNoResult(closed);
 * serverClock.advance(10);
 * pump.flush();
 * assert.equal(successResultOf(closed), undefined);
 * ```
 *
 * @module
 */
export { Clock } from "../reactor/clock.ts";
export {
  type ProducerState,
  StringTransport,
  type StringTransportOptions,
  StringTransportWithDisconnection,
} from "./string_transport.ts";
export { type AccumulatingFactory, AccumulatingProtocol } from "./accumulating_protocol.ts";
export {
  type BindAddress,
  FakeConnector,
  FakePort,
  type MemoryConnectTCPOptions,
  type MemoryConnectUNIXOptions,
  type MemoryListenTCPOptions,
  type MemoryListenUDPOptions,
  type MemoryListenUNIXOptions,
  MemoryReactor,
  MemoryReactorClock,
  type RecordedCall,
  type SSLClientRecord,
  type SSLServerRecord,
  type TCPClientRecord,
  type TCPServerRecord,
  type UDPPortRecord,
  type UNIXClientRecord,
  type UNIXServerRecord,
} from "./memory_reactor.ts";
export {
  type AdvanceableClock,
  type ConnectedServerAndClient,
  connectedServerAndClient,
  type ConnectedServerAndClientOptions,
  FakeTransport,
  type FakeTransportOptions,
  IOPump,
  type ProtocolSource,
} from "./iosim.ts";
export { assertNoResult, failureResultOf, successResultOf } from "./assertions.ts";

// The types that the fakes' signatures use, so this entry point documents
// itself; their home is `@torsion/torsion/defer`, `/reactor` or `/protocols`.
export type {
  AddCallbacksOptions,
  CallbackResult,
  Deferred,
  DelayedCall,
  Failure,
  FailureType,
  ReactorTime,
} from "../defer/mod.ts";
export type {
  Address,
  ClientFactoryLike,
  Connector,
  ConnectorState,
  Consumer,
  FactoryLike,
  IPAddress,
  ListeningPort,
  Producer,
  ProtocolLike,
  PullProducer,
  PushProducer,
  Transport,
  UNIXAddress,
} from "../reactor/interfaces.ts";
export type { TriggerId, TriggerPhase } from "../reactor/_event_triggers.ts";
export type { Factory, Protocol } from "../protocols/mod.ts";
