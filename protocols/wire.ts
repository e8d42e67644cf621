/**
 * The small standard services of inetd (RFC 862 to 868): echo, discard,
 * chargen, quote of the day, active users, daytime and time. Useful as
 * test peers, as examples, and for checking that a network path works.
 *
 * @module
 */
import type { ReactorTime } from "../defer/time.ts";
import type { PullProducer } from "../reactor/interfaces.ts";
import { realTime } from "../reactor/_real_time.ts";
import { Protocol } from "./protocol.ts";

/**
 * Writes back whatever it receives (RFC 862): the simplest server, and a
 * handy peer for testing clients.
 *
 * @example
 * ```ts
 * import { Echo } from "@torsion/torsion/protocols";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const transport = new StringTransport();
 * const echo = new Echo();
 * echo.makeConnection(transport);
 * for (const word of ["hello", "world"]) echo.dataReceived(new TextEncoder().encode(word));
 * assert.equal(transport.valueString(), "helloworld");
 * ```
 */
export class Echo extends Protocol {
  /**
   * Writes `data` back.
   *
   * @param data The bytes received.
   */
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
  }
}

/**
 * Reads and ignores everything (RFC 863): a sink for testing clients that
 * send.
 *
 * @example
 * ```ts
 * import { Discard } from "@torsion/torsion/protocols";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const transport = new StringTransport();
 * const discard = new Discard();
 * discard.makeConnection(transport);
 * discard.dataReceived(new TextEncoder().encode("hello"));
 * assert.equal(transport.value().length, 0);
 * ```
 */
export class Discard extends Protocol {
  /**
   * Ignores `data`.
   *
   * @param _data The bytes received.
   */
  override dataReceived(_data: Uint8Array): void {}
}

// The 95 printable ASCII characters, twice, so any 72 of them in a row are
// one slice.
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("");
const RING = new TextEncoder().encode(PRINTABLE + PRINTABLE);
const LINE_WIDTH = 72;

/**
 * Sends lines of characters for as long as the connection lasts
 * (RFC 864): a bandwidth test, and an example of a pull producer. It
 * registers itself with its transport in `connectionMade`; each
 * `resumeProducing()` (which the transport calls whenever it has sent
 * everything) writes one line, so memory stays flat however slow the
 * reader is.
 *
 * Each line is 72 printable ASCII characters and CRLF; each starts one
 * character further along the 95 printable characters than the one before,
 * giving the classic rotating pattern.
 *
 * Divergence from Twisted: Twisted writes the same 71-byte string each
 * time, without line ends; this follows RFC 864's rotating lines.
 *
 * @example Two lines
 * ```ts
 * import { Chargen } from "@torsion/torsion/protocols";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const transport = new StringTransport();
 * const chargen = new Chargen();
 * chargen.makeConnection(transport);
 * assert.equal(transport.producer, chargen);
 * chargen.resumeProducing();
 * chargen.resumeProducing();
 * const [first, second] = transport.valueString().split("\r\n");
 * assert.equal(first.length, 72);
 * assert.equal(first.slice(0, 12), ` !"#$%&'()*+`);
 * assert.equal(first.slice(-3), "efg");
 * assert.equal(second, first.slice(1) + "h");
 * ```
 */
export class Chargen extends Protocol implements PullProducer {
  #line = 0;
  #stopped = false;

  /** Registers itself with the transport as a pull producer. */
  override connectionMade(): void {
    this.transport!.registerProducer(this, false);
  }

  /** Writes the next line, unless stopped. */
  resumeProducing(): void {
    if (this.#stopped || this.transport === null) return;
    const start = this.#line % 95;
    this.#line = start + 1;
    const line = new Uint8Array(LINE_WIDTH + 2);
    line.set(RING.subarray(start, start + LINE_WIDTH));
    line[LINE_WIDTH] = 13;
    line[LINE_WIDTH + 1] = 10;
    this.transport.write(line);
  }

  /** Does nothing: a pull producer writes only when resumed. */
  pauseProducing(): void {}

  /** Stops for good: later `resumeProducing()` calls write nothing. */
  stopProducing(): void {
    this.#stopped = true;
  }
}

/**
 * Sends a quote and closes (RFC 865). Override
 * {@linkcode QOTD.getQuote} for another quote.
 *
 * @example
 * ```ts
 * import { QOTD } from "@torsion/torsion/protocols";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const transport = new StringTransport();
 * new QOTD().makeConnection(transport);
 * assert.equal(transport.valueString(), "An apple a day keeps the doctor away.\r\n");
 * assert.equal(transport.disconnecting, true);
 * ```
 */
export class QOTD extends Protocol {
  /** Writes the quote, then closes. */
  override connectionMade(): void {
    this.transport!.write(this.getQuote());
    this.transport!.loseConnection();
  }

