/**
 * Protocols and the factories that make them: the classes you subclass to
 * speak a network protocol, as in Twisted.
 *
 * A {@linkcode Protocol} handles one connection: `connectionMade`,
 * `dataReceived` for each chunk of bytes, `connectionLost`. A
 * {@linkcode Factory} makes one protocol per connection and holds what they
 * share; a {@linkcode ClientFactory} also hears how connection attempts go,
 * and a {@linkcode ReconnectingClientFactory} reconnects with a back-off.
 * {@linkcode ClientCreator} connects a single protocol without a factory.
 * UDP and child processes have their own base classes,
 * {@linkcode DatagramProtocol} and {@linkcode ProcessProtocol}.
 *
 * @example An echo protocol served by a factory
 * ```ts
 * import { Factory, Protocol } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport!.write(data);
 *   }
 * }
 * const factory = Factory.forProtocol(Echo);
 * assert.ok(factory.buildProtocol({ type: "TCP", host: "127.0.0.1", port: 1 }) instanceof Echo);
 * // reactor.listenTCP(8000, factory);
 * ```
 *
 * @module
 */

// The shapes the reactor deals in, so protocol authors find them here too.
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
} from "../reactor/interfaces.ts";

// The defer types that protocol signatures use.
export type {
  AddCallbacksOptions,
  CallbackResult,
  Deferred,
  DelayedCall,
  Failure,
  FailureType,
  ReactorTime,
} from "../defer/mod.ts";

// Protocols and factories.
export { Protocol } from "./protocol.ts";
export { ClientFactory, Factory, type ProtocolMaker, ServerFactory } from "./factory.ts";
export { ReconnectingClientFactory } from "./reconnecting_client_factory.ts";
export { ClientCreator, type TCPClientReactor } from "./client_creator.ts";
export type { ConnectTCPOptions } from "../reactor/tcp.ts";
export { DatagramProtocol, type DatagramTransport } from "./datagram_protocol.ts";
export { ProcessProtocol, type ProcessTransport } from "./process_protocol.ts";

// Framing: lines, netstrings and length-prefixed strings.
export { LineReceiver } from "./line_receiver.ts";
export { LineOnlyReceiver } from "./line_only_receiver.ts";
export { NetstringParseError, NetstringReceiver } from "./netstring_receiver.ts";
export {
  Int16StringReceiver,
  Int32StringReceiver,
  Int8StringReceiver,
  IntNStringReceiver,
  StringTooLongError,
} from "./int_string_receiver.ts";

// Policies: timeouts, wrapping, throttling, connection limits.
export {
  type CallLaterClock,
  ConnectionTimeout,
  type MixinBase,
  TimeoutMixin,
  type TimeoutMixinMembers,
} from "./timeout_mixin.ts";
export { type ProtocolRegistry, ProtocolWrapper, WrappingFactory } from "./wrapping_factory.ts";
export {
  ThrottlingFactory,
  type ThrottlingFactoryOptions,
  ThrottlingProtocol,
} from "./throttling_factory.ts";
export { LimitTotalConnectionsFactory } from "./limit_total_connections_factory.ts";
export { TimeoutFactory, type TimeoutFactoryOptions, TimeoutProtocol } from "./timeout_factory.ts";

// The inetd services of wire.
export { Chargen, Daytime, Discard, Echo, QOTD, Time, Who } from "./wire.ts";

// The HTTP client: Agent, its pool and redirects, Response, getPage.
export {
  Agent,
  type AgentLike,
  type AgentOptions,
  BadResponseVersion,
  BodyTooLargeError,
  type ClientRequest,
  DataLoss,
  getPage,
  type GetPageOptions,
  Headers,
  type HeadersLike,
  type HTTPClientReactor,
  HTTPConnectionPool,
  HTTPError,
  InfiniteRedirection,
  PageRedirect,
  ParseError,
  PartialDownloadError,
  PotentialDataLoss,
  readBody,
  type ReadBodyOptions,
  RedirectAgent,
  RedirectWithNoLocation,
  RequestNotSent,
  Response,
  type ResponseBodyProducer,
  type ResponseBodyProtocol,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  type ResponseOptions,
  SchemeNotSupported,
} from "./http/mod.ts";
// The HTTP client's request bodies: producers and their errors.
export {
  type BodyProducer,
  ExcessWrite,
  FileBodyProducer,
  type FileBodyProducerOptions,
  RequestGenerationFailed,
  RequestTransmissionFailed,
  UNKNOWN_LENGTH,
  WrongBodyLength,
} from "./http/mod.ts";
// The HTTP client's wrapping agents: decoding, cookies, browser-like redirects, proxies.
export {
  BrotliDecoder,
  BrowserLikeRedirectAgent,
  type ContentDecoder,
  ContentDecoderAgent,
  type Cookie,
  CookieAgent,
  CookieJar,
  DeflateDecoder,
  GzipDecoder,
  ProxyAgent,
  type ProxyAgentOptions,
  TunnelError,
} from "./http/mod.ts";
export { ChatFactory, ChatProtocol } from "./chat.ts";
export {
  Proxy,
  ProxyClient,
  ProxyClientFactory,
  ProxyFactory,
  type ProxyFactoryOptions,
  type ProxyReactor,
  ProxyServer,
} from "./portforward.ts";

// AMP: typed commands over Twisted's Asynchronous Messaging Protocol.
export {
  AMP,
  type AmpBox,
  AmpDateTime,
  type AmpDateTimeFields,
  AmpError,
  AmpList,
  ANSWER,
  type ArgumentsOf,
  type ArgumentType,
  ASK,
  BadLocalReturn,
  BigInteger,
  Boolean,
  BoxParser,
  type BoxParserOptions,
  Bytes,
  type CallResult,
  COMMAND,
  type Command,
  command,
  type CommandOptions,
  DateTime,
  Decimal,
  type DecodedValue,
  DEFAULT_MAX_BOX_LENGTH,
  encodeBox,
  type EncodedValue,
  ERROR,
  ERROR_CODE,
  ERROR_DESCRIPTION,
  type ErrorClass,
  type ErrorMap,
  type Flatten,
  Float,
  type Inputs,
  Integer,
  InvalidSignature,
  type IsOptional,
  ListOf,
  MalformedAmpBox,
  MAX_KEY_LENGTH,
  MAX_VALUE_LENGTH,
  NoEmptyBoxes,
  optional,
  type OptionalArgument,
  parseBoxes,
  RemoteAmpError,
  type Responder,
  type ResponderResult,
  type ResponseOf,
  type Schema,
  TooLong,
  type TooLongOptions,
  UNHANDLED_ERROR_CODE,
  UnhandledCommand,
  Unicode,
  UNKNOWN_ERROR_CODE,
  UnknownRemoteError,
  type Values,
} from "./amp/mod.ts";
