/**
 * Services (Twisted's `twisted.application`): things with a start and a
 * stop, arranged in a tree whose root, an {@linkcode Application}, the
 * reactor starts and stops, so that one Ctrl-C stops everything in order.
 * A {@linkcode ServiceMaker} is what the runner (`cli.ts`) runs.
 *
 * @example A tree that starts and stops in order
 * ```ts
 * import { MultiService, TimerService } from "@torsion/torsion/application";
 * import { Clock } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * let ticks = 0;
 * const root = new MultiService();
 * const timer = new TimerService(1, () => ticks++);
 * timer.clock = clock;
 * timer.setServiceParent(root);
 * root.startService();
 * clock.advance(1);
 * await root.stopService();
 * assert.equal(ticks, 2);
 * assert.equal(timer.running, false);
 * ```
 *
 * @module
 */
export { Service, type ServiceLike, type ServiceParent } from "./service.ts";
export { MultiService } from "./multi_service.ts";
export { Application, type ApplicationReactor } from "./application.ts";
export { StreamServerEndpointService } from "./stream_server_endpoint_service.ts";
export { TimerService } from "./timer_service.ts";
export type {
  ListeningAnnouncement,
  ServiceMaker,
  ServiceMakerOption,
  ServiceOptions,
  ServiceOptionValue,
} from "./service_maker.ts";
export { UsageError } from "./runner/usage_error.ts";
