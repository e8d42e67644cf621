/**
 * {@linkcode CookieJar}: the cookies a client keeps between requests, by
 * RFC 6265's rules, and what it knows of each ({@linkcode Cookie}).
 *
 * @module
 */
import type { ReactorTime } from "../../defer/time.ts";
import { reactor as defaultReactor } from "../../reactor/deno_reactor.ts";
import { parseCookieDate } from "./_cookie_date.ts";
import type { Response } from "./response.ts";

/** A cookie as a {@linkcode CookieJar} keeps it (RFC 6265 section 5.3). */
export interface Cookie {
  /** Its name. */
  readonly name: string;
  /** Its value. */
  readonly value: string;
  /** The host it came from, or the domain it was set for (no leading dot). */
  readonly domain: string;
  /** Sent only to `domain` itself (no `Domain` attribute), not to its subdomains. */
  readonly hostOnly: boolean;
  /** Sent only to URLs under this path. */
  readonly path: string;
  /** Sent only over HTTPS. */
  readonly secure: boolean;
  /** Hidden from scripts in a browser; kept and sent here like any other. */
  readonly httpOnly: boolean;
  /** When it expires, in seconds on the jar's clock; `undefined` for a session cookie. */
  readonly expires: number | undefined;
  /** When it was first set, in seconds on the jar's clock. */
  readonly creation: number;
}

interface StoredCookie extends Cookie {
  lastAccess: number;
  /** Breaks ties between cookies made at the same instant. */
  readonly order: number;
}

/** The most cookies a jar keeps; past it, the least recently used go. */
const MAX_COOKIES = 3000;
/** The most cookies a jar keeps per domain. */
const MAX_PER_DOMAIN = 180;
/** The most bytes of name and value (RFC 6265bis). */
const MAX_NAME_VALUE = 4096;
/** The longest attribute value kept (RFC 6265bis). */
const MAX_ATTRIBUTE = 1024;
// Control characters other than tab make a cookie unusable (RFC 6265bis).
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function isIPAddress(host: string): boolean {
  return IPV4.test(host) || host.includes(":") || host.startsWith("[");
}

/** RFC 6265 section 5.1.3. */
function domainMatches(host: string, domain: string): boolean {
  return host === domain ||
    (host.endsWith(domain) && host[host.length - domain.length - 1] === "." &&
      !isIPAddress(host));
}

/** RFC 6265 section 5.1.4. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath) &&
    (cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/");
}

function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith("/")) return "/";
  const last = path.lastIndexOf("/");
  return last === 0 ? "/" : path.slice(0, last);
}

function parseURL(url: string | URL): URL {
  try {
    return new URL(String(url));
  } catch (error) {
    throw new TypeError(`Invalid URL ${JSON.stringify(String(url))}`, { cause: error });
  }
}

/** The host of a URL as cookies know it: lower case, IPv6 without brackets. */
function hostOf(url: URL): string {
  const host = url.hostname;
  return host.startsWith("[") ? host.slice(1, -1) : host;
}

/** A header value as received (one character per byte) read as UTF-8. */
function fromLatin1(value: string): string | undefined {
  if (!/[^\t\x20-\x7e]/.test(value)) return value;
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff) return value;
    bytes[i] = code;
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Keeps cookies between requests, as a browser does, by RFC 6265:
 * `Set-Cookie` headers are parsed forgivingly (section 5.2) and stored with
 * their domain, path, `Secure`, `HttpOnly` and expiry; a request gets the
 * cookies whose domain and path match its URL, the longest paths first.
 * Used by a {@linkcode CookieAgent}; Twisted's `CookieAgent` takes a
 * Python `cookielib.CookieJar`, whose place this takes.
 *
 * The rules kept: a cookie without `Domain` goes back to its host alone;
 * with `Domain`, to that domain and its subdomains, and only if the host
 * that set it is within that domain (else it is refused: no cookie for
 * another site); never across hosts for an IP address. `Secure` cookies
 * are taken and sent over `https:` only. `Max-Age` (before `Expires`) and
 * `Expires` are evaluated on the jar's clock (the reactor by default): a
 * cookie is dropped once it expires, and a `Max-Age` of 0 or less deletes
 * it. A cookie set again (same name, domain and path) replaces the old one.
 * As RFC 6265 has it, cookies are not kept apart by port or by scheme
 * (except `Secure` ones).
 *
 * Limits: there is no public-suffix list, so a `Domain` covering many sites
 * (`co.uk`) is not refused; a `Domain` of one label (`com`) is, unless it is
 * the host itself (`localhost`). A name and value over 4,096 bytes, or one
 * with control characters, is ignored; a jar keeps at most 3,000 cookies,
 * 180 per domain, dropping the least recently used.
 *
 * @example Storing and sending cookies on a test clock
 * ```ts
 * import { CookieJar } from "@torsion/torsion/protocols";
 * import { Clock } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * const jar = new CookieJar(clock);
 * jar.setCookie("session=abc; Path=/; HttpOnly", "http://example.com/login");
 * jar.setCookie("pref=dark; Max-Age=60; Domain=example.com", "http://example.com/");
 * assert.equal(jar.getCookieHeader("http://www.example.com/"), "pref=dark");
 * assert.equal(jar.getCookieHeader("http://example.com/x"), "session=abc; pref=dark");
 * clock.advance(61);
 * assert.equal(jar.getCookieHeader("http://example.com/x"), "session=abc");
 * ```
 */
