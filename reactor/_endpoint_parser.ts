/**
 * The grammar of endpoint descriptions, as Twisted's `serverFromString` and
 * `clientFromString` read them: fields separated by `:`, each either
 * positional or `key=value`, with `\` escaping the next character (so
 * `\:` is a colon inside a field). The first field names the type. Also
 * the readers of fields' values: numbers, flags, and the PEM files of TLS.
 *
 * @module
 */
import { Logger } from "./log.ts";

const logger = new Logger("endpoints");

/** A description that cannot be understood: says what is wrong and where. */
export class EndpointDescriptionError extends Error {
  /** The description as given. */
  readonly description: string;

  /**
   * Makes the error.
   *
   * @param description The description.
   * @param problem What is wrong with it.
   */
  constructor(description: string, problem: string) {
    super(`${problem} in endpoint description ${JSON.stringify(description)}`);
    this.name = "EndpointDescriptionError";
    this.description = description;
  }
}

/** A description cut into its fields. */
export interface ParsedDescription {
  /** The type: `tcp`, `unix`, ... (lower case). */
  type: string;
  /** Fields without `=`, in order. */
  positional: string[];
  /** `key=value` fields. */
  keywords: Map<string, string>;
}

/**
 * Cuts a description into its type, positional fields and keywords.
 *
 * @param description Such as `tcp:8080:interface=127.0.0.1`.
 * @returns The parts, unescaped.
 * @throws {EndpointDescriptionError} For an empty type, a trailing `\`, a
 *   key given twice or an empty key.
 */
export function _parseDescription(description: string): ParsedDescription {
  if (typeof description !== "string") {
    throw new TypeError(`An endpoint description must be a string, not ${typeof description}`);
  }
  // Each field is [text before an unescaped '=', text after it] or [text].
  const fields: string[][] = [];
  let field: string[] = [""];
  for (let i = 0; i < description.length; i++) {
    const c = description[i];
    if (c === "\\") {
      if (i + 1 === description.length) {
        throw new EndpointDescriptionError(description, "A trailing backslash");
      }
      field[field.length - 1] += description[++i];
    } else if (c === ":") {
      fields.push(field);
      field = [""];
    } else if (c === "=" && field.length === 1) {
      field.push("");
    } else {
      field[field.length - 1] += c;
    }
  }
  fields.push(field);
  const [first, ...rest] = fields;
  if (first.length !== 1 || first[0] === "") {
    throw new EndpointDescriptionError(description, "No endpoint type");
  }
  const positional: string[] = [];
  const keywords = new Map<string, string>();
  for (const f of rest) {
    if (f.length === 1) {
      positional.push(f[0]);
      continue;
    }
    const [key, value] = f;
    if (key === "") throw new EndpointDescriptionError(description, "An empty key");
    if (keywords.has(key)) {
      throw new EndpointDescriptionError(description, `The key ${key} given twice`);
    }
    keywords.set(key, value);
  }
  return { type: first[0].toLowerCase(), positional, keywords };
}

/**
 * Binds positional fields and keywords to named parameters, in order, as
 * Python binds arguments: a parameter given both ways, an unknown keyword
 * or too many positional fields is an error.
 *
 * @param description The description, for errors.
 * @param parsed Its parts.
 * @param names The parameters, in positional order.
 * @returns Each given parameter's value.
 * @throws {EndpointDescriptionError} As above.
 */
export function _bind(
  description: string,
  parsed: ParsedDescription,
  names: readonly string[],
): Map<string, string> {
  const bound = new Map<string, string>();
  if (parsed.positional.length > names.length) {
    throw new EndpointDescriptionError(
      description,
      `Too many fields for ${parsed.type} (${parsed.positional.length}, at most ${names.length})`,
    );
  }
  parsed.positional.forEach((value, i) => bound.set(names[i], value));
  for (const [key, value] of parsed.keywords) {
    if (!names.includes(key)) {
      throw new EndpointDescriptionError(
        description,
        `Unknown key ${key} for ${parsed.type} (known: ${names.join(", ")})`,
      );
    }
    if (bound.has(key)) {
      throw new EndpointDescriptionError(description, `${key} given twice`);
    }
    bound.set(key, value);
  }
  return bound;
}

/**
 * A port number field.
 *
 * @param description For errors.
 * @param value The field.
 * @param what Its name.
 * @returns The port.
 * @throws {EndpointDescriptionError} Unless an integer from 0 to 65535.
 */
