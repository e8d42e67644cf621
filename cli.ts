/**
 * torsion's runner, in the manner of Twisted's `twist`: one command starts a
 * service from a plugin on the endpoints you name, logs what happens, and
 * shuts down gracefully on Ctrl-C (SIGINT) or SIGTERM through the reactor's
 * shutdown triggers.
 *
 * ```sh
 * deno run -A jsr:@torsion/torsion/cli start          # chat and echo on localhost
 * deno run -A jsr:@torsion/torsion/cli echo --listen tcp:8007:interface=127.0.0.1
 * deno run -A jsr:@torsion/torsion/cli chat --listen tcp:8023 --listen unix:/tmp/chat.sock
 * deno run -A jsr:@torsion/torsion/cli portforward --listen tcp:8080 --dest tcp:example.com:80
 * deno run -A jsr:@torsion/torsion/cli get https://example.com/
 * deno run -A jsr:@torsion/torsion/cli get -o big.iso https://example.com/big.iso
 * deno run -A jsr:@torsion/torsion/cli --help
 * ```
 *
 * Plugins: `echo`, `discard`, `chargen`, `daytime`, `qotd`, `chat`,
 * `portforward`, `get`, and `start`. Each prints `NAME listening on ADDRESS`
 * once bound, so `--listen tcp:0` is usable from scripts. The runner and
 * every plugin take `-h`/`--help` (usage) and `--version`. Exit codes: 0
 * after a graceful shutdown, 1 when a service fails (a port in use, a page
 * that cannot be fetched), 2 for bad command-line input (an unknown option,
 * a URL that is not `http:` or `https:`).
 *
 * Divergences from `twist`: options follow the plugin name only (`twist`
 * takes its own before it); `--log-level` is the one runner option, and logs
 * always go to standard error.
 *
 * @example Running the runner from code
 * ```ts ignore
 * import { main } from "@torsion/torsion/cli";
 *
 * Deno.exit(await main(["echo", "--listen", "tcp:0:interface=127.0.0.1"]));
 * ```
 *
 * @module
 */
import type { Deferred } from "./defer/deferred.ts";
import { type DenoReactor, reactor as defaultReactor } from "./reactor/deno_reactor.ts";
import { clientFromString, serverFromString } from "./reactor/endpoints.ts";
import type { Address, FactoryLike, ListeningPort } from "./reactor/interfaces.ts";
import { Logger, type LogLevel, setLogLevel } from "./reactor/log.ts";
import { ChatFactory } from "./protocols/chat.ts";
import { Factory } from "./protocols/factory.ts";
import { download } from "./application/runner/_download.ts";
import { ProxyFactory } from "./protocols/portforward.ts";
import { Chargen, Daytime, Discard, Echo, QOTD } from "./protocols/wire.ts";
import config from "./deno.json" with { type: "json" };

/** What `--version` prints. */
const VERSION = `torsion ${config.version}`;

/** Where the runner writes: its own output and its errors. */
export interface RunnerIO {
  /** Normal output: listening addresses, fetched pages. */
  stdout(text: string | Uint8Array): void;
  /** Errors and usage. */
  stderr(text: string): void;
  /**
   * Draws progress in place (text with `\r`, no newline) on a terminal;
   * leave it out where there is none, and `get` draws no progress bar.
   */
  progress?(text: string): void;
}

/** Options for {@linkcode main}. */
export interface MainOptions {
  /** The reactor to run (default: the process-wide one). */
  reactor?: DenoReactor;
  /** Where output goes (default: the process's standard output and error). */
  io?: RunnerIO;
}

/** Bad command-line input: reported with a usage hint, exit code 2. */
export class UsageError extends Error {
  /** The plugin whose usage applies, if any. */
  readonly plugin: string | undefined;

  /**
   * Makes the error.
   *
   * @param message What was wrong.
   * @param plugin The plugin whose usage applies.
   */
  constructor(message: string, plugin?: string) {
    super(message);
    this.name = "UsageError";
    this.plugin = plugin;
  }
}

