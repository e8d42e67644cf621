/**
 * The reactor over Deno's own event loop: time (`Clock`, `DelayedCall`),
 * lifecycle, threads as Web Workers, and scheduled tasks.
 *
 * @module
 */
export type { DelayedCall, ReactorTime } from "../defer/time.ts";
// Each part of the reactor adds its export lines below.
export { Clock } from "./clock.ts";
export { AlreadyCalled, AlreadyCancelled } from "./delayed_call.ts";
export { LoopingCall } from "./looping_call.ts";
export { deferLater } from "./defer_later.ts";
export {
  coiterate,
  cooperate,
  CooperativeTask,
  Cooperator,
  type CooperatorOptions,
  type CooperatorScheduler,
  NotPaused,
  SchedulerError,
  SchedulerStopped,
  TaskDone,
  TaskFailed,
  TaskFinished,
  TaskStopped,
} from "./cooperator.ts";
export { DenoReactor, type DenoReactorOptions, reactor, type RunOptions } from "./deno_reactor.ts";
export type { TriggerId, TriggerPhase } from "./_event_triggers.ts";
export { ReactorAlreadyRunning, ReactorNotRestartable, ReactorNotRunning } from "./errors.ts";
export { react, type ReactOptions } from "./react.ts";
export { ThreadPool } from "./thread_pool.ts";
export {
  callInThread,
  deferToThread,
  getThreadPool,
  shutdownThreadPool,
  suggestThreadPoolSize,
} from "./threads.ts";
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
  TCPTransport,
  Transport,
  UNIXAddress,
} from "./interfaces.ts";
export {
  CannotListenError,
  ConnectError,
  ConnectingCancelledError,
  ConnectionAborted,
  ConnectionClosed,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  DNSLookupError,
  NoProtocol,
  NotConnectingError,
  UserError,
} from "./connection_errors.ts";
export type { ConnectTCPOptions, ListenTCPOptions, TCPConnector, TCPPort } from "./tcp.ts";
export type { ConnectUNIXOptions, ListenUNIXOptions, UNIXConnector, UNIXPort } from "./unix.ts";
export type {
  TLSClientOptions,
  TLSConnection,
  TLSConnector,
  TLSPort,
  TLSServerOptions,
} from "./tls.ts";
export type {
  DatagramDestination,
  DatagramProtocolLike,
  ListenUDPOptions,
  UDPPort,
} from "./udp.ts";
export type { Process, ProcessProtocolLike, SpawnProcessOptions } from "./process.ts";
export { ProcessDone, ProcessExitedAlready, ProcessTerminated } from "./process_errors.ts";
export { resolve, resolveAll, type ResolveOptions } from "./resolve.ts";
export {
  formatLogEvent,
  getLogLevel,
  log,
  type LogEvent,
  Logger,
  type LogLevel,
  type LogSink,
  setLogLevel,
  setLogSink,
} from "./log.ts";
export {
  clientFromString,
  connectProtocol,
  EndpointDescriptionError,
  type EndpointReactor,
  HostnameEndpoint,
  type HostnameEndpointOptions,
  serverFromString,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  type StreamClientEndpoint,
  type StreamServerEndpoint,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  type TCPClientEndpointOptions,
  type TCPServerEndpointOptions,
  UNIXClientEndpoint,
  type UNIXClientEndpointOptions,
  UNIXServerEndpoint,
  type UNIXServerEndpointOptions,
} from "./endpoints.ts";
export { HAProxyServerEndpoint, proxyEndpoint } from "./haproxy_endpoint.ts";
export {
  HAProxyProtocolWrapper,
  HAProxyWrappingFactory,
  type HAProxyWrappingFactoryOptions,
} from "./haproxy_wrapping_factory.ts";
export {
  InvalidNetworkProtocol,
  InvalidProxyHeader,
  MissingAddressData,
} from "./proxy_header_errors.ts";
export type { ProxyHeaderResult, ProxyInfo } from "./proxy_info.ts";
export { ProxyHeaderParser, type ProxyHeaderParserOptions } from "./proxy_header_parser.ts";
export { V1Parser } from "./proxy_v1_parser.ts";
export { V2Parser } from "./proxy_v2_parser.ts";
export type { StreamTransport, StreamTransportOptions } from "./stream_transport.ts";
export type { StreamPort } from "./stream_port.ts";
export type { StreamConnector } from "./stream_connector.ts";
export type { StartTLSOptions, TCPConnection, TCPConnectionOptions } from "./tcp.ts";
export {
  backoffPolicy,
  ClientService,
  type ClientServiceOptions,
  type ClientServiceParent,
  type RetryPolicy,
  type WhenConnectedOptions,
} from "./client_service.ts";
