// Byte helpers shared by the fakes of the testing kit. Not exported from
// testing/mod.ts.

const encoder = new TextEncoder();

/** The class name of `value`, for messages. */
export function nameOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object" && typeof value !== "function") return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" ? name : "object";
}

/**
 * `data` as bytes: a string is encoded as UTF-8, a Uint8Array is returned
 * as it is.
 *
 * @throws {TypeError} For anything else, as real transports do.
 */
export function toBytes(data: unknown): Uint8Array {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`Data must be a Uint8Array or a string, not ${nameOf(data)}`);
}

/** The chunks joined into one new Uint8Array. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
