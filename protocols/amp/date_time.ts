// AMP's DateTime argument: a wall-clock time to the microsecond with a fixed
// UTC offset, in Twisted's 32-character format.
import type { ArgumentType } from "./argument.ts";
import { preview } from "./basic_arguments.ts";

/** The fields of an {@linkcode AmpDateTime}. */
export interface AmpDateTimeFields {
  /** 1 to 9999. */
  year: number;
  /** 1 to 12. */
  month: number;
  /** 1 to the length of the month. */
  day: number;
  /** 0 to 23. */
  hour: number;
  /** 0 to 59. */
  minute: number;
  /** 0 to 59. */
  second: number;
  /** 0 to 999,999 (default 0). */
  microsecond?: number;
  /** Minutes east of UTC, under 24 hours either way (default 0). */
  offsetMinutes?: number;
}

function check(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Bad DateTime ${name}: ${String(value)} (must be ${min} to ${max})`);
  }
  return value;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

const WIRE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})([+-])(\d{2}):(\d{2})$/;

/**
 * A date and time as AMP carries it: calendar fields to the microsecond,
 * and a fixed offset from UTC, like a Python `datetime` with a fixed-offset
 * `tzinfo`. A JavaScript `Date` has neither microseconds nor an offset, so
 * decoding gives this class, which keeps both, and a value received can be
 * sent back unchanged. Convert with {@linkcode AmpDateTime.toDate} and
 * {@linkcode AmpDateTime.fromDate}.
 *
 * @example
 * ```ts
 * import { AmpDateTime } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const t = AmpDateTime.parse("2024-02-29T23:30:00.000001+05:30");
 * assert.equal(t.toDate().toISOString(), "2024-02-29T18:00:00.000Z");
 * assert.equal(String(AmpDateTime.fromDate(new Date(0))), "1970-01-01T00:00:00.000000-00:00");
 * ```
 */
export class AmpDateTime {
  /** The year, 1 to 9999. */
  readonly year: number;
  /** The month, 1 to 12. */
  readonly month: number;
  /** The day of the month. */
  readonly day: number;
  /** The hour, 0 to 23. */
  readonly hour: number;
  /** The minute, 0 to 59. */
  readonly minute: number;
  /** The second, 0 to 59. */
  readonly second: number;
  /** The microsecond, 0 to 999,999. */
  readonly microsecond: number;
  /** Minutes east of UTC: 330 for +05:30, -300 for -05:00. */
  readonly offsetMinutes: number;

  /**
   * Makes a date-time from its fields, in the time zone of the offset.
   *
   * @param fields The fields.
   * @throws {RangeError} If a field is out of range or not an integer.
   */
  constructor(fields: AmpDateTimeFields) {
    this.year = check("year", fields.year, 1, 9999);
    this.month = check("month", fields.month, 1, 12);
    this.day = check("day", fields.day, 1, daysIn(this.year, this.month));
    this.hour = check("hour", fields.hour, 0, 23);
    this.minute = check("minute", fields.minute, 0, 59);
    this.second = check("second", fields.second, 0, 59);
    this.microsecond = check("microsecond", fields.microsecond ?? 0, 0, 999_999);
    this.offsetMinutes = check("offset", fields.offsetMinutes ?? 0, -1439, 1439);
  }

  /**
   * The same instant as a date-time at a fixed offset from UTC.
   *
   * @param date The instant.
   * @param offsetMinutes Minutes east of UTC (default 0).
   * @returns The date-time, its microseconds the date's milliseconds × 1000.
   * @throws {TypeError} If `date` is not a valid Date.
   * @throws {RangeError} If the year falls outside 1 to 9999 or the offset is
   * out of range.
   */
  static fromDate(date: Date, offsetMinutes: number = 0): AmpDateTime {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new TypeError(`Bad DateTime value: ${String(date)} is not a valid Date`);
    }
    check("offset", offsetMinutes, -1439, 1439);
    const wall = new Date(date.getTime() + offsetMinutes * 60_000);
    return new AmpDateTime({
      year: wall.getUTCFullYear(),
      month: wall.getUTCMonth() + 1,
      day: wall.getUTCDate(),
      hour: wall.getUTCHours(),
      minute: wall.getUTCMinutes(),
      second: wall.getUTCSeconds(),
      microsecond: wall.getUTCMilliseconds() * 1000,
      offsetMinutes,
    });
  }

  /**
   * Reads Twisted's format, `YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM`.
   *
   * Divergence from Twisted: the separators are checked too (Twisted reads
   * the digits at fixed places and ignores the rest).
   *
   * @param text Exactly 32 characters.
   * @returns The date-time.
   * @throws {TypeError} If the text is not in that format.
   * @throws {RangeError} If a field is out of range.
   */
  static parse(text: string): AmpDateTime {
    const m = WIRE.exec(text);
    if (m === null) throw new TypeError(`Bad DateTime value: ${JSON.stringify(text)}`);
    const offset = Number(m[9]) * 60 + check("offset minute", Number(m[10]), 0, 59);
    return new AmpDateTime({
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4]),
      minute: Number(m[5]),
      second: Number(m[6]),
      microsecond: Number(m[7]),
      offsetMinutes: m[8] === "-" ? -offset || 0 : offset,
    });
  }

  /**
   * The instant as a `Date`, to the millisecond (microseconds are truncated).
   *
   * @returns A new Date.
   */
  toDate(): Date {
    const date = new Date(0);
    date.setUTCFullYear(this.year, this.month - 1, this.day);
    date.setUTCHours(this.hour, this.minute, this.second, Math.floor(this.microsecond / 1000));
    return new Date(date.getTime() - this.offsetMinutes * 60_000);
  }

  /**
   * Twisted's wire format. As in Twisted, a zero offset is written `-00:00`.
   *
   * @returns 32 characters.
   */
  toString(): string {
    const offset = this.offsetMinutes;
    const abs = Math.abs(offset);
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}T${pad(this.hour, 2)}:${
      pad(this.minute, 2)
    }:${pad(this.second, 2)}.${pad(this.microsecond, 6)}${offset > 0 ? "+" : "-"}${
      pad(Math.floor(abs / 60), 2)
    }:${pad(abs % 60, 2)}`;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A date and time with a UTC offset: Twisted's `DateTime`, in its
 * 32-character format. Decodes to an {@linkcode AmpDateTime}; encodes one,
 * or a `Date` (sent in UTC, with its milliseconds).
 *
 * Divergence from Twisted: there are no naive date-times to refuse, since a
 * `Date` is an instant; it is sent at offset zero.
 *
 * @example
 * ```ts
 * import { DateTime } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const bytes = DateTime.encode(new Date("2020-01-02T03:04:05.678Z"));
 * assert.equal(new TextDecoder().decode(bytes), "2020-01-02T03:04:05.678000-00:00");
 * assert.equal(DateTime.decode(bytes).toDate().getTime(), Date.UTC(2020, 0, 2, 3, 4, 5, 678));
 * ```
 */
export const DateTime: ArgumentType<AmpDateTime, AmpDateTime | Date> = {
  typeName: "DateTime",
  encode(value: AmpDateTime | Date): Uint8Array {
    if (value instanceof Date) return encoder.encode(AmpDateTime.fromDate(value).toString());
    if (!(value instanceof AmpDateTime)) {
      throw new TypeError(`Bad DateTime value: ${String(value)} is not an AmpDateTime or a Date`);
    }
    return encoder.encode(value.toString());
  },
  decode(bytes: Uint8Array): AmpDateTime {
    if (bytes.length !== 32) throw new TypeError(`Bad DateTime value: ${preview(bytes)}`);
    return AmpDateTime.parse(decoder.decode(bytes));
  },
};
