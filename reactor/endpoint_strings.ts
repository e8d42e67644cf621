/**
 * {@linkcode serverFromString} and {@linkcode clientFromString}: endpoints
 * from descriptions such as `tcp:8080:interface=127.0.0.1`, with Twisted's
 * types and keys. The grammar and the readers of values are in
 * `_endpoint_parser.ts`.
 *
 * @module
 */
import {
  _afterType,
  _bind,
  _certChain,
  _clientCertificate,
  _dhParameters,
  _flag,
  _integer,
  _parseDescription,
  _port,
  _readPEMs,
  _readText,
  _seconds,
  _sslMethod,
  EndpointDescriptionError,
  type ParsedDescription,
} from "./_endpoint_parser.ts";
import { isReactorTime } from "./_endpoint_support.ts";
import { HAProxyServerEndpoint } from "./haproxy_endpoint.ts";
import { SSL4ClientEndpoint, SSL4ServerEndpoint } from "./ssl_endpoints.ts";
import type {
  EndpointReactor,
  StreamClientEndpoint,
  StreamServerEndpoint,
  TCPClientEndpointOptions,
  TCPServerEndpointOptions,
} from "./stream_endpoint.ts";
import {
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
} from "./tcp_endpoints.ts";
import type { TLSClientOptions } from "./tls.ts";
import {
  UNIXClientEndpoint,
  type UNIXClientEndpointOptions,
  UNIXServerEndpoint,
  type UNIXServerEndpointOptions,
} from "./unix_endpoints.ts";

function tcpServerOptions(
  description: string,
  bound: Map<string, string>,
): TCPServerEndpointOptions {
  const options: TCPServerEndpointOptions = {};
  if (bound.has("interface")) options.interface = bound.get("interface");
  if (bound.has("backlog")) {
    options.backlog = _integer(description, bound.get("backlog")!, "backlog");
  }
  return options;
}

/**
 * Makes a server endpoint from a description, as Twisted's
 * `serverFromString` does:
 *
 * - `tcp:PORT[:interface=ADDRESS][:backlog=N]` (also `port=`): IPv4, every
 *   interface by default;
 * - `tcp6:PORT[:interface=ADDRESS][:backlog=N]`: IPv6, `::` by default;
 * - `unix:PATH[:mode=OCTAL][:backlog=N][:lockfile=0|1]` (also `address=`);
 * - `ssl:PORT:privateKey=KEY.pem[:certKey=CERT.pem][:interface=][:backlog=]`
 *   `[:extraCertChain=CHAIN.pem]` (`certKey` defaults to `privateKey`, a file
 *   holding both; the chain file's certificates are sent after the
 *   server's);
 * - `haproxy:DESCRIPTION`: the server endpoint DESCRIPTION (`haproxy:tcp:8080`,
 *   `haproxy:unix:/run/app.sock`) behind a PROXY protocol balancer: an
 *   {@linkcode HAProxyServerEndpoint}, its header timeout on `reactor`'s
 *   clock when it has one.
 *
 * Keys of Twisted's that Deno's TLS cannot honour: `sslmethod=` is ignored
 * with a logged warning when it allows TLS 1.2 or later (`SSLv23_METHOD`,
 * `TLS_METHOD`, `TLSv1_2_METHOD`: Deno always negotiates TLS 1.2 or 1.3) and
 * refused for SSL 2 or 3 or TLS 1.0 or 1.1; `dhParameters=` is read, then
 * ignored with a logged warning (Deno's TLS has only elliptic-curve key
 * exchange, which gives the forward secrecy the parameters are for).
 *
 * Fields are separated by `:`; `\` escapes the next character, so
 * `unix:C\:\\sock` is the path `C:\sock`.
 *
 * @param reactor The reactor the endpoint will listen with.
 * @param description The description.
 * @returns The endpoint.
 * @throws {EndpointDescriptionError} For an unknown type, a missing or bad
 *   port, an unknown key, or an unreadable certificate file.
 *
 * @example
 * ```ts
 * import { reactor, serverFromString, TCP4ServerEndpoint } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const endpoint = serverFromString(reactor, "tcp:8080:interface=127.0.0.1");
 * assert.ok(endpoint instanceof TCP4ServerEndpoint);
 * assert.equal(endpoint.port, 8080);
 * assert.deepEqual(endpoint.options, { interface: "127.0.0.1" });
 * ```
 */
