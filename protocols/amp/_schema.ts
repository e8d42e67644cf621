// A schema compiled for speed: the keys encoded once, the order of keys on
// the wire (sorted byte-wise, as Twisted writes them) worked out once, with
// the protocol's own keys (`_ask`, `_command`, `_answer`) in their places.
import { compareBytes, keyBytes } from "./box.ts";
import { ByteWriter, type RawBox } from "./_raw_box.ts";
import { decodeIntegerAt, Integer, Unicode } from "./basic_arguments.ts";
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
  encode(values: unknown, specials: ReadonlyArray<Uint8Array | string | undefined>): Uint8Array {
    const writer = new ByteWriter();
    this.encodeInto(writer, values, specials);
    return writer.take();
  }

  /**
   * Writes the box into `writer`; on an error, nothing stays written. A
   * string protocol value must be ASCII.
   */
  encodeInto(
    writer: ByteWriter,
    values: unknown,
    specials: ReadonlyArray<Uint8Array | string | undefined>,
  ): void {
    const mark = writer.length;
    try {
      this.#encodeInto(writer, values, specials);
    } catch (error) {
      writer.length = mark;
      throw error;
    }
  }

  #encodeInto(
    writer: ByteWriter,
    values: unknown,
    specials: ReadonlyArray<Uint8Array | string | undefined>,
  ): void {
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
    let missing: string[] | null = null;
    for (let i = 0; i < n; i++) {
      const field = this.#slotFields[i];
      if (field === null) {
        const special = specials[this.#slotSpecials[i]];
        if (special === undefined) continue;
        writer.key(this.#slotKeys[i]);
        if (typeof special === "string") writer.asciiValue(special);
        else writer.value(special, this.#slotNames[i]);
        continue;
      }
      const value = record[field.name];
      if (value === undefined) {
        if (!field.optional) (missing ??= []).push(field.name);
        continue;
      }
      writer.key(this.#slotKeys[i]);
      const type = field.type;
      // The common types write straight into the buffer.
      if (type === Integer && Number.isSafeInteger(value)) {
        writer.asciiValue(String(value));
        continue;
      }
      if (type === Unicode && typeof value === "string" && value.isWellFormed()) {
        writer.utf8Value(value, field.name);
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = type.encode(value);
      } catch (error) {
        throw withContext(error, `${this.owner}: ${JSON.stringify(field.name)}`);
      }
      if (!(bytes instanceof Uint8Array)) {
        throw new TypeError(
          `${this.owner}: ${JSON.stringify(field.name)}: ${type.typeName}.encode ` +
            `returned ${String(bytes)}, not a Uint8Array`,
        );
      }
      writer.value(bytes, field.name);
    }
    if (missing !== null) {
      throw new InvalidSignature(`${this.owner}: forgot ${missing.join(", ")}`);
    }
    writer.end();
  }

  /**
   * The values of a box; keys not in the schema are ignored, as in Twisted.
   *
   * @throws {InvalidSignature} For a missing required key.
   * @throws {Error} What an argument type throws, its message prefixed.
   */
  decode(box: RawBox): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    const fields = this.fields;
    const bytes = box.bytes;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i];
      const at = box.find(field.name);
      if (at < 0) {
        if (field.optional) continue;
        throw new InvalidSignature(`${this.owner}: ${JSON.stringify(field.name)} is missing`);
      }
      try {
        values[field.name] = field.type === Integer
          ? decodeIntegerAt(bytes, box.starts[at], box.ends[at])
          : field.type.decode(bytes.subarray(box.starts[at], box.ends[at]));
      } catch (error) {
        throw withContext(error, `${this.owner}: ${JSON.stringify(field.name)}`);
      }
    }
    return values;
  }
}
