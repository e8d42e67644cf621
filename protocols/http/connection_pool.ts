/**
 * {@linkcode HTTPConnectionPool}: the persistent connections agents share,
 * kept idle per destination between requests, with Twisted's limits and its
 * retry of an idempotent request on a connection that turns out dead.
 *
 * @module
 */
import type { Deferred } from "../../defer/deferred.ts";
import { CancelledError } from "../../defer/errors.ts";
import type { Failure } from "../../defer/failure.ts";
import { succeed } from "../../defer/helpers.ts";
import { gatherResults } from "../../defer/deferred_list.ts";
import type { DelayedCall, ReactorTime } from "../../defer/time.ts";
import { reactor as defaultReactor } from "../../reactor/deno_reactor.ts";
import type { ConnectionHooks, HTTP11ClientProtocol, OutgoingRequest } from "./_client_protocol.ts";
import { RequestNotSent, ResponseNeverReceived } from "./errors.ts";
import type { Response } from "./response.ts";

/** Methods a pool retries once on a new connection (Twisted's list). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "TRACE"]);

/** Opens a new connection whose protocol reports to `hooks`. */
export type Connect = (hooks: Omit<ConnectionHooks, "connected">) => Deferred<HTTP11ClientProtocol>;

/** What a pool hands out: a connection, or one that retries once. */
export interface RequestSender {
  request(request: OutgoingRequest): Deferred<Response>;
}

let poolConnection: (
  pool: HTTPConnectionPool,
  key: string,
  connect: Connect,
) => Deferred<RequestSender>;

function shouldRetry(request: OutgoingRequest, error: unknown): boolean {
  if (!IDEMPOTENT.has(request.method) || request.body !== undefined) return false;
  if (error instanceof RequestNotSent) return true;
  if (!(error instanceof ResponseNeverReceived)) return false;
  return !error.reasons.some((f) => f.check(CancelledError));
}

/**
 * A pool of persistent HTTP connections, shared by the agents given it:
 * after a response has been read whole, its connection waits here for the
 * next request to the same scheme, host and port, instead of closing.
 *
 * At most {@linkcode HTTPConnectionPool.maxPersistentPerHost} idle
 * connections are kept per destination (the oldest is closed to make room);
 * an idle connection closes after
 * {@linkcode HTTPConnectionPool.cachedConnectionTimeout} seconds, and leaves
 * the pool at once if the server closes it. A request that finds a reused
 * connection dead (no response at all) is retried once on a new connection
 * when its method is idempotent and it has no body, as Twisted's
 * `_RetryingHTTP11ClientProtocol` does.
 *
 * Idle connections keep a process (and a test) running: call
 * {@linkcode HTTPConnectionPool.closeCachedConnections} when done.
 *
 * Divergences from Twisted: a connection the server closes leaves the pool
 * at once; a response followed by extra bytes is not reused; there is no
 * public `getConnection(key, endpoint)`, since agents are the only users.
 *
 * @example Two requests over one connection
 * ```ts ignore
 * import { Agent, HTTPConnectionPool, readBody } from "@torsion/torsion/protocols";
 * import { reactor } from "@torsion/torsion/reactor";
 *
 * const pool = new HTTPConnectionPool(reactor);
 * const agent = new Agent(reactor, { pool });
 * for (const path of ["/a", "/b"]) {
 *   await agent.request("GET", `http://127.0.0.1:8080${path}`).addCallback(readBody);
 * }
 * await pool.closeCachedConnections();
 * ```
 */
export class HTTPConnectionPool {
  /** The most idle connections kept per scheme, host and port (Twisted's 2). */
  maxPersistentPerHost: number = 2;
  /** Seconds an idle connection is kept before it is closed (Twisted's 240). */
  cachedConnectionTimeout: number = 240;
  /** Whether an idempotent request on a reused connection that turns out dead is retried once. */
  retryAutomatically: boolean = true;
  /** Whether connections are kept alive at all; `false` closes each after its response. */
  readonly persistent: boolean;

