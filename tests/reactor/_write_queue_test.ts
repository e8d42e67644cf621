import assert from "node:assert/strict";
import { _WriteQueue } from "../../reactor/_write_queue.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("_WriteQueue joins what was pushed and staged, in order", () => {
  const queue = new _WriteQueue();
  assert.equal(queue.isEmpty, true);
  assert.equal(queue.push("big "), 4);
  assert.equal(queue.stage("é"), 2); // multi-byte UTF-8
  assert.equal(queue.stage(new Uint8Array([0x21])), 1);
  assert.equal(queue.push(new Uint8Array([0x20])), 1);
  assert.equal(queue.stage("x"), 1);
  assert.equal(text(queue.take()), "big é! x");
  assert.equal(queue.isEmpty, true);
});

Deno.test("_WriteQueue: staging after a take starts a new view; taken bytes are never overwritten", () => {
  const queue = new _WriteQueue();
  queue.stage("first");
  const first = queue.take();
  queue.stage("second");
  queue.stage("!");
  assert.equal(text(first), "first");
  assert.equal(text(queue.take()), "second!");
  assert.equal(text(first), "first");
});

Deno.test("_WriteQueue: a staged write larger than the room left gets a new, larger buffer", () => {
  const queue = new _WriteQueue();
  const parts: string[] = [];
  for (let i = 0; i < 50; i++) {
    const part = `${i}:${"y".repeat(i * 97)};`;
    parts.push(part);
    queue.stage(part);
  }
  let got = "";
  while (!queue.isEmpty) got += text(queue.take());
  assert.equal(got, parts.join(""));
});

Deno.test("_WriteQueue.takeAll() gives the chunks as queued, the staged view filled in", () => {
  const queue = new _WriteQueue();
  queue.push("a");
  queue.stage("b");
  queue.stage("c");
  assert.deepEqual(queue.takeAll().map(text), ["a", "bc"]);
  assert.equal(queue.isEmpty, true);
  queue.stage("d");
  assert.equal(text(queue.take()), "d");
});

Deno.test("_WriteQueue.clear() forgets everything", () => {
  const queue = new _WriteQueue();
  queue.push("a");
  queue.stage("b");
  queue.clear();
  assert.equal(queue.isEmpty, true);
  queue.stage("c");
  assert.equal(text(queue.take()), "c");
});
