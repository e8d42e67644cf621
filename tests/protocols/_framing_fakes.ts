// A fake transport for the framing tests, and helpers to feed a parser the same
// stream in many chunkings.
import type { Address, Producer, Transport } from "../../reactor/interfaces.ts";

const encoder = new TextEncoder();

/** Records writes; `loseConnection` sets `disconnecting`; counts producer calls. */
export class FramingTransport implements Transport {
  writes: Uint8Array[] = [];
  disconnecting = false;
  loseConnectionCalls = 0;
  paused = false;
  pauseCalls = 0;
  resumeCalls = 0;
  stopCalls = 0;
  producer: Producer | null = null;
  streaming: boolean | null = null;

  write(data: Uint8Array | string): void {
    this.writes.push(typeof data === "string" ? encoder.encode(data) : data.slice());
  }
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    for (const chunk of chunks) this.write(chunk);
  }
  /** Everything written, as one array. */
  value(): Uint8Array {
    return concat(this.writes);
  }
  loseConnection(): void {
    this.loseConnectionCalls++;
    this.disconnecting = true;
  }
  abortConnection(): void {
    this.loseConnection();
  }
  loseWriteConnection(): void {}
  getPeer(): Address {
    return { type: "TCP", host: "127.0.0.1", port: 2 };
  }
  getHost(): Address {
    return { type: "TCP", host: "127.0.0.1", port: 1 };
  }
  registerProducer(producer: Producer, streaming: boolean): void {
    this.producer = producer;
    this.streaming = streaming;
  }
  unregisterProducer(): void {
    this.producer = null;
    this.streaming = null;
  }
  pauseProducing(): void {
    this.pauseCalls++;
    this.paused = true;
  }
  resumeProducing(): void {
    this.resumeCalls++;
    this.paused = false;
  }
  stopProducing(): void {
    this.stopCalls++;
  }
}

export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Bytes from a string of code points 0-255 (one byte each). */
export function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** A small seeded PRNG (mulberry32): returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi]. */
export function randInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** Cuts `stream` into pieces of `size` bytes (the last may be shorter). */
export function fixedChunks(stream: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += size) out.push(stream.slice(i, i + size));
  return out;
}

/** Cuts `stream` at random places; pieces of 1 to `maxSize` bytes. */
export function randomChunks(
  stream: Uint8Array,
  random: () => number,
  maxSize = 16,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < stream.length) {
    const n = randInt(random, 1, maxSize);
    out.push(stream.slice(i, i + n));
    i += n;
  }
  return out;
}

/**
 * Every chunking the tests use: sizes 1 to 16, the whole stream at once, and
 * `randomCount` seeded random ones.
 */
export function chunkings(
  stream: Uint8Array,
  seed: number,
  randomCount = 32,
): Array<{ name: string; chunks: Uint8Array[] }> {
  const out: Array<{ name: string; chunks: Uint8Array[] }> = [];
  for (let size = 1; size <= 16; size++) {
    out.push({ name: `size ${size}`, chunks: fixedChunks(stream, size) });
  }
  out.push({ name: "whole", chunks: [stream.slice()] });
  const random = rng(seed);
  for (let i = 0; i < randomCount; i++) {
    out.push({
      name: `random #${i}`,
      chunks: randomChunks(stream, random, randInt(random, 2, 64)),
    });
  }
  return out;
}

/**
 * Feeds the chunks, then one empty chunk, as a transport would; stops once the
 * transport is disconnecting, since a real transport stops reading then.
 */
export function feed(
  protocol: { dataReceived(data: Uint8Array): unknown },
  transport: FramingTransport,
  chunks: Uint8Array[],
): void {
  for (const chunk of chunks) {
    if (transport.disconnecting) return;
    protocol.dataReceived(chunk);
  }
  if (!transport.disconnecting) protocol.dataReceived(new Uint8Array(0));
}