interface OptionSpec {
  /** Takes a value (`--dest X`) rather than being a flag. */
  value: boolean;
  /** May be given more than once. */
  repeat?: boolean;
  /** A one-letter alias, as `o` for `-o`. */
  short?: string;
  /** The value's name in usage. */
  meta?: string;
  help: string;
}

type Parsed = { options: Map<string, string[]>; positional: string[] };

interface Service {
  /** The factory to listen with. */
  factory: FactoryLike;
  /** Runs before the ports close at shutdown. */
  beforeShutdown?: () => unknown;
}

interface Plugin {
  summary: string;
  /** Positional arguments, for usage. */
  args?: string;
  options: Record<string, OptionSpec>;
  /** Endpoints used without `--listen`. */
  defaultListen?: string[];
  /** Builds the service to listen with. */
  service?(parsed: Parsed, reactor: DenoReactor): Service;
  /** Or runs to completion by itself, returning the exit code. */
  run?(parsed: Parsed, reactor: DenoReactor, io: RunnerIO): Promise<number>;
}

const LISTEN: OptionSpec = {
  value: true,
  repeat: true,
  meta: "ENDPOINT",
  help: "where to listen, e.g. tcp:8023:interface=127.0.0.1 or unix:/tmp/s.sock (repeatable)",
};

function simple(summary: string, port: number, factory: () => FactoryLike): Plugin {
  return {
    summary,
    options: { listen: LISTEN },
    defaultListen: [`tcp:${port}:interface=127.0.0.1`],
    service: () => ({ factory: factory() }),
  };
}

class QuoteOfTheDay extends QOTD {
  quote = "An apple a day keeps the doctor away.";
  override getQuote(): string {
    return `${this.quote}\r\n`;
  }
}

