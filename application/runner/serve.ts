// Runs one ServiceMaker's service in this process: makes the service, puts
// it under an Application tied to the reactor, prints where it listens, and
// waits for the reactor to stop (Ctrl-C, SIGTERM, or the service itself).
import type { DenoReactor } from "../../reactor/deno_reactor.ts";
import type { Address } from "../../reactor/interfaces.ts";
import { Logger } from "../../reactor/log.ts";
import { Application } from "../application.ts";
import type { ServiceLike } from "../service.ts";
import type { ListeningAnnouncement, ServiceMaker, ServiceOptions } from "../service_maker.ts";
import type { RunnerIO } from "./io.ts";
import { _isUsageError } from "./usage_error.ts";
import { _workerMain, type WorkerLink } from "./worker_link.ts";

const log = new Logger("runner");

/** `tcp 127.0.0.1:8007` or `unix /tmp/s.sock`, as the runner prints addresses. */
export function _describe(address: Address): string {
  return address.type === "UNIX" ? `unix ${address.path}` : `tcp ${address.host}:${address.port}`;
}

function isService(value: unknown): value is ServiceLike {
  const service = value as Partial<ServiceLike> | null;
  return typeof service === "object" && service !== null &&
    typeof service.startService === "function" && typeof service.stopService === "function" &&
    typeof service.setServiceParent === "function";
}

/** Every listening port in the tree, named by the nearest named service. */
function listening(service: unknown, name: string, into: ListeningAnnouncement[]): void {
  const node = service as {
    name?: string;
    port?: { getHost?: () => Address };
    [Symbol.iterator]?: () => Iterator<unknown>;
  };
  const own = typeof node.name === "string" ? node.name : name;
  if (typeof node.port?.getHost === "function") {
    into.push({ name: own, address: node.port.getHost() });
  }
  if (typeof node[Symbol.iterator] === "function") {
    for (const child of node as Iterable<unknown>) listening(child, own, into);
  }
}

/** The text printed once started: the listening lines, then the maker's banner. */
function announcement(maker: ServiceMaker, root: ServiceLike, name: string): string {
  const ports: ListeningAnnouncement[] = [];
  listening(root, name, ports);
  let text = ports.map((port) => `${port.name} listening on ${_describe(port.address)}\n`).join("");
  if (maker.banner !== undefined) text += maker.banner(ports);
  return text;
}

/**
 * A service's start failed, with a message already written for the user:
 * the runner prints it as it is (no `Error:` before it) and exits with
 * `exitCode`.
 */
export class _StartFailed extends Error {
  /** The runner's exit code. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "StartFailed";
    this.exitCode = exitCode;
  }
}

/** How {@linkcode _serve} runs. */
export interface ServeOptions {
  /** Seconds connections get to finish at shutdown (default 0). */
  grace?: number;
  /** The link with the supervisor, in a worker. */
  worker?: WorkerLink;
  /** Whether the reactor handles SIGINT and SIGTERM (default true). */
  signals?: boolean;
}

/**
 * Makes and runs the service until the reactor stops.
 *
 * @returns The exit code: 0 after a stop, 1 if the service failed to start.
 * @throws {UsageError} From `makeService`, for bad option values.
 */
export async function _serve(
  name: string,
  maker: ServiceMaker,
  options: ServiceOptions,
  reactor: DenoReactor,
  io: RunnerIO,
  how: ServeOptions = {},
): Promise<number> {
  const { grace = 0, worker, signals = true } = how;
  if (worker !== undefined) reactor.sharePorts = true;
  let service: unknown;
  try {
    service = await maker.makeService(options, reactor);
  } catch (error) {
    if (_isUsageError(error)) throw error;
    io.stderr(`Error: ${name}: cannot make the service: ${messageOf(error)}`);
    return 1;
  }
  if (!isService(service)) {
    io.stderr(`Error: ${name}: makeService returned ${typeof service}, not a Service`);
    return 1;
  }
  const app = new Application(name);
  service.setServiceParent(app);
  let code = 0;
  let serving = false;
  reactor.addSystemEventTrigger("before", "shutdown", () => {
    if (serving) log.info("shutting down");
  });
  const started = app.startWith(reactor);
  const stopped = reactor.run({ gracePeriod: grace, installSignalHandlers: signals });
  if (worker !== undefined) _workerMain(reactor, worker);
  started.addCallbacks(() => {
    const text = announcement(maker, service, name);
    serving = text !== "";
    if (worker !== undefined) worker.ready(text);
    else io.stdout(text);
    if (text !== "" && worker === undefined) log.info("running; press Ctrl-C to stop");
  }, (failure) => {
    const message = failure.getErrorMessage();
    io.stderr(failure.value instanceof _StartFailed ? message : `Error: ${message}`);
    const exitCode = (failure.value as { exitCode?: unknown } | null)?.exitCode;
    code = typeof exitCode === "number" ? exitCode : 1;
    try {
      reactor.stop();
    } catch {
      // already stopping
    }
  });
  await stopped;
  if (serving) log.info("stopped");
  return code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
