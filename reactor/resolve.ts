/**
 * Host name resolution for the reactor: literal addresses as they are, then
 * the hosts file, then DNS through `Deno.resolveDns`. The reactor's
 * `resolve` is {@linkcode resolve}; {@linkcode resolveAll} gives every
 * address, IPv6 first, for clients that try them in turn.
 *
 * @module
 */
import { Deferred } from "../defer/deferred.ts";
import { TimeoutError } from "../defer/errors.ts";
import type { ReactorTime } from "../defer/time.ts";
import { _isIPv4, _isIPv6 } from "./_ip_address.ts";
import { DNSLookupError } from "./connection_errors.ts";

/** Twisted's default timeouts, summed into one: 60 seconds. */
const DEFAULT_TIMEOUT: readonly number[] = [1, 3, 11, 45];

/** The longest delay `setTimeout` takes, in milliseconds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The hosts file's usual place on this platform. */
const SYSTEM_HOSTS_FILE = Deno.build.os === "windows"
  ? "C:\\Windows\\System32\\drivers\\etc\\hosts"
  : "/etc/hosts";

/** Options for {@linkcode resolve} and {@linkcode resolveAll}. */
export interface ResolveOptions {
  /** Schedules the timeout (default: timers). The reactor passes itself. */
  clock?: ReactorTime;
  /**
   * The hosts file to read before asking DNS (default: the system's,
   * `/etc/hosts`); `null` skips it. It is read only with read permission
   * for it, and read again on each lookup, so edits take effect at once.
   */
  hostsFile?: string | null;
  /** The DNS server to ask (default: the system's, from `/etc/resolv.conf`). */
  nameServer?: { ipAddr: string; port?: number };
}

/** Which addresses a lookup wants. */
type Want = "ipv4" | "all";

function totalSeconds(timeout: number | readonly number[]): number {
  if (typeof timeout === "number") {
    if (!(timeout > 0)) throw new RangeError(`Timeout must be a positive number, not ${timeout}`);
    return timeout;
  }
  if (timeout.length === 0) return 60;
  const sum = timeout.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new RangeError(`Timeouts must add up to a positive number, not ${sum}`);
  return sum;
}

/** The addresses the hosts file gives `name` (lower-cased, no final dot), in file order. */
function fromHostsFile(path: string | null, name: string): string[] {
  if (path === null) return [];
  let text: string;
  try {
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return [];
    text = Deno.readTextFileSync(path);
  } catch {
    return []; // Missing or unreadable: DNS alone decides.
  }
  const found: string[] = [];
  for (const raw of text.split("\n")) {
    const hash = raw.indexOf("#");
    const fields = (hash === -1 ? raw : raw.slice(0, hash)).trim().split(/\s+/);
    if (fields.length < 2 || !(_isIPv4(fields[0]) || _isIPv6(fields[0]))) continue;
    for (const alias of fields.slice(1)) {
      if (alias.toLowerCase().replace(/\.$/, "") === name && !found.includes(fields[0])) {
        found.push(fields[0]);
      }
    }
  }
  return found;
}

function lookup(
  name: string,
  want: Want,
  timeout: number | readonly number[],
  options: ResolveOptions,
): Deferred<string[]> {
  if (typeof name !== "string") {
    throw new TypeError(`Host name must be a string, not ${typeof name}`);
  }
  const seconds = totalSeconds(timeout);
  const immediate = (addresses: string[]): Deferred<string[]> => {
    const d = new Deferred<string[]>();
    d.callback(addresses);
    return d;
  };
  const failed = (cause?: unknown): Deferred<string[]> => {
    const d = new Deferred<string[]>();
    d.errback(new DNSLookupError(name, cause === undefined ? undefined : { cause }));
    return d;
  };

  if (name === "") return immediate(["0.0.0.0"]);
  if (_isIPv4(name)) return immediate([name]);
  if (_isIPv6(name)) {
    return want === "all" ? immediate([name]) : failed(
      new TypeError(`${name} is an IPv6 address: resolve() gives IPv4 addresses only`),
    );
  }

  const key = name.toLowerCase().replace(/\.$/, "");
  const hostsFile = options.hostsFile === undefined ? SYSTEM_HOSTS_FILE : options.hostsFile;
  const listed = fromHostsFile(hostsFile, key);
  const hosts = want === "all" ? listed : listed.filter(_isIPv4);
  if (hosts.length > 0) return immediate(hosts);
  if (key === "localhost") return immediate(want === "all" ? ["::1", "127.0.0.1"] : ["127.0.0.1"]);

  // DNS.
  const controller = new AbortController();
  let cancelTimer = (): void => {};
  const d = new Deferred<string[]>(() => {
    cancelTimer();
    controller.abort();
  });
  const dnsOptions: Deno.ResolveDnsOptions = { signal: controller.signal };
  if (options.nameServer !== undefined) dnsOptions.nameServer = options.nameServer;
  const query = (type: "A" | "AAAA"): Promise<string[]> => {
    try {
      return Deno.resolveDns(name, type, dnsOptions) as Promise<string[]>;
    } catch (error) {
      return Promise.reject(error); // A permission error, say: a failed lookup all the same.
    }
  };
  const queries = want === "all" ? [query("AAAA"), query("A")] : [query("A")];
  Promise.allSettled(queries).then((results) => {
    cancelTimer();
    if (d.called) return; // Cancelled or timed out.
    const addresses: string[] = [];
    let firstError: unknown;
    for (const result of results) {
      if (result.status === "fulfilled") addresses.push(...result.value);
      else firstError ??= result.reason;
    }
    if (addresses.length > 0) d.callback(want === "all" ? addresses : [addresses[0]]);
    else {d.errback(
        new DNSLookupError(name, firstError === undefined ? undefined : { cause: firstError }),
      );}
  });
  const onTimeout = (): void => {
    if (d.called) return;
    controller.abort();
    d.errback(
      new DNSLookupError(name, { cause: new TimeoutError(seconds, `DNS lookup of ${name}`) }),
    );
  };
  if (options.clock !== undefined) {
    const call = options.clock.callLater(seconds, onTimeout);
    cancelTimer = () => {
      if (call.active()) call.cancel();
    };
  } else if (seconds * 1000 <= MAX_TIMER_MS) {
    const id = setTimeout(onTimeout, seconds * 1000);
    cancelTimer = () => clearTimeout(id);
  }
  return d;
}