  /**
   * The quote to send; override it.
   *
   * @returns The quote, with its line end.
   */
  getQuote(): Uint8Array | string {
    return "An apple a day keeps the doctor away.\r\n";
  }
}

/**
 * Sends the list of active users and closes (RFC 866). Override
 * {@linkcode Who.getUsers} to list real ones.
 *
 * @example
 * ```ts
 * import { Who } from "@torsion/torsion/protocols";
 * import { StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const transport = new StringTransport();
 * new Who().makeConnection(transport);
 * assert.equal(transport.valueString(), "root\r\n");
 * ```
 */
export class Who extends Protocol {
  /** Writes the users, then closes. */
  override connectionMade(): void {
    this.transport!.write(this.getUsers());
    this.transport!.loseConnection();
  }

  /**
   * The users to list; override it.
   *
   * @returns One user per line, each line ending in CRLF.
   */
  getUsers(): Uint8Array | string {
    return "root\r\n";
  }
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/**
 * Sends the current date and time as text and closes (RFC 867), in UTC and
 * in C's `asctime` form, as Twisted intends: `Thu Jan  1 00:00:00 1970`
 * followed by CRLF. Set {@linkcode Daytime.clock} to a `Clock` in tests
 * (its time 0 is the Unix epoch), or override
 * {@linkcode Daytime.getDaytime} for another format.
 *
 * Divergence from Twisted: Twisted's `Daytime` fails on Python 3 (it adds
 * bytes to a string); this one works.
 *
 * @example At a fixed time
 * ```ts
 * import { Daytime } from "@torsion/torsion/protocols";
 * import { Clock, StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new Clock();
 * clock.advance(1_000_000_000);
 * const daytime = new Daytime();
 * daytime.clock = clock;
 * const transport = new StringTransport();
 * daytime.makeConnection(transport);
 * assert.equal(transport.valueString(), "Sun Sep  9 01:46:40 2001\r\n");
 * assert.equal(transport.disconnecting, true);
 * ```
 */
export class Daytime extends Protocol {
  /** Where the time comes from, in seconds since the epoch: `null` (the default) for real time. */
  clock: Pick<ReactorTime, "seconds"> | null = null;

  /** Writes the date and time, then closes. */
  override connectionMade(): void {
    this.transport!.write(this.getDaytime());
    this.transport!.loseConnection();
  }

  /**
   * The text to send; override it for another format.
   *
   * @returns The clock's time in UTC, as `asctime` writes it, and CRLF.
   */
  getDaytime(): string {
    const date = new Date(Math.floor((this.clock ?? realTime).seconds()) * 1000);
    const day = String(date.getUTCDate()).padStart(2, " ");
    const time = `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${
      pad2(date.getUTCSeconds())
    }`;
    return `${DAYS[date.getUTCDay()]} ${
      MONTHS[date.getUTCMonth()]
    } ${day} ${time} ${date.getUTCFullYear()}\r\n`;
  }
}

/** Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01. */
const RFC868_OFFSET = 2_208_988_800;

/**
 * Sends the current time as a machine-readable number and closes
 * (RFC 868): four bytes, big-endian, the seconds since 1900-01-01 00:00 UTC
 * modulo 2³². Set {@linkcode Time.clock} to a `Clock` in tests (its time 0
 * is the Unix epoch).
 *
 * Divergence from Twisted: Twisted sends the seconds since 1970 as a signed
 * number, which is not RFC 868's format; this one follows the RFC.
 *
 * @example At the Unix epoch
 * ```ts
 * import { Time } from "@torsion/torsion/protocols";
 * import { Clock, StringTransport } from "@torsion/torsion/testing";
 * import assert from "node:assert/strict";
 *
 * const time = new Time();
 * time.clock = new Clock();
 * const transport = new StringTransport();
 * time.makeConnection(transport);
 * assert.deepEqual(transport.value(), Uint8Array.of(0x83, 0xaa, 0x7e, 0x80));
 * ```
 */
export class Time extends Protocol {
  /** Where the time comes from, in seconds since the epoch: `null` (the default) for real time. */
  clock: Pick<ReactorTime, "seconds"> | null = null;

  /** Writes the time, then closes. */
  override connectionMade(): void {
    const seconds = Math.floor((this.clock ?? realTime).seconds()) + RFC868_OFFSET;
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, ((seconds % 2 ** 32) + 2 ** 32) % 2 ** 32);
    this.transport!.write(bytes);
    this.transport!.loseConnection();
  }
}
