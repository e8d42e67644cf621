/**
 * UNIX socket endpoints: {@linkcode UNIXServerEndpoint} listens on a path,
 * {@linkcode UNIXClientEndpoint} connects to one.
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import { fail } from "../defer/helpers.ts";
import { connecting, listening, missing } from "./_endpoint_support.ts";
import type { FactoryLike, ListeningPort, ProtocolLike } from "./interfaces.ts";
import type {
  EndpointReactor,
  StreamClientEndpoint,
  StreamServerEndpoint,
} from "./stream_endpoint.ts";

/** Options of {@linkcode UNIXServerEndpoint}. */
export interface UNIXServerEndpointOptions {
  /** The kernel's accept queue (default 50). */
  backlog?: number;
  /** The socket file's permissions (default `0o666`). */
  mode?: number;
  /** Whether to keep a lock file with the process id, as Twisted does. */
  wantPID?: boolean;
}

/**
 * Listens on a UNIX socket (Twisted's `UNIXServerEndpoint`).
 *
 * @example
 * ```ts ignore
 * import { Factory, reactor, UNIXServerEndpoint, Echo } from "@torsion/torsion";
 *
 * await new UNIXServerEndpoint(reactor, "/tmp/echo.sock").listen(Factory.forProtocol(Echo));
 * ```
 */
export class UNIXServerEndpoint implements StreamServerEndpoint {
  readonly #reactor: EndpointReactor;
  /** The socket's path. */
  readonly path: string;
  /** `backlog`, `mode`, `wantPID`. */
  readonly options: UNIXServerEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor.
   * @param path The socket's path.
   * @param options `backlog`, `mode`, `wantPID`.
   */
  constructor(reactor: EndpointReactor, path: string, options: UNIXServerEndpointOptions = {}) {
    this.#reactor = reactor;
    this.path = path;
    this.options = { ...options };
  }

  /**
   * Starts listening.
   *
   * @param factory Makes a protocol per connection.
   * @returns The port, or the listening error.
   */
  listen(factory: FactoryLike): Deferred<ListeningPort> {
    const reactor = this.#reactor;
    if (reactor.listenUNIX === undefined) return fail(missing("listenUNIX"));
    return listening(() => reactor.listenUNIX!(this.path, factory, this.options));
  }
}

/** Options of {@linkcode UNIXClientEndpoint}. */
export interface UNIXClientEndpointOptions {
  /** Seconds before giving up (default 30). */
  timeout?: number;
  /** Whether to check the server's lock file first, as Twisted does. */
  checkPID?: boolean;
}

/**
 * Connects to a UNIX socket (Twisted's `UNIXClientEndpoint`).
 *
 * @example
 * ```ts ignore
 * import { Protocol, reactor, UNIXClientEndpoint, connectProtocol } from "@torsion/torsion";
 *
 * await connectProtocol(new UNIXClientEndpoint(reactor, "/tmp/echo.sock"), new Protocol());
 * ```
 */
export class UNIXClientEndpoint implements StreamClientEndpoint {
  readonly #reactor: EndpointReactor;
  /** The socket's path. */
  readonly path: string;
  /** `timeout`, `checkPID`. */
  readonly options: UNIXClientEndpointOptions;

  /**
   * Describes the endpoint; nothing happens until it is used.
   *
   * @param reactor The reactor.
   * @param path The socket's path.
   * @param options `timeout`, `checkPID`.
   */
  constructor(reactor: EndpointReactor, path: string, options: UNIXClientEndpointOptions = {}) {
    this.#reactor = reactor;
    this.path = path;
    this.options = { ...options };
  }

  /**
   * Connects.
   *
   * @param factory Builds the protocol.
   * @returns The connected protocol.
   */
  connect(factory: FactoryLike): Deferred<ProtocolLike> {
    const reactor = this.#reactor;
    if (reactor.connectUNIX === undefined) return fail(missing("connectUNIX"));
    return connecting(
      factory,
      () => ({ type: "UNIX", path: this.path }),
      (f) => reactor.connectUNIX!(this.path, f, this.options),
    );
  }
}
