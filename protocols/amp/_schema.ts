// A schema compiled for speed: the keys encoded once, the order of keys on
// the wire (sorted byte-wise, as Twisted writes them) worked out once, with
// the protocol's own keys (`_ask`, `_command`, `_answer`) in their places.
import type { AmpBox } from "./box.ts";
import { compareBytes, encodePairs, keyBytes } from "./box.ts";
import { type ArgumentType, checkArgumentType, type OptionalArgument } from "./argument.ts";
import { InvalidSignature } from "./errors.ts";

interface Field {
  readonly name: string;
  readonly type: ArgumentType<unknown, unknown>;
  readonly optional: boolean;
}

/** Adds where an argument was to an error's message, keeping its class. */
function withContext(error: unknown, context: string): unknown {
  if (error instanceof Error) {
    try {
      error.message = `${context}: ${error.message}`;
    } catch {
      // A frozen error keeps its message.
    }
  }
  return error;
}

/** Encodes and decodes boxes for one schema. */
export class SchemaCodec {
  readonly owner: string;
  readonly fields: readonly Field[];
  readonly #byName: Map<string, Field> = new Map();
  // The wire order: for slot i, either a field or the index of a special key.
  readonly #slotKeys: Uint8Array[] = [];
  readonly #slotNames: string[] = [];
  readonly #slotFields: Array<Field | null> = [];
  readonly #slotSpecials: number[] = [];

  /**
   * @param schema Names to argument types.
   * @param specials Protocol keys that may also be in the box, such as `_ask`.
   * @param owner Names the schema in error messages, such as `Sum arguments`.
   * @param reserved Names the schema may not use.
   */
  constructor(
    schema: unknown,
    specials: readonly string[],
    owner: string,
    reserved: readonly string[] = [],
  ) {
    this.owner = owner;
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
      throw new TypeError(`${owner} must be an object of names to argument types`);
    }
    const fields: Field[] = [];
    const slots: Array<[Uint8Array, string, Field | null, number]> = [];
    for (const [name, type] of Object.entries(schema)) {
      checkArgumentType(type, `${owner}: ${JSON.stringify(name)}`);
      if (reserved.includes(name) || name === "__proto__") {
        throw new TypeError(`${owner}: ${JSON.stringify(name)} is a reserved name`);
      }
      let key: Uint8Array;
      try {
        key = keyBytes(name);
      } catch (error) {
        throw new TypeError(`${owner}: ${JSON.stringify(name)} must be 1 to 255 bytes of UTF-8`, {
          cause: error,
        });
      }
      const optional = (type as Partial<OptionalArgument<unknown>>).optional === true;
      const field: Field = { name, type, optional };
      fields.push(field);
      this.#byName.set(name, field);
      slots.push([key, name, field, -1]);
    }
    specials.forEach((name, i) => slots.push([keyBytes(name), name, null, i]));
    slots.sort((a, b) => compareBytes(a[0], b[0]));
    for (const [key, name, field, special] of slots) {
      this.#slotKeys.push(key);
      this.#slotNames.push(name);
      this.#slotFields.push(field);
      this.#slotSpecials.push(special);
    }
    this.fields = fields;
  }

  /**
   * Serializes `values` with the given protocol keys (`undefined` ones are
   * left out), keys in Twisted's order.
   *
   * @throws {InvalidSignature} For a missing required value or an unknown name.
   * @throws {Error} What an argument type throws, its message prefixed.
   */
  encode(values: unknown, specials: ReadonlyArray<Uint8Array | undefined>): Uint8Array {
    if (typeof values !== "object" || values === null) {
      throw new TypeError(`${this.owner} must be an object, not ${String(values)}`);
    }
    const record = values as Record<string, unknown>;
    for (const name in record) {
      if (!this.#byName.has(name) && record[name] !== undefined) {
        throw new InvalidSignature(`${JSON.stringify(name)} is not one of the ${this.owner}`);
      }
    }
    const n = this.#slotKeys.length;
    const keys: Uint8Array[] = [];
    const out: Uint8Array[] = [];
    const names: string[] = [];
    let missing: string[] | null = null;
    for (let i = 0; i < n; i++) {
      const field = this.#slotFields[i];
      let bytes: Uint8Array | undefined;
      if (field === null) {
        bytes = specials[this.#slotSpecials[i]];
        if (bytes === undefined) continue;
      } else {
        const value = record[field.name];
        if (value === undefined) {
          if (!field.optional) (missing ??= []).push(field.name);
          continue;
        }
        try {
          bytes = field.type.encode(value);
        } catch (error) {
          throw withContext(error, `${this.owner}: ${JSON.stringify(field.name)}`);
        }
        if (!(bytes instanceof Uint8Array)) {
          throw new TypeError(
            `${this.owner}: ${JSON.stringify(field.name)}: ${field.type.typeName}.encode ` +
              `returned ${String(bytes)}, not a Uint8Array`,
          );
        }
      }
      keys.push(this.#slotKeys[i]);
      out.push(bytes);
      names.push(this.#slotNames[i]);
    }
    if (missing !== null) {
      throw new InvalidSignature(`${this.owner}: forgot ${missing.join(", ")}`);
    }
    return encodePairs(keys, out, keys.length, names);
  }

  /**
   * The values of a box; keys not in the schema are ignored, as in Twisted.
   *
   * @throws {InvalidSignature} For a missing required key.
   * @throws {Error} What an argument type throws, its message prefixed.
   */
  decode(box: AmpBox): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i];
      const bytes = box.get(field.name);
      if (bytes === undefined) {
        if (field.optional) continue;
        throw new InvalidSignature(`${this.owner}: ${JSON.stringify(field.name)} is missing`);
      }
      try {
        values[field.name] = field.type.decode(bytes);
      } catch (error) {
        throw withContext(error, `${this.owner}: ${JSON.stringify(field.name)}`);
      }
    }
    return values;
  }
}
