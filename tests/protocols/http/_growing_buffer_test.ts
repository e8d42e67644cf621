import assert from "node:assert/strict";
import { GrowingBuffer } from "../../../protocols/http/_growing_buffer.ts";

Deno.test("GrowingBuffer gathers pieces of any size into one array of its own", async (t) => {
  for (const expected of [undefined, 0, 3, 10, 1000]) {
    await t.step(`expecting ${expected}`, () => {
      const buffer = new GrowingBuffer(expected);
      const want: number[] = [];
      for (let i = 0; i < 3000; i++) {
        const piece = new Uint8Array(i % 7).fill(i & 0xff);
        buffer.append(piece);
        want.push(...piece);
      }
      assert.equal(buffer.length, want.length);
      const bytes = buffer.take();
      assert.deepEqual([...bytes], want);
      assert.equal(bytes.byteOffset, 0);
      assert.equal(bytes.buffer.byteLength, want.length, "no spare room");
      assert.equal(buffer.length, 0, "take() empties it");
      assert.equal(buffer.take().length, 0);
    });
  }
});

Deno.test("GrowingBuffer copies what it is given", () => {
  const buffer = new GrowingBuffer();
  const piece = new Uint8Array([1, 2, 3]);
  buffer.append(piece);
  piece.fill(9);
  assert.deepEqual([...buffer.take()], [1, 2, 3]);
});

Deno.test("GrowingBuffer returns a reserved buffer as it is when it is filled exactly", () => {
  const buffer = new GrowingBuffer(4);
  buffer.append(new Uint8Array([1, 2]));
  buffer.append(new Uint8Array([3, 4]));
  const bytes = buffer.take();
  assert.deepEqual([...bytes], [1, 2, 3, 4]);
  assert.equal(bytes.buffer.byteLength, 4);
});
