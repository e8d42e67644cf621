/**
 * Endpoints: where to listen or connect, as objects or as strings, so a
 * program takes `tcp:8080:interface=127.0.0.1` or `unix:/run/app.sock` from
 * its configuration and never hard-codes a transport. A server endpoint's
 * `listen(factory)` fires with the listening port; a client endpoint's
 * `connect(factory)` fires with the protocol once it is connected (after
 * its `connectionMade`), and cancelling it abandons the attempt.
 *
 * The endpoints live in files of their own, re-exported here:
 * `stream_endpoint.ts` (the interfaces and what endpoints need of a
 * reactor), `tcp_endpoints.ts`, `hostname_endpoint.ts`, `unix_endpoints.ts`,
 * `ssl_endpoints.ts`, `connect_protocol.ts`, and `endpoint_strings.ts`
 * (`serverFromString` and `clientFromString`).
 *
 * @module
 */
export { EndpointDescriptionError } from "./_endpoint_parser.ts";
export type {
  EndpointReactor,
  StreamClientEndpoint,
  StreamServerEndpoint,
  TCPClientEndpointOptions,
  TCPServerEndpointOptions,
} from "./stream_endpoint.ts";
export {
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
} from "./tcp_endpoints.ts";
export { HostnameEndpoint, type HostnameEndpointOptions } from "./hostname_endpoint.ts";
export {
  UNIXClientEndpoint,
  type UNIXClientEndpointOptions,
  UNIXServerEndpoint,
  type UNIXServerEndpointOptions,
} from "./unix_endpoints.ts";
export { SSL4ClientEndpoint, SSL4ServerEndpoint } from "./ssl_endpoints.ts";
export { connectProtocol } from "./connect_protocol.ts";
export { clientFromString, serverFromString } from "./endpoint_strings.ts";
