/**
 * {@linkcode HostnameEndpoint}: connects to a host name by racing its
 * addresses (RFC 6555, "Happy Eyeballs").
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import type { DelayedCall } from "../defer/time.ts";
import { isReactorTime, OneConnectionFactory } from "./_endpoint_support.ts";
import { _isIPAddress } from "./_ip_address.ts";
import { ConnectingCancelledError, DNSLookupError } from "./connection_errors.ts";
import type { Address, Connector, FactoryLike, ProtocolLike, Transport } from "./interfaces.ts";
import { resolveAll } from "./resolve.ts";
import type {
  EndpointReactor,
  StreamClientEndpoint,
  TCPClientEndpointOptions,
} from "./stream_endpoint.ts";

/** Options of {@linkcode HostnameEndpoint}. */
export interface HostnameEndpointOptions extends TCPClientEndpointOptions {
  /** Seconds between starting one address's attempt and the next (default 0.3). */
  attemptDelay?: number;
  /**
   * Resolves the host to its addresses (default `resolveAll` with the
   * reactor as the clock, the hosts file first). Tests inject a fake.
   */
  resolver?: (host: string) => PromiseLike<string[]> | Deferred<string[]>;
}

/**
 * Connects to a host name the way browsers do (RFC 6555, "Happy
 * Eyeballs"): resolve every address, start an attempt on the first, then
 * one more every `attemptDelay` seconds while none has succeeded; the first
 * to connect wins and every other attempt is stopped (a late connection is
 * refused). If all fail, the last failure is reported; no addresses gives
 * `DNSLookupError`.
 *
 * @example
 * ```ts ignore
 * import { HostnameEndpoint, Protocol, reactor, connectProtocol } from "@torsion/torsion";
 *
 * const p = await connectProtocol(new HostnameEndpoint(reactor, "localhost", 8007), new Protocol());
 * ```
 */
export class HostnameEndpoint implements StreamClientEndpoint {
  readonly #reactor: EndpointReactor;
  /** The name (or address) to connect to. */
  readonly host: string;
  /** The port. */
  readonly port: number;
  readonly #options: HostnameEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor (it needs `callLater`).
   * @param host The host name or address.
   * @param port The port.
   * @param options `timeout` per attempt, `attemptDelay`, `resolver`.
   * @throws {RangeError} For a negative or non-finite `attemptDelay`.
   */
  constructor(
    reactor: EndpointReactor,
    host: string,
    port: number,
    options: HostnameEndpointOptions = {},
  ) {
    const delay = options.attemptDelay ?? 0.3;
    if (!(delay >= 0) || !Number.isFinite(delay)) {
      throw new RangeError(`attemptDelay must be 0 or more seconds, not ${delay}`);
    }
    this.#reactor = reactor;
    this.host = host;
    this.port = port;
    this.#options = { ...options, attemptDelay: delay };
  }

  /**
   * Resolves the host and races connections to its addresses.
   *
   * @param factory Builds the protocol (once, for the winner).
   * @returns The connected protocol.
   */
  connect(factory: FactoryLike): Deferred<ProtocolLike> {
    const reactor = this.#reactor;
    const { attemptDelay, resolver, timeout } = this.#options;
    const address: Address = { type: "TCP", host: this.host, port: this.port };
    const connectors: Connector[] = [];
    const factories: OneConnectionFactory[] = [];
    let timer: DelayedCall | undefined;
    let lookup: Deferred<string[]> | undefined;
    let finished = false;
    const stopAll = (): void => {
      finished = true;
      if (timer?.active()) timer.cancel();
      timer = undefined;
      for (const f of factories) f.refuse = true;
      for (const connector of connectors) {
        if (connector.state === "connecting") connector.stopConnecting();
      }
    };
    const d: Deferred<ProtocolLike> = new Deferred<ProtocolLike>(() => {
      d.errback(new ConnectingCancelledError(address));
      stopAll();
      lookup?.cancel();
    });
    // One Deferred per attempt; the first success wins.
    const won = new Deferred<ProtocolLike>();
    won.addCallbacks((protocol: ProtocolLike) => {
      stopAll();
      if (!d.called) d.callback(protocol);
      else (protocol as { transport?: Transport | null }).transport?.loseConnection();
    }, () => {});

    const start = (addresses: string[]): void => {
      if (d.called) return;
      if (addresses.length === 0) {
        d.errback(new DNSLookupError(this.host));
        return;
      }
      let pending = addresses.length;
      let lastFailure: Failure | undefined;
      const attempt = (i: number): void => {
        timer = undefined;
        if (finished || d.called) return;
        const mine = new Deferred<ProtocolLike>();
        const f = new OneConnectionFactory(factory, mine);
        factories.push(f);
        mine.addCallbacks((protocol: ProtocolLike) => {
          if (!won.called) won.callback(protocol);
        }, (failure: Failure) => {
          lastFailure = failure;
          if (--pending === 0 && !finished && !d.called) {
            finished = true;
            d.errback(lastFailure);
          } else if (!finished && timer?.active()) {
            // Do not wait out the delay: try the next address now.
            timer.reset(0);
          }
        });
        try {
          connectors.push(reactor.connectTCP(addresses[i], this.port, f, { timeout }));
        } catch (error) {
          mine.errback(error);
        }
        if (i + 1 < addresses.length && !finished && !d.called) {
          if (reactor.callLater === undefined) {
            attempt(i + 1);
          } else {
            timer = reactor.callLater(attemptDelay!, () => attempt(i + 1));
          }
        }
      };
      attempt(0);
    };

    if (_isIPAddress(this.host)) {
      start([this.host]);
    } else {
      const resolved = resolver !== undefined
        ? Deferred.fromPromise(Promise.resolve(resolver(this.host)))
        : resolveAll(this.host, undefined, isReactorTime(reactor) ? { clock: reactor } : {});
      lookup = resolved;
      resolved.addCallbacks(start, (failure: Failure) => {
        if (!d.called) d.errback(failure);
      });
    }
    return d;
  }
}