export class CookieJar {
  readonly #clock: Pick<ReactorTime, "seconds">;
  #cookies: StoredCookie[] = [];
  #made = 0;

  /**
   * Makes an empty jar.
   *
   * @param clock What tells the time for expiry (default: the reactor); a
   *   `Clock` in tests.
   */
  constructor(clock: Pick<ReactorTime, "seconds"> = defaultReactor) {
    this.#clock = clock;
  }

  /** How many unexpired cookies the jar holds. */
  get size(): number {
    this.#expire(this.#clock.seconds());
    return this.#cookies.length;
  }

  /**
   * Stores the cookie of one `Set-Cookie` header value, received from `url`.
   *
   * @param header The header's value, such as `id=1; Path=/; Secure`.
   * @param url The URL of the request the response answered.
   * @returns Whether the cookie was stored (or, being expired, removed its
   *   stored namesake); `false` if it was ignored.
   * @throws {TypeError} For an invalid URL.
   */
  setCookie(header: string, url: string | URL): boolean {
    const target = parseURL(url);
    if (target.protocol !== "http:" && target.protocol !== "https:") return false;
    const now = this.#clock.seconds();
    const cut = header.indexOf(";");
    const pair = cut === -1 ? header : header.slice(0, cut);
    const equals = pair.indexOf("=");
    if (equals === -1) return false;
    const name = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    if (name === "" || CONTROL.test(name) || CONTROL.test(value)) return false;
    if (name.length + value.length > MAX_NAME_VALUE) return false;

    let maxAge: number | undefined;
    let expires: number | undefined;
    let domain: string | undefined;
    let path: string | undefined;
    let secure = false;
    let httpOnly = false;
    const attributes = cut === -1 ? [] : header.slice(cut + 1).split(";");
    for (const attribute of attributes) {
      const at = attribute.indexOf("=");
      const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
      const val = at === -1 ? "" : attribute.slice(at + 1).trim();
      if (val.length > MAX_ATTRIBUTE) continue;
      switch (key) {
        case "expires": {
          const ms = parseCookieDate(val);
          if (ms !== undefined) expires = ms / 1000;
          break;
        }
        case "max-age":
          if (/^-?\d+$/.test(val)) {
            const delta = Number(val);
            maxAge = delta <= 0 ? -Infinity : now + delta;
          }
          break;
        case "domain":
          if (val !== "") domain = (val.startsWith(".") ? val.slice(1) : val).toLowerCase();
          break;
        case "path":
          path = val.startsWith("/") ? val : undefined;
          break;
        case "secure":
          secure = true;
          break;
        case "httponly":
          httpOnly = true;
          break;
      }
    }

    const host = hostOf(target);
    let hostOnly = true;
    if (domain !== undefined && domain !== host) {
      if (!domainMatches(host, domain) || !domain.includes(".")) return false;
      hostOnly = false;
    } else if (domain === host) {
      hostOnly = false;
    }
    // A Secure cookie from a page that is not secure could shadow a real one.
    if (secure && target.protocol !== "https:") return false;

    const cookie: StoredCookie = {
      name,
      value,
      domain: domain ?? host,
      hostOnly,
      path: path ?? defaultPath(target),
      secure,
      httpOnly,
      expires: maxAge ?? expires,
      creation: now,
      lastAccess: now,
      order: this.#made++,
    };
    const old = this.#cookies.findIndex((c) =>
      c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path
    );
    if (cookie.expires !== undefined && cookie.expires <= now) {
      if (old === -1) return false;
      this.#cookies.splice(old, 1);
      return true;
    }
    if (old !== -1) {
      const previous = this.#cookies[old];
      this.#cookies[old] = { ...cookie, creation: previous.creation, order: previous.order };
    } else {
      this.#cookies.push(cookie);
      this.#evict(cookie.domain, now);
    }
    return true;
  }

  /**
   * Stores the cookies of every `Set-Cookie` header of a response.
   *
   * @param response The response.
   * @param url The URL it answers (default: its request's).
   * @returns How many cookies were stored.
   * @throws {TypeError} Without a URL, when the response has no request.
   */
  extractCookies(response: Response, url?: string | URL): number {
    const from = url ?? response.request?.absoluteURI;
    if (from === undefined) {
      throw new TypeError("extractCookies needs the URL of a response that has no request");
    }
    let stored = 0;
    for (const value of response.headers.getRawHeaders("set-cookie") ?? []) {
      // Headers arrive one character per byte; cookies are sent back as UTF-8.
      const text = fromLatin1(value);
      if (text !== undefined && this.setCookie(text, from)) stored++;
    }
    return stored;
  }

  /**
   * The cookies to send to a URL, best match first: longer paths first,
   * then older cookies. Marks them used.
   *
   * @param url The URL to be requested.
   * @returns The cookies.
   * @throws {TypeError} For an invalid URL.
   */
  getCookies(url: string | URL): Cookie[] {
    const target = parseURL(url);
    if (target.protocol !== "http:" && target.protocol !== "https:") return [];
    const now = this.#clock.seconds();
    this.#expire(now);
    const host = hostOf(target);
    const path = target.pathname.startsWith("/") ? target.pathname : "/";
    const secure = target.protocol === "https:";
    const chosen = this.#cookies.filter((c) =>
      (c.hostOnly ? host === c.domain : domainMatches(host, c.domain)) &&
      pathMatches(path, c.path) && (secure || !c.secure)
    );
    chosen.sort((a, b) =>
      b.path.length - a.path.length || a.creation - b.creation || a.order - b.order
    );
    for (const c of chosen) c.lastAccess = now;
    return chosen.map(({ lastAccess: _, order: __, ...cookie }) => cookie);
  }

  /**
   * The value of the `Cookie` header for a request to a URL.
   *
   * @param url The URL to be requested.
   * @returns `name=value` pairs joined by `"; "`, or `undefined` when no
   *   cookie applies.
   * @throws {TypeError} For an invalid URL.
   */
  getCookieHeader(url: string | URL): string | undefined {
    const cookies = this.getCookies(url);
    if (cookies.length === 0) return undefined;
    return cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  }

  /**
   * Every unexpired cookie, in the order stored.
   *
   * @returns The cookies.
   */
  allCookies(): Cookie[] {
    this.#expire(this.#clock.seconds());
    return this.#cookies.map(({ lastAccess: _, order: __, ...cookie }) => cookie);
  }

  /**
   * Removes cookies: all of them, or a domain's.
   *
   * @param domain Only the cookies of this domain (as stored).
   */
  clear(domain?: string): void {
    this.#cookies = domain === undefined
      ? []
      : this.#cookies.filter((c) => c.domain !== domain.toLowerCase());
  }

  /** Removes the session cookies (those without an expiry), as at the end of a browser session. */
  clearSessionCookies(): void {
    this.#cookies = this.#cookies.filter((c) => c.expires !== undefined);
  }

  #expire(now: number): void {
    if (this.#cookies.some((c) => c.expires !== undefined && c.expires <= now)) {
      this.#cookies = this.#cookies.filter((c) => c.expires === undefined || c.expires > now);
    }
  }

  #evict(domain: string, now: number): void {
    const inDomain = this.#cookies.filter((c) => c.domain === domain);
    const over = inDomain.length > MAX_PER_DOMAIN ? inDomain : this.#cookies;
    const limit = inDomain.length > MAX_PER_DOMAIN ? MAX_PER_DOMAIN : MAX_COOKIES;
    if (over.length <= limit) return;
    this.#expire(now);
    const candidates = over.filter((c) => this.#cookies.includes(c));
    if (candidates.length <= limit) return;
    candidates.sort((a, b) => a.lastAccess - b.lastAccess || a.order - b.order);
    const gone = new Set(candidates.slice(0, candidates.length - limit));
    this.#cookies = this.#cookies.filter((c) => !gone.has(c));
  }
}