const PLUGINS: Record<string, Plugin> = {
  echo: simple("Echo everything received back (RFC 862)", 8007, () => Factory.forProtocol(Echo)),
  discard: simple("Read and drop everything (RFC 863)", 8009, () => Factory.forProtocol(Discard)),
  chargen: simple(
    "Send characters until the client closes (RFC 864)",
    8019,
    () => Factory.forProtocol(Chargen),
  ),
  daytime: simple("Send the date and time, then close (RFC 867)", 8013, () => {
    return Factory.forProtocol(Daytime);
  }),
  qotd: {
    summary: "Send a quote, then close (RFC 865)",
    options: {
      listen: LISTEN,
      quote: { value: true, meta: "TEXT", help: "the quote to send" },
    },
    defaultListen: ["tcp:8017:interface=127.0.0.1"],
    service(parsed) {
      const quote = last(parsed, "quote");
      const factory = Factory.forProtocol(QuoteOfTheDay);
      if (quote !== undefined) {
        const build = factory.buildProtocol.bind(factory);
        factory.buildProtocol = (addr: Address) => {
          const protocol = build(addr);
          if (protocol !== null) protocol.quote = quote;
          return protocol;
        };
      }
      return { factory };
    },
  },
  chat: {
    summary: "A multi-user line chat with /nick, /who and /quit",
    options: {
      listen: LISTEN,
      name: { value: true, meta: "NAME", help: "the room's name, shown on joining" },
    },
    defaultListen: ["tcp:8023:interface=127.0.0.1"],
    service(parsed) {
      const room = new ChatFactory(last(parsed, "name"));
      return { factory: room, beforeShutdown: () => room.sayGoodbye() };
    },
  },
  portforward: {
    summary: "Forward every connection to another address",
    options: {
      listen: LISTEN,
      dest: {
        value: true,
        meta: "ENDPOINT",
        help: "where to forward to: tcp:HOST:PORT (required)",
      },
    },
    defaultListen: ["tcp:8080:interface=127.0.0.1"],
    service(parsed, reactor) {
      const dest = last(parsed, "dest");
      if (dest === undefined) throw new UsageError("--dest is required", "portforward");
      const { host, port } = tcpDestination(dest, reactor);
      return { factory: new ProxyFactory(host, port, { reactor }) };
    },
  },
  get: {
    summary: "Fetch a URL and print its body, or save it with -o",
    args: "URL",
    options: {
      output: {
        value: true,
        short: "o",
        meta: "FILE",
        help: "write the body to FILE, as it arrives (removed if the download fails)",
      },
      timeout: {
        value: true,
        meta: "SECONDS",
        help: "give up when the response, or the next piece of its body, takes this long " +
          "(default 30; 0 for never)",
      },
    },
    async run(parsed, reactor, io) {
      if (parsed.positional.length !== 1) {
        throw new UsageError(
          parsed.positional.length === 0 ? "A URL is required" : "Only one URL is allowed",
          "get",
        );
      }
      const url = parsed.positional[0];
      let scheme: string;
      try {
        scheme = new URL(url).protocol;
      } catch {
        throw new UsageError(`Not a URL: ${url}`, "get");
      }
      if (scheme !== "http:" && scheme !== "https:") {
        throw new UsageError(`Unsupported scheme ${scheme} in ${url}: use http: or https:`, "get");
      }
      const timeout = seconds(last(parsed, "timeout") ?? "30", "--timeout", "get");
      try {
        // The body streams out as it arrives; a bar on a terminal when it is large.
        await download(url, {
          reactor,
          timeout,
          output: last(parsed, "output"),
          stdout: (bytes) => io.stdout(bytes),
          progress: io.progress === undefined ? undefined : (text) => io.progress!(text),
          width: terminalWidth(),
        });
        return 0;
      } catch (error) {
        // An HTTPError's message already says "HTTP 404 Not Found".
        io.stderr(`get: ${url}: ${error instanceof Error ? error.message : String(error)}`);
        return 1;
      }
    },
  },
  start: {
    summary: "The demo: chat and echo on localhost",
    options: {
      chat: { value: true, meta: "ENDPOINT", help: "where chat listens (default tcp:8023)" },
      echo: { value: true, meta: "ENDPOINT", help: "where echo listens (default tcp:8007)" },
    },
  },
};

function last(parsed: Parsed, name: string): string | undefined {
  return parsed.options.get(name)?.at(-1);
}

function seconds(text: string, option: string, plugin: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${option} must be a number of seconds, not ${text}`, plugin);
  }
  return value;
}

/** The host and port of a `tcp:` client description, checked by the endpoint parser. */
function tcpDestination(description: string, reactor: DenoReactor): { host: string; port: number } {
  let endpoint: unknown;
  try {
    endpoint = clientFromString(reactor, description);
  } catch (error) {
    throw new UsageError(`Bad --dest: ${(error as Error).message}`, "portforward");
  }
  const { host, port } = endpoint as { host?: unknown; port?: unknown };
  if (!description.startsWith("tcp:") || typeof host !== "string" || typeof port !== "number") {
    throw new UsageError(`--dest must be a tcp: endpoint, not ${description}`, "portforward");
  }
  return { host, port };
}

function parse(plugin: string, spec: Plugin, args: string[]): Parsed {
  const options = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      options.set("help", [""]);
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const short = /^-[a-zA-Z]$/.test(arg)
      ? Object.keys(spec.options).find((name) => spec.options[name].short === arg[1])
      : undefined;
    if (short !== undefined) {
      if (i + 1 >= args.length) throw new UsageError(`${arg} needs a value`, plugin);
      if (options.has(short)) throw new UsageError(`${arg} may be given only once`, plugin);
      options.set(short, [args[++i]]);
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError(`Unknown option ${arg}`, plugin);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const option = name === "help" || name === "version"
      ? { value: false, help: "" }
      : spec.options[name];
    if (option === undefined) throw new UsageError(`Unknown option --${name}`, plugin);
    let value: string;
    if (option.value) {
      if (eq !== -1) value = arg.slice(eq + 1);
      else if (i + 1 < args.length) value = args[++i];
      else throw new UsageError(`--${name} needs a value`, plugin);
    } else {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`, plugin);
      value = "";
    }
    const values = options.get(name) ?? [];
    if (values.length > 0 && option.value && !option.repeat) {
      throw new UsageError(`--${name} may be given only once`, plugin);
    }
    values.push(value);
    options.set(name, values);
  }
  if (!spec.args && positional.length > 0) {
    throw new UsageError(`Unexpected argument ${positional[0]}`, plugin);
  }
  return { options, positional };
}

