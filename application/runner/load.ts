// `cli.ts run MODULE`: loads a module and turns its default export (a
// Protocol subclass, a Factory, or a ServiceMaker) into a ServiceMaker.
import type { DenoReactor } from "../../reactor/deno_reactor.ts";
import type { FactoryLike, ProtocolLike } from "../../reactor/interfaces.ts";
import { Factory } from "../../protocols/factory.ts";
import type { ServiceMaker, ServiceOptions } from "../service_maker.ts";
import { _serveOn } from "./plugins.ts";
import { UsageError } from "./usage_error.ts";

/** The URL to import for MODULE: specifiers with a scheme as they are, paths from the cwd. */
export function _moduleURL(module: string): string {
  if (/^[a-z][a-z0-9+.-]+:/i.test(module)) return module; // jsr:, npm:, https:, file:
  const base = `file://${Deno.cwd().replace(/\/?$/, "/")}`;
  return new URL(module.replaceAll("%", "%25").replaceAll("#", "%23"), base).href;
}

/** The name the runner prints for MODULE: its file name without the extension. */
export function _moduleName(module: string): string {
  const file = module.replace(/[?#].*$/, "").split(/[/\\]/).filter((part) => part !== "").at(-1);
  return (file ?? module).replace(/\.[cm]?[jt]sx?$/, "").replace(/^[a-z]+:/, "") || "service";
}

function isProtocolClass(value: unknown): value is new () => ProtocolLike {
  if (typeof value !== "function") return false;
  const prototype = (value as { prototype?: Partial<ProtocolLike> }).prototype;
  return typeof prototype?.makeConnection === "function" &&
    typeof prototype?.dataReceived === "function";
}

function isFactory(value: unknown): value is FactoryLike {
  const factory = value as Partial<FactoryLike> | null;
  return typeof factory === "object" && factory !== null &&
    typeof factory.buildProtocol === "function" && typeof factory.doStart === "function" &&
    typeof factory.doStop === "function";
}

function isServiceMaker(value: unknown): value is ServiceMaker {
  const maker = value as Partial<ServiceMaker> | null;
  return typeof maker === "object" && maker !== null && typeof maker.makeService === "function";
}

function serving(name: string, description: string, factory: () => FactoryLike): ServiceMaker {
  return {
    description,
    makeService: (options: ServiceOptions, reactor: DenoReactor) =>
      _serveOn(name, options.listen, factory(), reactor),
  };
}

/**
 * Imports `module` and makes a ServiceMaker of its default export.
 *
 * @throws {UsageError} If it cannot be loaded or has no usable default export.
 */
export async function _loadMaker(module: string, name: string): Promise<ServiceMaker> {
  let loaded: Record<string, unknown>;
  try {
    loaded = await import(_moduleURL(module));
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new UsageError(`Cannot load ${module}: ${why}`, `run ${module}`);
  }
  const value = loaded.default;
  if (isServiceMaker(value)) {
    if (typeof value.description !== "string") {
      throw new UsageError(`${module}: the ServiceMaker has no description`, `run ${module}`);
    }
    return value;
  }
  if (isProtocolClass(value)) {
    return serving(name, `Serves ${value.name || "the protocol"} on each --listen endpoint`, () => {
      return Factory.forProtocol(value);
    });
  }
  if (isFactory(value)) {
    const kind = (value as object).constructor?.name ?? "the factory";
    return serving(name, `Serves ${kind} on each --listen endpoint`, () => value);
  }
  const got = value === undefined
    ? "no default export"
    : `a default export of type ${typeof value === "function" ? "function" : typeof value}`;
  throw new UsageError(
    `${module} has ${got}: export default a Protocol subclass, a Factory or a ServiceMaker`,
    `run ${module}`,
  );
}
