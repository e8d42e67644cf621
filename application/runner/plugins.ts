// The runner's built-in plugins, each a ServiceMaker like any module's:
// the RFC wire services, chat, portforward, get and the start demo.
import { Deferred } from "../../defer/deferred.ts";
import type { DenoReactor } from "../../reactor/deno_reactor.ts";
import { clientFromString, serverFromString } from "../../reactor/endpoints.ts";
import type { Address, FactoryLike } from "../../reactor/interfaces.ts";
import { ChatFactory } from "../../protocols/chat.ts";
import { Factory } from "../../protocols/factory.ts";
import { ProxyFactory } from "../../protocols/portforward.ts";
import { Chargen, Daytime, Discard, Echo, QOTD } from "../../protocols/wire.ts";
import { MultiService } from "../multi_service.ts";
import { Service } from "../service.ts";
import type { ListeningAnnouncement, ServiceMaker, ServiceOptions } from "../service_maker.ts";
import { StreamServerEndpointService } from "../stream_server_endpoint_service.ts";
import { download } from "./_download.ts";
import { _terminalWidth, type RunnerIO } from "./io.ts";
import { _seconds } from "./options.ts";
import { _StartFailed } from "./serve.ts";
import { UsageError } from "./usage_error.ts";

/**
 * A service named `name` listening with `factory` on every endpoint in
 * `listen`, one child each.
 *
 * @throws {UsageError} For no endpoint or a bad description.
 */
export function _serveOn(
  name: string,
  listen: readonly string[],
  factory: FactoryLike,
  reactor: DenoReactor,
  into: MultiService = new MultiService(),
): MultiService {
  if (listen.length === 0) throw new UsageError("--listen is required", name);
  into.name ??= name;
  for (const description of listen) {
    let endpoint;
    try {
      endpoint = serverFromString(reactor, description);
    } catch (error) {
      throw new UsageError(`Bad --listen ${description}: ${(error as Error).message}`, name);
    }
    new StreamServerEndpointService(endpoint, factory).setServiceParent(into);
  }
  return into;
}

function simple(name: string, description: string, port: number, factory: () => FactoryLike) {
  return {
    description,
    defaultListen: [`tcp:${port}:interface=127.0.0.1`],
    makeService: (options: ServiceOptions, reactor: DenoReactor) =>
      _serveOn(name, options.listen, factory(), reactor, new MultiService()),
  } satisfies ServiceMaker;
}

class QuoteOfTheDay extends QOTD {
  quote = "An apple a day keeps the doctor away.";
  override getQuote(): string {
    return `${this.quote}\r\n`;
  }
}

// The chat room says goodbye before its ports close.
class ChatService extends MultiService {
  constructor(readonly room: ChatFactory) {
    super();
  }
  override stopService(): Deferred<void> {
    const goodbye = this.room.sayGoodbye();
    const stopped = super.stopService();
    return goodbye.addCallback(() => stopped);
  }
}

// Fetches one page, streams its body to standard output or to a file (a
// progress bar on a terminal) and stops the reactor; a failure to fetch is a
// failure to start (exit code 1), reported as `get: URL: why`.
class GetPage extends Service {
  // Ctrl-C stops the download at once, instead of waiting out the grace
  // period that lets a server's connections finish.
  readonly #stop = new AbortController();

  constructor(
    readonly url: string,
    readonly timeout: number,
    readonly output: string | undefined,
    readonly reactor: DenoReactor,
    readonly io: RunnerIO,
  ) {
    super("get");
  }
  override startService(): Deferred<void> {
    super.startService();
    const done = new Deferred<void>();
    const { io } = this;
    download(this.url, {
      reactor: this.reactor,
      timeout: this.timeout,
      output: this.output,
      stdout: (bytes) => io.stdout(bytes),
      progress: io.progress === undefined ? undefined : (text) => io.progress!(text),
      width: _terminalWidth(),
      signal: this.#stop.signal,
    }).then(
      () => {
        done.callback(undefined);
        this.reactor.stop();
      },
      (error: unknown) => {
        // An HTTPError's message already says "HTTP 404 Not Found".
        const why = error instanceof Error ? error.message : String(error);
        done.errback(new _StartFailed(`get: ${this.url}: ${why}`));
      },
    );
    return done;
  }

  override stopService(): void {
    this.#stop.abort();
    super.stopService();
  }
}

function hint(address: Address): string {
  return address.type === "UNIX" ? `nc -U ${address.path}` : `nc localhost ${address.port}`;
}

