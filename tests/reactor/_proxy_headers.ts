// Building PROXY protocol headers, and feeding a parser in every split.
import type { ProxyHeaderResult } from "../../reactor/proxy_info.ts";

export const SIGNATURE = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);

const encoder = new TextEncoder();

export function text(s: string): Uint8Array {
  return encoder.encode(s);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A version 2 header: version/command byte, family byte, address block, TLVs. */
export function v2(verCmd: number, fam: number, block: Uint8Array | number[] = []): Uint8Array {
  const body = block instanceof Uint8Array ? block : new Uint8Array(block);
  return concat(
    SIGNATURE,
    new Uint8Array([verCmd, fam, body.length >> 8, body.length & 0xff]),
    body,
  );
}

export function tlv(type: number, value: number[]): number[] {
  return [type, value.length >> 8, value.length & 0xff, ...value];
}

export function u16(n: number): number[] {
  return [n >> 8, n & 0xff];
}

export function unixPath(path: string): number[] {
  const out = new Array<number>(108).fill(0);
  encoder.encode(path).forEach((b, i) => (out[i] = b));
  return out;
}

/** What a parser gives for a stream fed in `chunks`: the result and every byte after the header. */
export function feedChunks(
  parser: { feed(data: Uint8Array): ProxyHeaderResult | null },
  chunks: Uint8Array[],
): { result: ProxyHeaderResult | null; after: Uint8Array } {
  let result: ProxyHeaderResult | null = null;
  const after: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (result !== null) after.push(chunk);
    else {
      result = parser.feed(chunk);
      if (result !== null) after.push(result.rest.slice());
    }
  }
  return { result, after: concat(...after) };
}

/** Every way to cut `stream` into two pieces, then into three, then one byte at a time. */
export function* splits(stream: Uint8Array, three = true): Generator<Uint8Array[]> {
  const n = stream.length;
  for (let i = 0; i <= n; i++) yield [stream.slice(0, i), stream.slice(i)];
  if (three) {
    for (let i = 1; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        yield [stream.slice(0, i), stream.slice(i, j), stream.slice(j)];
      }
    }
  }
  yield Array.from(stream, (b) => new Uint8Array([b]));
}