export function _port(description: string, value: string | undefined, what = "port"): number {
  if (value === undefined) throw new EndpointDescriptionError(description, `No ${what}`);
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new EndpointDescriptionError(
      description,
      `The ${what} must be an integer from 0 to 65535, not ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

/**
 * A non-negative integer field.
 *
 * @param description For errors.
 * @param value The field.
 * @param what Its name.
 * @param radix 10, or 8 for a file mode.
 * @returns The number.
 * @throws {EndpointDescriptionError} Unless digits of the radix.
 */
export function _integer(description: string, value: string, what: string, radix = 10): number {
  const digits = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!digits.test(value)) {
    throw new EndpointDescriptionError(
      description,
      `${what} must be ${radix === 8 ? "an octal" : "a whole"} number, not ${
        JSON.stringify(value)
      }`,
    );
  }
  return parseInt(value, radix);
}

/**
 * A number of seconds.
 *
 * @param description For errors.
 * @param value The field.
 * @param what Its name.
 * @returns The seconds.
 * @throws {EndpointDescriptionError} Unless a positive number.
 */
export function _seconds(description: string, value: string, what: string): number {
  const n = Number(value);
  if (value.trim() === "" || !(n > 0) || !Number.isFinite(n)) {
    throw new EndpointDescriptionError(
      description,
      `${what} must be a positive number of seconds, not ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * A yes/no field: `1`/`0`, `true`/`false`, `yes`/`no`.
 *
 * @param description For errors.
 * @param value The field.
 * @param what Its name.
 * @returns The flag.
 * @throws {EndpointDescriptionError} For anything else.
 */
export function _flag(description: string, value: string, what: string): boolean {
  const v = value.toLowerCase();
  if (v === "1" || v === "true" || v === "yes") return true;
  if (v === "0" || v === "false" || v === "no") return false;
  throw new EndpointDescriptionError(
    description,
    `${what} must be 1 or 0, not ${JSON.stringify(value)}`,
  );
}

/**
 * The text of a file a description names.
 *
 * @param description For errors.
 * @param path The file.
 * @returns Its text.
 * @throws {EndpointDescriptionError} If it cannot be read.
 */
export function _readText(description: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new EndpointDescriptionError(
      description,
      `Cannot read ${path}: ${(error as Error).message}`,
    );
  }
}

/**
 * PEM certificates from a file, or from each `.pem`/`.crt` file of a
 * directory (in name order).
 *
 * @param description For errors.
 * @param path The file or directory.
 * @param what The key's name, for errors.
 * @param directoryOnly Refuse a plain file (Twisted's `caCertsDir` and
 *   `trustRoots` name directories).
 * @returns Each file's text.
 * @throws {EndpointDescriptionError} If it cannot be read, or is a file
 *   where a directory is wanted.
 */
export function _readPEMs(
  description: string,
  path: string,
  what: string,
  directoryOnly = false,
): string[] {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    throw new EndpointDescriptionError(
      description,
      `Cannot read ${path}: ${(error as Error).message}`,
    );
  }
  if (directoryOnly && !info.isDirectory) {
    throw new EndpointDescriptionError(
      description,
      `${what} must be a directory of PEM files, and ${path} is not a directory`,
    );
  }
  const files = info.isDirectory
    ? [...Deno.readDirSync(path)]
      .filter((entry) => entry.isFile && /\.(pem|crt)$/i.test(entry.name))
      .map((entry) => `${path}/${entry.name}`)
      .sort()
    : [path];
  return files.map((file) => _readText(description, file));
}

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?\r?\n-----END CERTIFICATE-----/g;

/**
 * A client certificate from its files, as Twisted reads `certKey=` and
 * `privateKey=` (`ssl:`) or `certificate=` and `privateKey=` (`tls:`): the
 * certificate file alone may hold the key too.
 *
 * @param description For errors.
 * @param certPath The certificate's file, if given.
 * @param keyPath The key's file, if given.
 * @param certName The certificate key's name in the description.
 * @returns PEM `cert` and `key`, or `undefined` when neither is given.
 * @throws {EndpointDescriptionError} For a key without a certificate (which
 *   Twisted silently ignores), a certificate file with no key and no key
 *   file, or an unreadable file.
 */
