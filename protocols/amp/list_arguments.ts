// AMP's list argument types: ListOf (values of one type, each 16-bit length
// prefixed) and AmpList (records, each a whole box), nestable.
import {
  type ArgumentType,
  checkArgumentType,
  type Inputs,
  type Schema,
  type Values,
} from "./argument.ts";
import { checkedRawBoxes, MAX_VALUE_LENGTH } from "./box.ts";
import { SchemaCodec } from "./_schema.ts";
import { TooLong } from "./errors.ts";

function join(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A list of values of one type: Twisted's `ListOf`. On the wire each element
 * is its type's bytes prefixed with a 16-bit big-endian length, one after the
 * other, and the whole list is one value, so it must fit in 65,535 bytes.
 *
 * Divergences from Twisted: any argument type may be the element type
 * (Twisted's `ListOf(AmpList(...))` does not work); bytes that end inside an
 * element are a `TypeError` (Twisted drops them silently).
 *
 * @param element The type of every element (not optional).
 * @returns The list type.
 * @throws {TypeError} If `element` is not an argument type, or is optional.
 *
 * @example
 * ```ts
 * import { Integer, ListOf } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const Numbers = ListOf(Integer);
 * assert.deepEqual([...Numbers.encode([1, 23])], [0, 1, 49, 0, 2, 50, 51]);
 * assert.deepEqual(Numbers.decode(Numbers.encode([1, 23])), [1, 23]);
 * ```
 */
export function ListOf<T, In>(element: ArgumentType<T, In>): ArgumentType<T[], readonly In[]> {
  checkArgumentType(element, "ListOf()");
  if ((element as { optional?: unknown }).optional === true) {
    throw new TypeError("ListOf() needs a type that is not optional");
  }
  const typeName = `ListOf(${element.typeName})`;
  return {
    typeName,
    encode(values: readonly In[]): Uint8Array {
      if (!Array.isArray(values)) {
        throw new TypeError(`Bad ${typeName} value: ${String(values)} is not an array`);
      }
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < values.length; i++) {
        const bytes = element.encode(values[i]);
        if (bytes.length > MAX_VALUE_LENGTH) {
          throw new TooLong({ isKey: false, isLocal: true, length: bytes.length });
        }
        parts.push(Uint8Array.of(bytes.length >> 8, bytes.length & 0xff), bytes);
        total += 2 + bytes.length;
      }
      return join(parts, total);
    },
    decode(bytes: Uint8Array): T[] {
      const out: T[] = [];
      let at = 0;
      while (at < bytes.length) {
        if (at + 2 > bytes.length) {
          throw new TypeError(`Bad ${typeName} value: it ends inside a length prefix`);
        }
        const length = (bytes[at] << 8) | bytes[at + 1];
        if (at + 2 + length > bytes.length) {
          throw new TypeError(
            `Bad ${typeName} value: element ${out.length} needs ${length} bytes, ` +
              `${bytes.length - at - 2} are left`,
          );
        }
        out.push(element.decode(bytes.subarray(at + 2, at + 2 + length)));
        at += 2 + length;
      }
      return out;
    },
  };
}

/**
 * A list of records, each sent as a whole AMP box: Twisted's `AmpList`. The
 * schema is like a command's (names to argument types, `optional()` allowed,
 * `AmpList` and `ListOf` nest), and the whole list is one value, so it must
 * fit in 65,535 bytes.
 *
 * Divergence from Twisted: bytes that end inside a box are an error (Twisted
 * drops them silently).
 *
 * @param schema Field names to argument types.
 * @returns The list type.
 * @throws {TypeError} If the schema is not names to argument types.
 *
 * @example
 * ```ts
 * import { AmpList, Integer, Unicode } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const People = AmpList({ name: Unicode, age: Integer });
 * const bytes = People.encode([{ name: "Ada", age: 36 }]);
 * assert.deepEqual(People.decode(bytes), [{ name: "Ada", age: 36 }]);
 * ```
 */
export function AmpList<S extends Schema>(
  schema: S,
): ArgumentType<Values<S>[], readonly Inputs<S>[]> {
  const names = Object.keys(schema ?? {}).join(", ");
  const typeName = `AmpList({ ${names} })`;
  const codec = new SchemaCodec(schema, [], `${typeName} fields`);
  return {
    typeName,
    encode(values: readonly Inputs<S>[]): Uint8Array {
      if (!Array.isArray(values)) {
        throw new TypeError(`Bad ${typeName} value: ${String(values)} is not an array`);
      }
      const parts: Uint8Array[] = [];
      let total = 0;
      for (const value of values) {
        const box = codec.encode(value, []);
        parts.push(box);
        total += box.length;
      }
      return join(parts, total);
    },
    decode(bytes: Uint8Array): Values<S>[] {
      let boxes;
      try {
        boxes = checkedRawBoxes(bytes);
      } catch (error) {
        throw new TypeError(`Bad ${typeName} value: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return boxes.map((box) => codec.decode(box) as Values<S>);
    },
  };
}
