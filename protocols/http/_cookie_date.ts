/**
 * The date of a cookie's `Expires` attribute, read with RFC 6265 section
 * 5.1.1's forgiving algorithm: the tokens that look like a time, a day, a
 * month and a year are picked out wherever they are, so every date format
 * servers actually send parses.
 *
 * @module
 */

// Everything but digits, letters and ":" separates tokens.
// deno-lint-ignore no-control-regex
const DELIMITER = /[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+/;
const TIME = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[^\d]|$)/;
const DAY = /^(\d{1,2})(?:[^\d]|$)/;
const YEAR = /^(\d{2,4})(?:[^\d]|$)/;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * Reads a cookie date.
 *
 * @param text The attribute's value, such as `Wed, 21 Oct 2015 07:28:00 GMT`.
 * @returns Milliseconds since the epoch, or `undefined` if it is no date.
 */
export function parseCookieDate(text: string): number | undefined {
  let time: [number, number, number] | undefined;
  let day: number | undefined;
  let month: number | undefined;
  let year: number | undefined;
  for (const token of text.split(DELIMITER)) {
    if (token === "") continue;
    let match: RegExpExecArray | null;
    if (time === undefined && (match = TIME.exec(token)) !== null) {
      time = [Number(match[1]), Number(match[2]), Number(match[3])];
    } else if (day === undefined && (match = DAY.exec(token)) !== null) {
      day = Number(match[1]);
    } else if (
      month === undefined && token.length >= 3 &&
      MONTHS.includes(token.slice(0, 3).toLowerCase())
    ) {
      month = MONTHS.indexOf(token.slice(0, 3).toLowerCase());
    } else if (year === undefined && (match = YEAR.exec(token)) !== null) {
      year = Number(match[1]);
    }
  }
  if (time === undefined || day === undefined || month === undefined || year === undefined) {
    return undefined;
  }
  if (year >= 70 && year <= 99) year += 1900;
  else if (year >= 0 && year <= 69) year += 2000;
  const [hour, minute, second] = time;
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const ms = Date.UTC(year, month, day, hour, minute, second);
  // 31 February and the like are no dates.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  return ms;
}