/**
 * Finds an IPv4 address for a host name, without blocking the reactor:
 * Twisted's `reactor.resolve`, for code that needs one address to connect
 * to. An IPv4 literal is returned as is; `""` gives `0.0.0.0`. A name is
 * looked up in the hosts file first (its first IPv4 address), then in DNS
 * (the first `A` record). `localhost` gives `127.0.0.1` even when the hosts
 * file does not list it.
 *
 * Divergences from Twisted: Deno's DNS client does not read the hosts file
 * or `nsswitch.conf`, so torsion reads the hosts file itself and knows no
 * other source (no mDNS, no NIS); `timeout` may also be one number of
 * seconds; the reason of a failure is a `DNSLookupError` whose `cause` is
 * Deno's error or, after the timeout, a `TimeoutError`; `options` is added.
 * Cancelling the Deferred aborts the query (`CancelledError`).
 *
 * Test tip: pass `hostsFile` and a `nameServer` on 127.0.0.1 that you
 * control (or a `clock` for the timeout), so a test never depends on the
 * network.
 *
 * @param name A host name or an IPv4 address.
 * @param timeout Seconds before the lookup fails: a number, or Twisted's
 *   sequence of retry timeouts, which are summed (default `[1, 3, 11, 45]`,
 *   60 seconds; an empty sequence also means 60).
 * @param options `clock`, `hostsFile`, `nameServer`.
 * @returns A Deferred that fires with the address, or fails with
 *   `DNSLookupError` (no address, an IPv6 literal, a timeout). It fires at
 *   once for a literal or a name in the hosts file.
 * @throws {TypeError} If `name` is not a string.
 * @throws {RangeError} If `timeout` is not positive.
 *
 * @example Resolving a literal and localhost
 * ```ts
 * import { resolve } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await resolve("192.0.2.7"), "192.0.2.7");
 * assert.equal(await resolve("localhost", 5, { hostsFile: null }), "127.0.0.1");
 * ```
 */
export function resolve(
  name: string,
  timeout: number | readonly number[] = DEFAULT_TIMEOUT,
  options: ResolveOptions = {},
): Deferred<string> {
  return lookup(name, "ipv4", timeout, options).addCallback((addresses) => addresses[0]);
}

/**
 * Finds every address of a host name, IPv6 and IPv4: what a client that
 * tries addresses in turn (`HostnameEndpoint`) needs. A literal of either
 * family is returned alone; `""` gives `0.0.0.0`. If the hosts file lists
 * the name, its addresses are the answer, in file order, as `getaddrinfo`
 * does; otherwise DNS is asked for `AAAA` and `A` records at once, and the
 * IPv6 addresses come before the IPv4 ones. `localhost` gives `::1` and
 * `127.0.0.1` when the hosts file does not list it.
 *
 * Twisted's equivalent is `reactor.nameResolver.resolveHostName`, which
 * reports to a receiver; this returns the list instead. See
 * {@linkcode resolve} for the other divergences and the options.
 *
 * @param name A host name or an IP address.
 * @param timeout As for {@linkcode resolve}.
 * @param options As for {@linkcode resolve}.
 * @returns A Deferred that fires with at least one address, or fails with
 *   `DNSLookupError` if neither query found one.
 * @throws {TypeError} If `name` is not a string.
 * @throws {RangeError} If `timeout` is not positive.
 *
 * @example Listing a name's addresses from a hosts file
 * ```ts
 * import { resolveAll } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const hostsFile = await Deno.makeTempFile();
 * await Deno.writeTextFile(hostsFile, "192.0.2.1 web\n2001:db8::1 web\n");
 * assert.deepEqual(await resolveAll("web", 5, { hostsFile }), ["192.0.2.1", "2001:db8::1"]);
 * assert.deepEqual(await resolveAll("::1"), ["::1"]);
 * await Deno.remove(hostsFile);
 * ```
 */
export function resolveAll(
  name: string,
  timeout: number | readonly number[] = DEFAULT_TIMEOUT,
  options: ResolveOptions = {},
): Deferred<string[]> {
  return lookup(name, "all", timeout, options);
}
