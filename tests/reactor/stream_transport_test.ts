import assert from "node:assert/strict";
import type { Failure } from "../../defer/mod.ts";
import { ConnectionDone } from "../../reactor/connection_errors.ts";
import type { Transport } from "../../reactor/interfaces.ts";
import { listenTCP } from "../../reactor/tcp.ts";
import { within } from "../_helpers.ts";

/** Keeps every chunk it is given, uncopied, as a write queue would. */
class Keeper {
  transport: Transport | null = null;
  chunks: Uint8Array[] = [];
  #lost = Promise.withResolvers<Failure>();
  lost: Promise<Failure> = this.#lost.promise;
  makeConnection(t: Transport): void {
    this.transport = t;
  }
  dataReceived(data: Uint8Array): void {
    this.chunks.push(data);
  }
  connectionLost(reason: Failure): void {
    this.#lost.resolve(reason);
  }
}

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`message ${i} ${"x".repeat(i % 50)};`);
}

Deno.test("StreamTransport: chunks given to dataReceived are never overwritten by later reads", async () => {
  const keeper = new Keeper();
  const port = listenTCP(0, { buildProtocol: () => keeper, doStart() {}, doStop() {} }, {
    interface: "127.0.0.1",
  });
  const expected: Uint8Array[] = [];
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: port.getHost().port });
    try {
      // Small writes, each awaited, so the server sees many small reads.
      for (let i = 0; i < 2000; i++) {
        const m = message(i);
        expected.push(m);
        for (let done = 0; done < m.length;) done += await conn.write(m.subarray(done));
        if (i % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      // Then a burst big enough to fill whole buffers and grow them.
      const big = new Uint8Array(512 * 1024).map((_, i) => (i * 7) & 0xff);
      expected.push(big);
      for (let done = 0; done < big.length;) done += await conn.write(big.subarray(done));
    } finally {
      conn.close();
    }
    const reason = await within(10, keeper.lost, "the connection to end");
    assert.ok(reason.check(ConnectionDone));
  } finally {
    await port.stopListening();
  }
  const total = expected.reduce((n, m) => n + m.length, 0);
  const want = new Uint8Array(total);
  let at = 0;
  for (const m of expected) {
    want.set(m, at);
    at += m.length;
  }
  const got = new Uint8Array(keeper.chunks.reduce((n, c) => n + c.length, 0));
  at = 0;
  for (const c of keeper.chunks) {
    got.set(c, at);
    at += c.length;
  }
  assert.equal(got.length, want.length);
  // The first difference, not a diff of two large arrays.
  const firstDifference = want.findIndex((byte, i) => got[i] !== byte);
  assert.equal(firstDifference, -1, "every kept chunk still holds what was read into it");
  // Small reads share a buffer rather than each being copied into its own.
  const buffers = new Set(keeper.chunks.map((c) => c.buffer));
  assert.ok(
    buffers.size < keeper.chunks.length,
    `${keeper.chunks.length} chunks in ${buffers.size} buffers`,
  );
});
