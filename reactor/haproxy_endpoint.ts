/**
 * `haproxy:` endpoints: any server endpoint, its connections preceded by a
 * PROXY protocol header from a load balancer (see
 * `haproxy_wrapping_factory.ts` for why this sits in `reactor/`).
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import type { StreamServerEndpoint } from "./stream_endpoint.ts";
import {
  HAProxyWrappingFactory,
  type HAProxyWrappingFactoryOptions,
} from "./haproxy_wrapping_factory.ts";
import type { FactoryLike, ListeningPort } from "./interfaces.ts";

/**
 * A server endpoint whose connections come through a PROXY protocol
 * balancer: it listens with the wrapped endpoint, and each connection's
 * protocol sees the real client in `getPeer()` (Twisted's
 * `_WrapperServerEndpoint` made by `proxyEndpoint`). `serverFromString`
 * makes one for `haproxy:` descriptions.
 *
 * @example
 * ```ts ignore
 * import { Echo, Factory, HAProxyServerEndpoint, reactor, TCP4ServerEndpoint } from "@torsion/torsion";
 *
 * const endpoint = new HAProxyServerEndpoint(new TCP4ServerEndpoint(reactor, 8080));
 * await endpoint.listen(Factory.forProtocol(Echo));
 * ```
 */
export class HAProxyServerEndpoint implements StreamServerEndpoint {
  /** The endpoint that really listens. */
  readonly wrappedEndpoint: StreamServerEndpoint;
  /** `timeout`, `clock` and `maxHeaderLength` of the header. */
  readonly options: HAProxyWrappingFactoryOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param wrappedEndpoint The endpoint that really listens.
   * @param options `timeout` (10 seconds), `clock`, `maxHeaderLength` (4096).
   */
  constructor(wrappedEndpoint: StreamServerEndpoint, options: HAProxyWrappingFactoryOptions = {}) {
    this.wrappedEndpoint = wrappedEndpoint;
    this.options = { ...options };
  }

  /**
   * Listens with the wrapped endpoint, reading the header of each connection.
   *
   * @param factory Makes the protocol of each proxied connection.
   * @returns The wrapped endpoint's port, or its error.
   * @throws {RangeError} For bad `options`.
   */
  listen(factory: FactoryLike): Deferred<ListeningPort> {
    return this.wrappedEndpoint.listen(new HAProxyWrappingFactory(factory, this.options));
  }
}

/**
 * Wraps a server endpoint with the PROXY protocol (Twisted's
 * `proxyEndpoint`).
 *
 * @param wrappedEndpoint The endpoint that really listens.
 * @param options `timeout`, `clock`, `maxHeaderLength`.
 * @returns The wrapping endpoint.
 *
 * @example
 * ```ts
 * import { proxyEndpoint, reactor, TCP4ServerEndpoint } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const endpoint = proxyEndpoint(new TCP4ServerEndpoint(reactor, 8080), { timeout: 5 });
 * assert.ok(endpoint.wrappedEndpoint instanceof TCP4ServerEndpoint);
 * ```
 */
export function proxyEndpoint(
  wrappedEndpoint: StreamServerEndpoint,
  options: HAProxyWrappingFactoryOptions = {},
): HAProxyServerEndpoint {
  return new HAProxyServerEndpoint(wrappedEndpoint, options);
}