export function _clientCertificate(
  description: string,
  certPath: string | undefined,
  keyPath: string | undefined,
  certName: string,
): { cert: string; key: string } | undefined {
  if (certPath === undefined) {
    if (keyPath === undefined) return undefined;
    throw new EndpointDescriptionError(
      description,
      `privateKey needs ${certName}, the client certificate it goes with`,
    );
  }
  const cert = _readText(description, certPath);
  if (keyPath !== undefined) return { cert, key: _readText(description, keyPath) };
  if (!PRIVATE_KEY.test(cert)) {
    throw new EndpointDescriptionError(
      description,
      `${certPath} holds no private key: give privateKey= too`,
    );
  }
  return { cert, key: cert };
}

/**
 * The certificates of an `extraCertChain=` file, to send after the
 * server's own.
 *
 * @param description For errors.
 * @param path The file.
 * @returns Its certificates, PEM, one per line break.
 * @throws {EndpointDescriptionError} If it cannot be read or holds no
 *   certificate.
 */
export function _certChain(description: string, path: string): string {
  const found = _readText(description, path).match(CERTIFICATE);
  if (found === null) {
    throw new EndpointDescriptionError(
      description,
      `extraCertChain ${path} holds no PEM certificate`,
    );
  }
  return found.join("\n");
}

// OpenSSL's method names as Twisted takes them: those that allow TLS 1.2 or
// later can be served by Deno's TLS (1.2 and 1.3); the others cannot.
const ANY_MODERN_TLS = new Set([
  "SSLv23_METHOD",
  "TLS_METHOD",
  "TLS_SERVER_METHOD",
  "TLSv1_2_METHOD",
]);
const OBSOLETE_TLS = new Set(["SSLv2_METHOD", "SSLv3_METHOD", "TLSv1_METHOD", "TLSv1_1_METHOD"]);

/**
 * Checks `sslmethod=`. Deno's TLS always negotiates TLS 1.2 or 1.3 and
 * cannot be pinned to a version, so a method that allows those is ignored
 * with a logged warning (the handshake is at least as strong as asked), and
 * one that asks for SSL 2 or 3 or TLS 1.0 or 1.1 only is refused.
 *
 * @param description For errors.
 * @param value The method's name, such as `SSLv23_METHOD`.
 * @throws {EndpointDescriptionError} For an obsolete or unknown method.
 */
export function _sslMethod(description: string, value: string): void {
  if (ANY_MODERN_TLS.has(value)) {
    logger.warn(
      `sslmethod=${value} is ignored: Deno's TLS always negotiates TLS 1.2 or 1.3 ` +
        `(in ${JSON.stringify(description)})`,
    );
    return;
  }
  if (OBSOLETE_TLS.has(value)) {
    throw new EndpointDescriptionError(
      description,
      `sslmethod=${value} cannot be served: Deno's TLS speaks only TLS 1.2 and 1.3`,
    );
  }
  throw new EndpointDescriptionError(
    description,
    `Unknown sslmethod ${value} (known: ${[...ANY_MODERN_TLS, ...OBSOLETE_TLS].join(", ")})`,
  );
}

/**
 * Checks `dhParameters=`: the file must be readable, as in Twisted, but its
 * parameters are ignored with a logged warning. Deno's TLS has no
 * finite-field Diffie-Hellman suites; it always uses elliptic-curve ones,
 * which give the forward secrecy the parameters are for.
 *
 * @param description For errors.
 * @param path The file.
 * @throws {EndpointDescriptionError} If it cannot be read.
 */
export function _dhParameters(description: string, path: string): void {
  _readText(description, path);
  logger.warn(
    `dhParameters=${path} is ignored: Deno's TLS has no finite-field DHE cipher suites; ` +
      `its ECDHE suites give forward secrecy (in ${JSON.stringify(description)})`,
  );
}

/**
 * The text after a description's type, exactly as written (escapes kept):
 * `tcp:8080:interface=127.0.0.1` for `haproxy:tcp:8080:interface=127.0.0.1`,
 * so that a wrapping type can hand it on whole.
 *
 * @param description The description.
 * @returns Everything after the first unescaped `:`, or `""` if none.
 */
export function _afterType(description: string): string {
  for (let i = 0; i < description.length; i++) {
    if (description[i] === "\\") i++;
    else if (description[i] === ":") return description.slice(i + 1);
  }
  return "";
}