/**
 * The usage text: of one plugin, or of the runner with every plugin.
 *
 * @param plugin A plugin's name, or `undefined` for the runner.
 * @returns The text.
 */
export function usage(plugin?: string): string {
  if (plugin === undefined || !Object.hasOwn(PLUGINS, plugin)) {
    const width = Math.max(...Object.keys(PLUGINS).map((name) => name.length));
    return [
      "Usage: cli.ts [--log-level LEVEL] PLUGIN [OPTIONS]",
      "       cli.ts PLUGIN --help",
      "",
      "Runs a torsion service until Ctrl-C. Plugins:",
      ...Object.entries(PLUGINS).map(([name, p]) => `  ${name.padEnd(width)}  ${p.summary}`),
      "",
      "Options:",
      "  --log-level LEVEL  debug, info (default), warn or error",
      "  -h, --help         this text",
      "  --version          the version of torsion",
    ].join("\n");
  }
  const spec = PLUGINS[plugin];
  const lines = [
    `Usage: cli.ts ${plugin} [OPTIONS]${spec.args ? ` ${spec.args}` : ""}`,
    "",
    spec.summary,
  ];
  if (spec.defaultListen) lines.push(`Listens on ${spec.defaultListen.join(", ")} by default.`);
  lines.push("", "Options:");
  const entries = Object.entries(spec.options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.meta ?? "VALUE"}` : ""}`,
    o.help,
  ]);
  entries.push(["-h, --help", "this text"], ["--version", "the version of torsion"]);
  const width = Math.max(...entries.map(([left]) => left.length));
  for (const [left, help] of entries) lines.push(`  ${left.padEnd(width)}  ${help}`);
  return lines.join("\n");
}

function describe(address: Address): string {
  return address.type === "UNIX" ? `unix ${address.path}` : `tcp ${address.host}:${address.port}`;
}

/** Listens on every description, or fails having closed what was opened. */
async function listenAll(
  name: string,
  descriptions: string[],
  factory: FactoryLike,
  reactor: DenoReactor,
): Promise<ListeningPort[]> {
  const endpoints = descriptions.map((description) => {
    try {
      return serverFromString(reactor, description);
    } catch (error) {
      throw new UsageError(`Bad --listen ${description}: ${(error as Error).message}`, name);
    }
  });
  const ports: ListeningPort[] = [];
  try {
    for (const endpoint of endpoints) ports.push(await endpoint.listen(factory));
  } catch (error) {
    for (const port of ports) await port.stopListening();
    throw error;
  }
  return ports;
}

/** The lines saying where a service listens, printed once the reactor runs. */
function announce(name: string, ports: ListeningPort[]): string {
  return ports.map((port) => `${name} listening on ${describe(port.getHost())}\n`).join("");
}

const defaultIO: RunnerIO = {
  stdout(text) {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
  },
  stderr(text) {
    console.error(text);
  },
  progress: Deno.stderr.isTerminal()
    ? (text) => {
      const bytes = new TextEncoder().encode(text);
      for (let done = 0; done < bytes.length;) done += Deno.stderr.writeSync(bytes.subarray(done));
    }
    : undefined,
};

function terminalWidth(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}