export function serverFromString(
  reactor: EndpointReactor,
  description: string,
): StreamServerEndpoint {
  const parsed = _parseDescription(description);
  switch (parsed.type) {
    case "tcp":
    case "tcp6": {
      const bound = _bind(description, parsed, ["port", "interface", "backlog"]);
      const port = _port(description, bound.get("port"));
      const options = tcpServerOptions(description, bound);
      return parsed.type === "tcp"
        ? new TCP4ServerEndpoint(reactor, port, options)
        : new TCP6ServerEndpoint(reactor, port, options);
    }
    case "unix": {
      const bound = _bind(description, parsed, ["address", "mode", "backlog", "lockfile"]);
      const path = bound.get("address");
      if (path === undefined || path === "") {
        throw new EndpointDescriptionError(description, "No socket path");
      }
      const options: UNIXServerEndpointOptions = {};
      if (bound.has("mode")) options.mode = _integer(description, bound.get("mode")!, "mode", 8);
      if (bound.has("backlog")) {
        options.backlog = _integer(description, bound.get("backlog")!, "backlog");
      }
      if (bound.has("lockfile")) {
        options.wantPID = _flag(description, bound.get("lockfile")!, "lockfile");
      }
      return new UNIXServerEndpoint(reactor, path, options);
    }
    case "ssl": {
      // Twisted's positional order.
      const bound = _bind(description, parsed, [
        "port",
        "privateKey",
        "certKey",
        "sslmethod",
        "interface",
        "backlog",
        "extraCertChain",
        "dhParameters",
      ]);
      const port = _port(description, bound.get("port"));
      const keyFile = bound.get("privateKey");
      if (keyFile === undefined) {
        throw new EndpointDescriptionError(description, "No privateKey file");
      }
      const key = _readText(description, keyFile);
      const certFile = bound.get("certKey") ?? keyFile;
      let cert = certFile === keyFile ? key : _readText(description, certFile);
      if (bound.has("extraCertChain")) {
        cert = `${cert.trimEnd()}\n${_certChain(description, bound.get("extraCertChain")!)}\n`;
      }
      if (bound.has("sslmethod")) _sslMethod(description, bound.get("sslmethod")!);
      if (bound.has("dhParameters")) _dhParameters(description, bound.get("dhParameters")!);
      return new SSL4ServerEndpoint(
        reactor,
        port,
        { cert, key },
        tcpServerOptions(description, bound),
      );
    }
    case "haproxy": {
      const wrapped = _afterType(description);
      if (wrapped === "") {
        throw new EndpointDescriptionError(description, "No endpoint to wrap after haproxy:");
      }
      if (_parseDescription(wrapped).type === "haproxy") {
        throw new EndpointDescriptionError(description, "haproxy: cannot wrap haproxy:");
      }
      return new HAProxyServerEndpoint(
        serverFromString(reactor, wrapped),
        isReactorTime(reactor) ? { clock: reactor } : {},
      );
    }
    default:
      throw new EndpointDescriptionError(
        description,
        `Unknown endpoint type ${parsed.type} (known: tcp, tcp6, unix, ssl, haproxy)`,
      );
  }
}

function clientTimeout(description: string, bound: Map<string, string>): { timeout?: number } {
  return bound.has("timeout")
    ? { timeout: _seconds(description, bound.get("timeout")!, "timeout") }
    : {};
}

// Twisted's TCP and SSL client parsers read a lone positional field as the
// port when the host is given by name: `tcp:host=example.com:80`.
function bindClient(
  description: string,
  parsed: ParsedDescription,
  names: readonly string[],
): Map<string, string> {
  const portFirst = parsed.positional.length === 1 && parsed.keywords.has("host");
  return _bind(
    description,
    parsed,
    portFirst ? ["port", ...names.filter((n) => n !== "port")] : names,
  );
}

function hostOf(description: string, bound: Map<string, string>): string {
  const host = bound.get("host");
  if (host === undefined || host === "") throw new EndpointDescriptionError(description, "No host");
  return host;
}

