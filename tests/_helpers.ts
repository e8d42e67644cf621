// Helpers shared by the tests.

/**
 * Waits for `p`, or fails with "Timed out waiting for `what`" after
 * `seconds`: a test that would hang fails instead, and its timer is cleared
 * either way, so the sanitizers stay quiet.
 */
export function within<T>(seconds: number, p: PromiseLike<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), seconds * 1000);
  });
  return Promise.race([Promise.resolve(p), guard]).finally(() => clearTimeout(timer));
}

/** A port on 127.0.0.1 that was free a moment ago, for a server the test does not start itself. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/**
 * Runs `run` and returns how far the process's RSS rose above its level
 * before it, in MiB: the peak, sampled every 5 ms and once at the end. With
 * `--v8-flags=--expose-gc`, garbage is collected first.
 */
export async function peakRSSGrowth(run: () => Promise<void>): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 5);
  try {
    await run();
    peak = Math.max(peak, Deno.memoryUsage().rss);
  } finally {
    clearInterval(sampler);
  }
  return (peak - before) / 2 ** 20;
}

/** `size` pseudo-random bytes, so a lost, doubled or moved piece shows. */
export function pattern(size: number, seed = 7): Uint8Array {
  const data = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    data[i] = x >> 16;
  }
  return data;
}

/** A stream of `data` in pieces of `size` bytes. */
export function streamOf(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) return controller.close();
      controller.enqueue(data.slice(offset, offset += size));
    },
  });
}

/**
 * Where `actual` first differs from `expected`, repeated as often as it takes
 * (-1 if nowhere; lengths are for the caller to compare): a large body
 * checked without a diff of megabytes.
 */
export function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i % expected.length]) return i;
  }
  return -1;
}
