// The runner's entry point: global options, the plugin or module to run,
// its options, and then one process or a pool of workers.
import { type DenoReactor, reactor as defaultReactor } from "../../reactor/deno_reactor.ts";
import { serverFromString } from "../../reactor/endpoints.ts";
import { type LogLevel, setLogLevel } from "../../reactor/log.ts";
import type { ServiceMaker } from "../service_maker.ts";
import { _defaultIO, type RunnerIO } from "./io.ts";
import { _loadMaker, _moduleName } from "./load.ts";
import { _makerUsage, _parse } from "./options.ts";
import { _plugins } from "./plugins.ts";
import { _serve } from "./serve.ts";
import { _isUsageError, UsageError } from "./usage_error.ts";
import { _workerFromEnv } from "./worker_link.ts";
import { _checkShareable, _workerArgs, WorkerPool } from "./workers.ts";
import config from "../../deno.json" with { type: "json" };

/** What `--version` prints. */
export const _VERSION = `torsion ${config.version}`;

/** Options for {@linkcode main}. */
export interface MainOptions {
  /** The reactor to run (default: the process-wide one). */
  reactor?: DenoReactor;
  /** Where output goes (default: the process's standard output and error). */
  io?: RunnerIO;
}

const RUN_SUMMARY =
  "Run your module's default export: a Protocol subclass, a Factory or a ServiceMaker";

/**
 * The usage text: of one plugin, or of the runner with every plugin.
 *
 * @param plugin A plugin's name, or `undefined` for the runner.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { usage } from "@torsion/torsion/cli";
 * import assert from "node:assert/strict";
 *
 * assert.match(usage("echo"), /^Usage: cli\.ts echo/);
 * ```
 */
export function usage(plugin?: string): string {
  const plugins = _plugins(_defaultIO);
  if (plugin !== undefined && Object.hasOwn(plugins, plugin)) {
    return _makerUsage(plugin, plugins[plugin], plugin);
  }
  const rows: Array<[string, string]> = Object.entries(plugins).map(([name, maker]) => [
    name,
    maker.description,
  ]);
  rows.push(["run MODULE", RUN_SUMMARY]);
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    "Usage: cli.ts [--log-level LEVEL] PLUGIN [OPTIONS]",
    "       cli.ts [--log-level LEVEL] run MODULE [--listen ENDPOINT]... [--workers N] [OPTIONS]",
    "       cli.ts PLUGIN --help",
    "",
    "Runs a torsion service until Ctrl-C. Plugins:",
    ...rows.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    "",
    "Options:",
    "  --log-level LEVEL  debug, info (default), warn or error",
    "  -h, --help         this text",
    "  --version          the version of torsion",
  ].join("\n");
}

const RUN_USAGE = [
  "Usage: cli.ts run MODULE [--listen ENDPOINT]... [--workers N] [OPTIONS]",
  "",
  `${RUN_SUMMARY}.`,
  "MODULE is a path (./server.ts) or a specifier (jsr:..., https:...).",
  "Run 'cli.ts run MODULE --help' for the module's own options.",
].join("\n");

/**
 * Runs the runner: parses `args`, makes the plugin's (or module's) service,
 * starts it on its endpoints and runs the reactor until it is stopped
 * (Ctrl-C, SIGTERM, or `reactor.stop()`); with `--workers N`, runs N
 * worker processes instead.
 *
 * @param args The command line after the program, such as
 *   `["chat", "--listen", "tcp:8023"]` or `["run", "./server.ts", "--listen", "tcp:8080"]`.
 * @param options The reactor and where output goes.
 * @returns The exit code: 0 after a graceful shutdown, 1 when the service
 *   failed, 2 for bad input.
 *
 * @example
 * ```ts ignore
 * import { main } from "@torsion/torsion/cli";
 *
 * const code = await main(["qotd", "--listen", "tcp:0", "--quote", "Hello"]);
 * ```
 */
export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  const reactor = options.reactor ?? defaultReactor;
  const io = options.io ?? _defaultIO;
  const plugins = _plugins(io);
  let hint: string | undefined;
  try {
    let rest = args;
    while (rest.length > 0 && rest[0].startsWith("-")) {
      const [first, ...more] = rest;
      if (first === "--help" || first === "-h") {
        io.stdout(`${usage()}\n`);
        return 0;
      }
      if (first === "--version") {
        io.stdout(`${_VERSION}\n`);
        return 0;
      }
      const match = /^--log-level(?:=(.*))?$/.exec(first);
      if (match === null) throw new UsageError(`Unknown option ${first}`);
      const level = match[1] ?? more.shift();
      if (level === undefined) throw new UsageError("--log-level needs a value");
      if (!["debug", "info", "warn", "error"].includes(level)) {
        throw new UsageError(`Unknown log level ${level}: use debug, info, warn or error`);
      }
      setLogLevel(level as LogLevel);
      rest = more;
    }
    if (rest.length === 0) throw new UsageError("No plugin given");
    const command = rest[0];
    let name: string;
    let maker: ServiceMaker;
    let makerArgs: string[];
    if (command === "run") {
      hint = "run";
      const module = rest[1];
      if (module === "--help" || module === "-h") {
        io.stdout(`${RUN_USAGE}\n`);
        return 0;
      }
      if (module === "--version") {
        io.stdout(`${_VERSION}\n`);
        return 0;
      }
      if (module === undefined || module.startsWith("-")) {
        throw new UsageError("run needs a MODULE: a path or a specifier");
      }
      hint = `run ${module}`;
      name = _moduleName(module);
      maker = await _loadMaker(module, name);
      makerArgs = rest.slice(2);
    } else if (Object.hasOwn(plugins, command)) {
      hint = name = command;
      maker = plugins[command];
      makerArgs = rest.slice(1);
    } else {
      throw new UsageError(`Unknown plugin ${command}`);
    }
    const parsed = _parse(hint, maker, makerArgs);
    for (const description of parsed.options.listen) {
      try {
        serverFromString(reactor, description);
      } catch (error) {
        throw new UsageError(`Bad --listen ${description}: ${(error as Error).message}`);
      }
    }
    if (parsed.settings.help) {
      io.stdout(`${_makerUsage(hint, maker, name)}\n`);
      return 0;
    }
    if (parsed.settings.version) {
      io.stdout(`${_VERSION}\n`);
      return 0;
    }
    const worker = _workerFromEnv();
    const { workers, grace } = parsed.settings;
    if (workers > 1 && worker === undefined) {
      _checkShareable(hint, parsed.options.listen, reactor);
      const pool = new WorkerPool(workers, _workerArgs(args), reactor, io);
      const supervisor: ServiceMaker = { description: maker.description, makeService: () => pool };
      return await _serve(name, supervisor, parsed.options, reactor, io, { signals: false });
    }
    return await _serve(name, maker, parsed.options, reactor, io, { grace, worker });
  } catch (error) {
    if (_isUsageError(error)) {
      const where = hint?.startsWith("run ") ? hint : error.plugin ?? hint;
      io.stderr(`Error: ${error.message}`);
      io.stderr(`Run 'cli.ts ${where === undefined ? "" : `${where} `}--help' for usage.`);
      return 2;
    }
    io.stderr(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