  readonly #clock: Pick<ReactorTime, "callLater">;
  #connections = new Map<string, HTTP11ClientProtocol[]>();
  #timeouts = new Map<HTTP11ClientProtocol, DelayedCall>();

  static {
    poolConnection = (pool, key, connect) => pool.#getConnection(key, connect);
  }

  /**
   * Makes an empty pool.
   *
   * @param reactor Times out idle connections (default: the reactor).
   * @param persistent Whether to keep connections alive (default `true`).
   */
  constructor(reactor: Pick<ReactorTime, "callLater"> = defaultReactor, persistent = true) {
    this.#clock = reactor;
    this.persistent = persistent;
  }

  /**
   * Closes every idle connection and empties the pool. Connections busy
   * with a request are not touched; they close or come back later.
   *
   * @returns A Deferred that fires once those connections have closed.
   */
  closeCachedConnections(): Deferred<void> {
    const waits: Deferred<void>[] = [];
    const connections = this.#connections;
    this.#connections = new Map();
    for (const call of this.#timeouts.values()) call.cancel();
    this.#timeouts.clear();
    for (const list of connections.values()) {
      for (const protocol of list) waits.push(protocol.abort());
    }
    return gatherResults(waits).addCallback(() => undefined);
  }

  #getConnection(key: string, connect: Connect): Deferred<RequestSender> {
    const list = this.#connections.get(key);
    while (list !== undefined && list.length > 0) {
      const protocol = list.shift()!;
      this.#timeouts.get(protocol)?.cancel();
      this.#timeouts.delete(protocol);
      if (list.length === 0) this.#connections.delete(key);
      if (protocol.state !== "QUIESCENT" || !protocol.connected) continue;
      if (!this.retryAutomatically) return succeed(protocol);
      return succeed<RequestSender>({
        request: (request) =>
          protocol.request(request).addErrback((failure: Failure) => {
            if (!shouldRetry(request, failure.value)) return failure;
            return this.#newConnection(key, connect).addCallback((fresh) => fresh.request(request));
          }),
      });
    }
    return this.#newConnection(key, connect);
  }

  #newConnection(key: string, connect: Connect): Deferred<HTTP11ClientProtocol> {
    return connect({
      quiescent: (protocol) => this.#put(key, protocol),
      lost: (protocol) => this.#remove(key, protocol),
    });
  }

  #put(key: string, protocol: HTTP11ClientProtocol): void {
    let list = this.#connections.get(key);
    if (list === undefined) this.#connections.set(key, list = []);
    if (list.length >= this.maxPersistentPerHost) {
      const dropped = list.shift()!;
      this.#timeouts.get(dropped)?.cancel();
      this.#timeouts.delete(dropped);
      dropped.transport!.loseConnection();
    }
    list.push(protocol);
    this.#timeouts.set(
      protocol,
      this.#clock.callLater(this.cachedConnectionTimeout, () => {
        this.#timeouts.delete(protocol);
        this.#remove(key, protocol);
        protocol.transport!.loseConnection();
      }),
    );
  }

  #remove(key: string, protocol: HTTP11ClientProtocol): void {
    const list = this.#connections.get(key);
    if (list === undefined) return;
    const at = list.indexOf(protocol);
    if (at === -1) return;
    list.splice(at, 1);
    if (list.length === 0) this.#connections.delete(key);
    this.#timeouts.get(protocol)?.cancel();
    this.#timeouts.delete(protocol);
  }
}

/**
 * A connection from `pool` for `key` (an idle one, else a new one from
 * `connect`): what agents send their requests through.
 *
 * @param pool The pool.
 * @param key The scheme, host and port, as `http://host:port`.
 * @param connect Opens a new connection.
 * @returns A Deferred of something to send the request through.
 */
export function getPooledConnection(
  pool: HTTPConnectionPool,
  key: string,
  connect: Connect,
): Deferred<RequestSender> {
  return poolConnection(pool, key, connect);
}
