/**
 * {@linkcode connectProtocol}: connects one protocol instance through a
 * client endpoint, with no factory to write.
 *
 * @module
 */
import type { Deferred } from "../defer/deferred.ts";
import type { FactoryLike, ProtocolLike } from "./interfaces.ts";
import type { StreamClientEndpoint } from "./stream_endpoint.ts";

/**
 * Connects `protocol` itself through `endpoint` (Twisted's
 * `connectProtocol`): no factory to write for a single connection.
 *
 * @param endpoint Where to connect.
 * @param protocol The protocol to connect.
 * @returns A Deferred of `protocol`, once connected.
 *
 * @example
 * ```ts ignore
 * import { connectProtocol, LineReceiver, reactor, clientFromString } from "@torsion/torsion";
 *
 * const p = await connectProtocol(clientFromString(reactor, "tcp:127.0.0.1:8007"), new LineReceiver());
 * ```
 */
export function connectProtocol<P extends ProtocolLike>(
  endpoint: StreamClientEndpoint,
  protocol: P,
): Deferred<P> {
  let used = false;
  const factory: FactoryLike = {
    buildProtocol(): ProtocolLike | null {
      if (used) return null;
      used = true;
      return protocol;
    },
    doStart(): void {},
    doStop(): void {},
  };
  return endpoint.connect(factory) as Deferred<P>;
}