/**
 * Makes a client endpoint from a description, as Twisted's
 * `clientFromString` does:
 *
 * - `tcp:HOST:PORT[:timeout=SECONDS]` (also `host=`, `port=`; as in
 *   Twisted, `tcp:host=HOST:PORT` reads the lone field as the port): a
 *   {@linkcode TCP4ClientEndpoint};
 * - `tcp6:HOST:PORT[:timeout=]`;
 * - `unix:PATH[:timeout=][:lockfile=0|1]` (also `path=`, and `checkPID=`
 *   for `lockfile=`);
 * - `ssl:HOST:PORT[:timeout=][:certKey=CERT.pem][:privateKey=KEY.pem]`
 *   `[:caCertsDir=DIR][:hostname=NAME][:caCerts=FILE-OR-DIR]`: a client
 *   certificate from `certKey` (a file that may hold its key too) and
 *   `privateKey`; the `.pem`/`.crt` files of `caCertsDir` trusted;
 * - `tls:HOST:PORT[:timeout=][:certificate=CERT.pem][:privateKey=KEY.pem]`
 *   `[:trustRoots=DIR][:caCerts=]`: TLS verified for HOST, with a client
 *   certificate and trusted CAs as for `ssl:`. Twisted builds `tls:` on a
 *   `HostnameEndpoint`; here it is an {@linkcode SSL4ClientEndpoint}, and
 *   the name is resolved by Deno. Twisted's `endpoint=` is not supported.
 *
 * Divergences that Deno imposes: `bindAddress=` (tcp, ssl, tls) is accepted
 * but connecting fails with a `TypeError` saying that Deno cannot bind the
 * local end; `lockfile=1` likewise fails, as torsion's servers write no lock
 * file to check; the CAs of `caCertsDir`/`trustRoots` are trusted in
 * addition to the system's roots, not instead of them as in Twisted (Deno
 * always keeps its roots); with a client certificate, the server is
 * verified for the host connected to, so `hostname=` cannot name another.
 *
 * @param reactor The reactor the endpoint will connect with.
 * @param description The description.
 * @returns The endpoint.
 * @throws {EndpointDescriptionError} For an unknown type, a missing host or
 *   path, a bad port or timeout, an unknown key, unreadable certificate
 *   files, a `privateKey=` without its certificate, or a certificate file
 *   without a key when no `privateKey=` is given.
 *
 * @example
 * ```ts
 * import { clientFromString, reactor, TCP4ClientEndpoint } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const endpoint = clientFromString(reactor, "tcp:host=example.com:port=80:timeout=5");
 * assert.ok(endpoint instanceof TCP4ClientEndpoint);
 * assert.equal(endpoint.host, "example.com");
 * assert.equal(endpoint.port, 80);
 * assert.deepEqual(endpoint.options, { timeout: 5 });
 * ```
 */
export function clientFromString(
  reactor: EndpointReactor,
  description: string,
): StreamClientEndpoint {
  const parsed = _parseDescription(description);
  switch (parsed.type) {
    case "tcp":
    case "tcp6": {
      const bound = bindClient(description, parsed, ["host", "port", "timeout", "bindAddress"]);
      const host = hostOf(description, bound);
      const port = _port(description, bound.get("port"));
      const options: TCPClientEndpointOptions = clientTimeout(description, bound);
      if (bound.has("bindAddress")) options.bindAddress = [bound.get("bindAddress")!, 0];
      return parsed.type === "tcp"
        ? new TCP4ClientEndpoint(reactor, host, port, options)
        : new TCP6ClientEndpoint(reactor, host, port, options);
    }
    case "unix": {
      const bound = _bind(description, parsed, ["path", "timeout", "checkPID", "lockfile"]);
      const path = bound.get("path");
      if (path === undefined || path === "") {
        throw new EndpointDescriptionError(description, "No socket path");
      }
      const options: UNIXClientEndpointOptions = clientTimeout(description, bound);
      // lockfile= is Twisted's name for checkPID in descriptions.
      if (bound.has("lockfile") && bound.has("checkPID")) {
        throw new EndpointDescriptionError(description, "lockfile and checkPID are the same key");
      }
      for (const key of ["checkPID", "lockfile"]) {
        if (bound.has(key)) options.checkPID = _flag(description, bound.get(key)!, key);
      }
      return new UNIXClientEndpoint(reactor, path, options);
    }
    case "ssl":
    case "tls": {
      // Twisted's names: ssl takes certKey and caCertsDir, tls takes
      // certificate and trustRoots; caCerts (a file or a directory) is ours.
      const ssl = parsed.type === "ssl";
      const certName = ssl ? "certKey" : "certificate";
      const rootsName = ssl ? "caCertsDir" : "trustRoots";
      const names = [
        "host",
        "port",
        "timeout",
        "bindAddress",
        certName,
        "privateKey",
        rootsName,
        "hostname",
        "caCerts",
      ];
      const bound = ssl
        ? bindClient(description, parsed, names)
        : _bind(description, parsed, names);
      const host = hostOf(description, bound);
      const port = _port(description, bound.get("port"));
      const settings: TLSClientOptions = {};
      const caCerts: string[] = [];
      if (bound.has(rootsName)) {
        caCerts.push(..._readPEMs(description, bound.get(rootsName)!, rootsName, true));
      }
      if (bound.has("caCerts")) {
        caCerts.push(..._readPEMs(description, bound.get("caCerts")!, "caCerts"));
      }
      if (caCerts.length > 0) settings.caCerts = caCerts;
      if (bound.has("hostname")) settings.hostname = bound.get("hostname");
      const client = _clientCertificate(
        description,
        bound.get(certName),
        bound.get("privateKey"),
        certName,
      );
      if (client !== undefined) {
        settings.cert = client.cert;
        settings.key = client.key;
      }
      const options: TCPClientEndpointOptions = clientTimeout(description, bound);
      if (bound.has("bindAddress")) options.bindAddress = [bound.get("bindAddress")!, 0];
      return new SSL4ClientEndpoint(reactor, host, port, settings, options);
    }
    default:
      throw new EndpointDescriptionError(
        description,
        `Unknown endpoint type ${parsed.type} (known: tcp, tcp6, unix, ssl, tls)`,
      );
  }
}