/** The built-in plugins, writing through `io`. */
export function _plugins(io: RunnerIO): Record<string, ServiceMaker> {
  return {
    echo: simple(
      "echo",
      "Echo everything received back (RFC 862)",
      8007,
      () => Factory.forProtocol(Echo),
    ),
    discard: simple(
      "discard",
      "Read and drop everything (RFC 863)",
      8009,
      () => Factory.forProtocol(Discard),
    ),
    chargen: simple(
      "chargen",
      "Send characters until the client closes (RFC 864)",
      8019,
      () => Factory.forProtocol(Chargen),
    ),
    daytime: simple(
      "daytime",
      "Send the date and time, then close (RFC 867)",
      8013,
      () => Factory.forProtocol(Daytime),
    ),
    qotd: {
      description: "Send a quote, then close (RFC 865)",
      options: { quote: { type: "string", valueName: "TEXT", description: "the quote to send" } },
      defaultListen: ["tcp:8017:interface=127.0.0.1"],
      makeService(options, reactor) {
        const quote = options.quote as string | undefined;
        const factory = Factory.forProtocol(QuoteOfTheDay);
        if (quote !== undefined) {
          const build = factory.buildProtocol.bind(factory);
          factory.buildProtocol = (addr: Address) => {
            const protocol = build(addr);
            if (protocol !== null) protocol.quote = quote;
            return protocol;
          };
        }
        return _serveOn("qotd", options.listen, factory, reactor, new MultiService());
      },
    },
    chat: {
      description: "A multi-user line chat with /nick, /who and /quit",
      options: {
        name: {
          type: "string",
          valueName: "NAME",
          description: "the room's name, shown on joining",
        },
      },
      defaultListen: ["tcp:8023:interface=127.0.0.1"],
      makeService(options, reactor) {
        const room = new ChatFactory(options.name as string | undefined);
        return _serveOn("chat", options.listen, room, reactor, new ChatService(room));
      },
    },
    portforward: {
      description: "Forward every connection to another address",
      options: {
        dest: {
          type: "string",
          valueName: "ENDPOINT",
          description: "where to forward to: tcp:HOST:PORT (required)",
        },
      },
      defaultListen: ["tcp:8080:interface=127.0.0.1"],
      makeService(options, reactor) {
        const dest = options.dest as string | undefined;
        if (dest === undefined) throw new UsageError("--dest is required", "portforward");
        const { host, port } = tcpDestination(dest, reactor);
        const factory = new ProxyFactory(host, port, { reactor });
        return _serveOn("portforward", options.listen, factory, reactor, new MultiService());
      },
    },
    get: {
      description:
        "Fetch a URL and print its body (decoded: gzip, deflate, br), or save it with -o",
      positionals: "URL",
      acceptsListen: false,
      acceptsWorkers: false,
      options: {
        output: {
          type: "string",
          short: "o",
          valueName: "FILE",
          description: "write the body to FILE, as it arrives (removed if the download fails)",
        },
        timeout: {
          type: "string",
          valueName: "SECONDS",
          description:
            "give up when the response, or the next piece of its body, takes this long " +
            "(default 30; 0 for never)",
        },
      },
      makeService(options, reactor) {
        const { positionals } = options;
        if (positionals.length !== 1) {
          throw new UsageError(
            positionals.length === 0 ? "A URL is required" : "Only one URL is allowed",
            "get",
          );
        }
        const url = positionals[0];
        let scheme: string;
        try {
          scheme = new URL(url).protocol;
        } catch {
          throw new UsageError(`Not a URL: ${url}`, "get");
        }
        if (scheme !== "http:" && scheme !== "https:") {
          throw new UsageError(
            `Unsupported scheme ${scheme} in ${url}: use http: or https:`,
            "get",
          );
        }
        const timeout = _seconds(
          (options.timeout as string | undefined) ?? "30",
          "--timeout",
          "get",
        );
        const output = options.output as string | undefined;
        return new GetPage(url, timeout, output, reactor, io);
      },
    },
    start: {
      description: "The demo: chat and echo on localhost",
      acceptsListen: false,
      options: {
        chat: {
          type: "string",
          valueName: "ENDPOINT",
          default: "tcp:8023:interface=127.0.0.1",
          description: "where chat listens",
        },
        echo: {
          type: "string",
          valueName: "ENDPOINT",
          default: "tcp:8007:interface=127.0.0.1",
          description: "where echo listens",
        },
      },
      makeService(options, reactor) {
        const room = new ChatFactory();
        const root = new MultiService();
        _serveOn("chat", [options.chat as string], room, reactor, new ChatService(room))
          .setServiceParent(root);
        _serveOn(
          "echo",
          [options.echo as string],
          Factory.forProtocol(Echo),
          reactor,
          new MultiService(),
        )
          .setServiceParent(root);
        return root;
      },
      banner(ports: readonly ListeningAnnouncement[]): string {
        const chat = ports.find((port) => port.name === "chat");
        const echo = ports.find((port) => port.name === "echo");
        return [
          "",
          "torsion is serving:",
          ...(chat ? [`  chat: ${hint(chat.address)}   (then type /help)`] : []),
          ...(echo ? [`  echo: ${hint(echo.address)}`] : []),
          "Press Ctrl-C to stop.",
          "",
        ].join("\n");
      },
    },
  };
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