/**
 * Runs the runner: parses `args`, starts the plugin's service on its
 * endpoints and runs the reactor until it is stopped (Ctrl-C, SIGTERM, or
 * `reactor.stop()`), or runs a one-shot plugin such as `get`.
 *
 * @param args The command line after the program, such as
 *   `["chat", "--listen", "tcp:8023"]`.
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
  const io = options.io ?? defaultIO;
  let plugin: string | undefined;
  try {
    let rest = args;
    while (rest.length > 0 && rest[0].startsWith("-")) {
      const [first, ...more] = rest;
      if (first === "--help" || first === "-h") {
        io.stdout(`${usage()}\n`);
        return 0;
      }
      if (first === "--version") {
        io.stdout(`${VERSION}\n`);
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
    plugin = rest[0];
    if (!Object.hasOwn(PLUGINS, plugin)) {
      const name = plugin;
      plugin = undefined;
      throw new UsageError(`Unknown plugin ${name}`);
    }
    const spec = PLUGINS[plugin];
    const parsed = parse(plugin, spec, rest.slice(1));
    if (parsed.options.has("help")) {
      io.stdout(`${usage(plugin)}\n`);
      return 0;
    }
    if (parsed.options.has("version")) {
      io.stdout(`${VERSION}\n`);
      return 0;
    }
    if (spec.run !== undefined) return await spec.run(parsed, reactor, io);
    if (plugin === "start") return await start(parsed, reactor, io);
    const service = spec.service!(parsed, reactor);
    const listen = parsed.options.get("listen") ?? spec.defaultListen ?? [];
    const ports = await listenAll(plugin, listen, service.factory, reactor);
    return await serve(reactor, [service], io, announce(plugin, ports));
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = error.plugin ?? plugin;
      io.stderr(`Error: ${error.message}`);
      io.stderr(`Run 'cli.ts ${hint === undefined ? "" : `${hint} `}--help' for usage.`);
      return 2;
    }
    io.stderr(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/**
 * Runs the reactor until stopped, with each service's shutdown hook. The
 * greeting is printed once the reactor runs, so that when a script sees it,
 * Ctrl-C and SIGTERM already shut down gracefully.
 */
async function serve(
  reactor: DenoReactor,
  services: Service[],
  io: RunnerIO,
  greeting: string,
): Promise<number> {
  const log = new Logger("runner");
  for (const service of services) {
    if (service.beforeShutdown !== undefined) {
      reactor.addSystemEventTrigger("before", "shutdown", service.beforeShutdown);
    }
  }
  reactor.addSystemEventTrigger("before", "shutdown", () => log.info("shutting down"));
  const stopped: Deferred<void> = reactor.run();
  reactor.callWhenRunning(() => {
    io.stdout(greeting);
    log.info("running; press Ctrl-C to stop");
  });
  await stopped;
  log.info("stopped");
  return 0;
}

async function start(parsed: Parsed, reactor: DenoReactor, io: RunnerIO): Promise<number> {
  const room = new ChatFactory();
  const chat = last(parsed, "chat") ?? "tcp:8023:interface=127.0.0.1";
  const echo = last(parsed, "echo") ?? "tcp:8007:interface=127.0.0.1";
  const [chatPort] = await listenAll("chat", [chat], room, reactor);
  let echoPort: ListeningPort;
  try {
    [echoPort] = await listenAll("echo", [echo], Factory.forProtocol(Echo), reactor);
  } catch (error) {
    await chatPort.stopListening();
    throw error;
  }
  const hint = (port: ListeningPort): string => {
    const address = port.getHost();
    return address.type === "UNIX" ? `nc -U ${address.path}` : `nc localhost ${address.port}`;
  };
  const greeting = announce("chat", [chatPort]) + announce("echo", [echoPort]) +
    [
      "",
      "torsion is serving:",
      `  chat: ${hint(chatPort)}   (then type /help)`,
      `  echo: ${hint(echoPort)}`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n");
  return await serve(
    reactor,
    [{ factory: room, beforeShutdown: () => room.sayGoodbye() }],
    io,
    greeting,
  );
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
