/**
 * HTTP header fields as Twisted's `twisted.web.http_headers` has them: a
 * case-insensitive map of names to lists of values.
 *
 * @module
 */
import { TOKEN } from "./_syntax.ts";

const BAD_VALUE = /[\0\r\n]/;

/**
 * What {@linkcode Headers} can be made from, and what request functions take
 * for headers: another `Headers`, an object of names to a value or a list of
 * values, or pairs (a fetch `Headers` object is such an iterable).
 */
export type HeadersLike =
  | Headers
  | Readonly<Record<string, string | readonly string[]>>
  | Iterable<readonly [name: string, value: string | readonly string[]]>;

function checkName(name: string): string {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new TypeError(`Invalid header name ${JSON.stringify(name)}`);
  }
  return name.toLowerCase();
}

function checkValue(name: string, value: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`The value of header ${name} must be a string, not ${typeof value}`);
  }
  if (BAD_VALUE.test(value)) {
    throw new TypeError(
      `The value of header ${name} holds a CR, LF or NUL: ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * HTTP header fields, as Twisted's `twisted.web.http_headers.Headers`:
 * names are case-insensitive, and each name holds a list of values, so a
 * repeated header (`Set-Cookie`) keeps every value in order.
 *
 * Values are strings. Response headers are decoded as ISO-8859-1, one
 * character per byte, so no byte is lost; request headers are sent as
 * UTF-8.
 *
 * Divergences from Twisted: names and values are strings only (not bytes);
 * a name keeps the spelling it was first given (Twisted re-capitalises
 * names); an invalid name, or a value with CR, LF or NUL, throws a
 * `TypeError` (Twisted replaces line breaks with spaces). The class shadows
 * the fetch API's global `Headers` in a module that imports it.
 *
 * @example Case-insensitive names, repeated values
 * ```ts
 * import { Headers } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const headers = new Headers({ "Set-Cookie": ["a=1", "b=2"] });
 * headers.addRawHeader("set-cookie", "c=3");
 * assert.deepEqual(headers.getRawHeaders("SET-COOKIE"), ["a=1", "b=2", "c=3"]);
 * assert.equal(headers.hasHeader("Content-Type"), false);
 * assert.deepEqual([...headers], [["Set-Cookie", ["a=1", "b=2", "c=3"]]]);
 * ```
 */
export class Headers implements Iterable<[name: string, values: string[]]> {
  #fields = new Map<string, { name: string; values: string[] }>();

  /**
   * Makes a set of headers, empty or copied from `init`.
   *
   * @param init Headers to start with.
   * @throws {TypeError} For an invalid name or value.
   */
  constructor(init?: HeadersLike) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      for (const [key, field] of init.#fields) {
        this.#fields.set(key, { name: field.name, values: [...field.values] });
      }
      return;
    }
    const pairs: Iterable<readonly [string, string | readonly string[]]> = Symbol.iterator in init
      ? init as Iterable<readonly [string, string | readonly string[]]>
      : Object.entries(init as Record<string, string | readonly string[]>);
    for (const [name, value] of pairs) {
      if (typeof value === "string") this.addRawHeader(name, value);
      else for (const v of value) this.addRawHeader(name, v);
    }
  }

  /**
   * Whether a header is present.
   *
   * @param name The name, in any case.
   * @returns `true` if it has at least been set.
   */
  hasHeader(name: string): boolean {
    return this.#fields.has(name.toLowerCase());
  }

  /**
   * The values of a header, in order.
   *
   * @param name The name, in any case.
   * @returns A copy of the values, or `undefined` if the header is absent.
   */
  getRawHeaders(name: string): string[] | undefined;
  /**
   * The values of a header, in order, or a default.
   *
   * @param name The name, in any case.
   * @param defaultValue What to return if the header is absent.
   * @returns A copy of the values, or `defaultValue`.
   */
  getRawHeaders<D>(name: string, defaultValue: D): string[] | D;
  getRawHeaders<D>(name: string, defaultValue?: D): string[] | D | undefined {
    const field = this.#fields.get(name.toLowerCase());
    return field === undefined ? defaultValue : [...field.values];
  }

  /**
   * Replaces a header's values.
   *
   * @param name The name; its spelling is kept for sending.
   * @param values The new values.
   * @throws {TypeError} For an invalid name or value.
   */
  setRawHeaders(name: string, values: readonly string[]): void {
    const key = checkName(name);
    const checked = values.map((value) => checkValue(name, value));
    this.#fields.set(key, { name, values: checked });
  }

  /**
   * Adds a value to a header, after those it has.
   *
   * @param name The name; the first spelling given is kept.
   * @param value The value.
   * @throws {TypeError} For an invalid name or value.
   */
  addRawHeader(name: string, value: string): void {
    const key = checkName(name);
    checkValue(name, value);
    const field = this.#fields.get(key);
    if (field === undefined) this.#fields.set(key, { name, values: [value] });
    else field.values.push(value);
  }

  /**
   * Removes a header and all its values; an absent one is ignored.
   *
   * @param name The name, in any case.
   */
  removeHeader(name: string): void {
    this.#fields.delete(name.toLowerCase());
  }

  /**
   * Every header, in the order the names were first added.
   *
   * @returns Pairs of the name (as first spelled) and a copy of its values.
   */
  *getAllRawHeaders(): IterableIterator<[name: string, values: string[]]> {
    for (const field of this.#fields.values()) yield [field.name, [...field.values]];
  }

  /**
   * Every header, as {@linkcode Headers.getAllRawHeaders}.
   *
   * @returns Pairs of the name and its values.
   */
  [Symbol.iterator](): IterableIterator<[name: string, values: string[]]> {
    return this.getAllRawHeaders();
  }

  /**
   * An independent copy.
   *
   * @returns New headers with the same values.
   */
  copy(): Headers {
    return new Headers(this);
  }
}
