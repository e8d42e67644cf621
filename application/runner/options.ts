// The runner's command line for one ServiceMaker: its own options (declared
// as node:util's parseArgs declares them) and the runner's (--listen,
// --workers, --grace), parsed into ServiceOptions; and the --help text.
import type {
  ServiceMaker,
  ServiceMakerOption,
  ServiceOptions,
  ServiceOptionValue,
} from "../service_maker.ts";
import { UsageError } from "./usage_error.ts";

/** What the runner takes from the command line besides the maker's options. */
export interface RunnerSettings {
  /** How many worker processes: 1 runs in this process. */
  workers: number;
  /** Seconds connections get to finish at shutdown. */
  grace: number;
  /** Whether `-h` or `--help` was given. */
  help: boolean;
  /** Whether `--version` was given. */
  version: boolean;
}

/** The grace period when `--grace` is not given. */
export const DEFAULT_GRACE = 5;

const LISTEN: ServiceMakerOption = {
  type: "string",
  multiple: true,
  valueName: "ENDPOINT",
  description:
    "where to listen, e.g. tcp:8023:interface=127.0.0.1 or unix:/tmp/s.sock (repeatable)",
};
const WORKERS: ServiceMakerOption = {
  type: "string",
  valueName: "N",
  description: "run N processes sharing the TCP ports (Linux), or auto for one per CPU (default 1)",
};
const GRACE: ServiceMakerOption = {
  type: "string",
  valueName: "SECONDS",
  description: `at shutdown, how long connections get to finish (default ${DEFAULT_GRACE})`,
};
const HELP: ServiceMakerOption = { type: "boolean", short: "h", description: "this text" };
const VERSION: ServiceMakerOption = { type: "boolean", description: "the version of torsion" };

const RESERVED = ["listen", "workers", "grace", "help", "version", "positionals"];

/** Every option `maker` takes, the runner's first. */
export function _optionsOf(name: string, maker: ServiceMaker): Record<string, ServiceMakerOption> {
  const own = maker.options ?? {};
  for (const [key, option] of Object.entries(own)) {
    if (RESERVED.includes(key)) {
      throw new UsageError(`${name} declares the option --${key}, which is the runner's own`, name);
    }
    if (option.short === "h") {
      throw new UsageError(`${name} declares the option -h, which is the runner's own`, name);
    }
  }
  return {
    ...(maker.acceptsListen === false ? {} : { listen: LISTEN }),
    ...(maker.acceptsWorkers === false ? {} : { workers: WORKERS, grace: GRACE }),
    ...own,
    help: HELP,
    version: VERSION,
  };
}

/**
 * Parses `args` for `maker`.
 *
 * @throws {UsageError} For an unknown option, a missing or unexpected value,
 *   a repeated single option, or an unexpected argument.
 */
export function _parse(
  name: string,
  maker: ServiceMaker,
  args: readonly string[],
): { options: ServiceOptions; settings: RunnerSettings } {
  const declared = _optionsOf(name, maker);
  const shorts = new Map<string, string>();
  for (const [key, option] of Object.entries(declared)) {
    if (option.short !== undefined) shorts.set(option.short, key);
  }
  const values = new Map<string, Array<string | boolean>>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    let key: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      key = arg.slice(2, eq === -1 ? undefined : eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
      if (!Object.hasOwn(declared, key)) throw new UsageError(`Unknown option --${key}`, name);
    } else if (arg.startsWith("-") && arg.length > 1) {
      const letter = arg.slice(1, 2);
      const found = shorts.get(letter);
      if (found === undefined) throw new UsageError(`Unknown option -${letter}`, name);
      key = found;
      inline = arg.length > 2 ? arg.slice(2).replace(/^=/, "") : undefined;
    } else {
      positionals.push(arg);
      continue;
    }
    const option = declared[key];
    let value: string | boolean;
    if (option.type === "string") {
      if (inline !== undefined) value = inline;
      else if (i + 1 < args.length) value = args[++i];
      else {
        // Named as it was given: `-o needs a value` for `-o`.
        const given = arg.startsWith("--") ? `--${key}` : `-${arg[1]}`;
        throw new UsageError(`${given} needs a value`, name);
      }
    } else {
      if (inline !== undefined) throw new UsageError(`--${key} takes no value`, name);
      value = true;
    }
    const list = values.get(key) ?? [];
    if (list.length > 0 && !option.multiple && option.type === "string") {
      throw new UsageError(`--${key} may be given only once`, name);
    }
    list.push(value);
    values.set(key, list);
  }
  if (maker.positionals === undefined && positionals.length > 0) {
    throw new UsageError(`Unexpected argument ${positionals[0]}`, name);
  }
  const options: ServiceOptions = { listen: [], positionals };
  for (const [key, option] of Object.entries(maker.options ?? {})) {
    const given = values.get(key);
    let value: ServiceOptionValue;
    if (given === undefined) value = option.default;
    else if (option.multiple) value = given as string[] | boolean[];
    else value = given.at(-1);
    if (value !== undefined) options[key] = value;
  }
  const listen = (values.get("listen") ?? []) as string[];
  options.listen = listen.length > 0 ? listen : [...(maker.defaultListen ?? [])];
  const workers = values.get("workers")?.at(-1) as string | undefined;
  const grace = values.get("grace")?.at(-1) as string | undefined;
  return {
    options,
    settings: {
      workers: workers === undefined ? 1 : _workerCount(workers, name),
      grace: grace === undefined ? DEFAULT_GRACE : _seconds(grace, "--grace", name),
      help: values.has("help"),
      version: values.has("version"),
    },
  };
}

/** `--workers N` or `auto`. */
export function _workerCount(text: string, plugin: string): number {
  if (text === "auto") return navigator.hardwareConcurrency || 1;
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1 || count > 1024) {
    throw new UsageError(`--workers must be a number from 1 to 1024 or auto, not ${text}`, plugin);
  }
  return count;
}

/** A number of seconds, zero or more. */
export function _seconds(text: string, option: string, plugin: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${option} must be a number of seconds, not ${text}`, plugin);
  }
  return value;
}

/** The `--help` text of one maker. */
export function _makerUsage(command: string, maker: ServiceMaker, name: string): string {
  const lines = [
    `Usage: cli.ts ${command} [OPTIONS]${maker.positionals ? ` ${maker.positionals}` : ""}`,
    "",
    maker.description,
  ];
  if (maker.defaultListen && maker.defaultListen.length > 0) {
    lines.push(`Listens on ${maker.defaultListen.join(", ")} by default.`);
  }
  lines.push("", "Options:");
  const entries = Object.entries(_optionsOf(name, maker)).map(([key, option]) => {
    const short = option.short === undefined ? "" : `-${option.short}, `;
    const value = option.type === "string" ? ` ${option.valueName ?? "VALUE"}` : "";
    const fallback = option.default === undefined || key === "help" || RESERVED.includes(key)
      ? ""
      : ` (default ${[option.default].flat().join(", ")})`;
    return [`${short}--${key}${value}`, `${option.description}${fallback}`];
  });
  const width = Math.max(...entries.map(([left]) => left.length));
  for (const [left, help] of entries) lines.push(`  ${left.padEnd(width)}  ${help}`);
  return lines.join("\n");
}
