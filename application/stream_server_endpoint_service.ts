/**
 * A server as a service: listens on an endpoint while running (Twisted's
 * `twisted.application.internet.StreamServerEndpointService`).
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import { CancelledError } from "../defer/errors.ts";
import type { Failure } from "../defer/failure.ts";
import type { StreamServerEndpoint } from "../reactor/endpoints.ts";
import type { FactoryLike, ListeningPort } from "../reactor/interfaces.ts";
import { Logger } from "../reactor/log.ts";
import { Service } from "./service.ts";

const logger = new Logger("service");

/**
 * Listens on `endpoint` with `factory` when started, and stops listening
 * when stopped. Listening starts in `privilegedStartService` (so a port
 * below 1024 can be bound before privileges are dropped) or else in
 * `startService`.
 *
 * A failure to listen is logged and fails the Deferred `startService()`
 * returns; it is never swallowed. Twisted only logs it.
 *
 * @example Serving echo on a free port
 * ```ts ignore
 * import { StreamServerEndpointService } from "@torsion/torsion/application";
 * import { Echo, Factory, reactor, serverFromString } from "@torsion/torsion";
 *
 * const service = new StreamServerEndpointService(
 *   serverFromString(reactor, "tcp:0:interface=127.0.0.1"),
 *   Factory.forProtocol(Echo),
 * );
 * await service.startService();
 * console.log(service.port!.getHost());
 * await service.stopService();
 * ```
 */
export class StreamServerEndpointService extends Service {
  /** Where it listens. */
  readonly endpoint: StreamServerEndpoint;
  /** Makes a protocol per connection. */
  readonly factory: FactoryLike;
  #waiting: Deferred<ListeningPort | undefined> | undefined;
  #port: ListeningPort | undefined;
  #failure: Failure | undefined;

  /**
   * Makes a stopped service.
   *
   * @param endpoint Where to listen, e.g. `serverFromString(reactor, "tcp:8080")`.
   * @param factory Makes a protocol per connection.
   * @param name Its name among its parent's children; the runner prints it
   *   in `NAME listening on ADDRESS`.
   */
  constructor(endpoint: StreamServerEndpoint, factory: FactoryLike, name?: string) {
    super(name);
    this.endpoint = endpoint;
    this.factory = factory;
  }

  /** The listening port, while it listens. */
  get port(): ListeningPort | undefined {
    return this.#port;
  }

  /**
   * Starts listening, unless it already has.
   */
  override privilegedStartService(): void {
    super.privilegedStartService();
    if (this.#waiting !== undefined) return;
    this.#failure = undefined;
    const waiting = this.endpoint.listen(this.factory).addCallbacks(
      (port: ListeningPort) => {
        this.#port = port;
        return port;
      },
      (failure: Failure) => {
        if (failure.check(CancelledError) === null) {
          logger.error(`${this.name ?? "a server"} cannot listen: ${failure.getErrorMessage()}`);
          this.#failure = failure;
        }
        return undefined;
      },
    );
    this.#waiting = waiting as Deferred<ListeningPort | undefined>;
  }

  /**
   * Starts listening, unless `privilegedStartService` has.
   *
   * @returns A Deferred that fires once listening, or fails with the
   *   reason it cannot (such as `CannotListenError`).
   */
  override startService(): Deferred<void> {
    super.startService();
    this.privilegedStartService();
    const started = new Deferred<void>();
    this.#waiting!.addCallback((port: ListeningPort | undefined) => {
      if (port !== undefined || this.#failure === undefined) started.callback(undefined);
      else started.errback(this.#failure);
      return port;
    });
    return started;
  }

  /**
   * Stops listening, or gives up trying to.
   *
   * @returns A Deferred that fires once the port has stopped listening.
   */
  override stopService(): Deferred<void> {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    const stopped = new Deferred<void>();
    if (waiting === undefined) {
      super.stopService();
      stopped.callback(undefined);
      return stopped;
    }
    waiting.cancel();
    waiting.addCallback((port: ListeningPort | undefined) => {
      this.#port = undefined;
      return port?.stopListening();
    }).addCallbacks(() => {
      super.stopService();
      stopped.callback(undefined);
    }, (failure: Failure) => {
      super.stopService();
      stopped.errback(failure);
    });
    return stopped;
  }
}
