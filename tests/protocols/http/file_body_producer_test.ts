// FileBodyProducer on its own, with a StringTransport as its consumer: bytes,
// files and streams, lengths, pause and resume, stop, and bad input.
import assert from "node:assert/strict";
import { CancelledError, type Deferred } from "../../../defer/mod.ts";
import { FileBodyProducer, UNKNOWN_LENGTH } from "../../../protocols/mod.ts";
import { StringTransport } from "../../../testing/mod.ts";

const encoder = new TextEncoder();

/** A consumer that records each write, and pauses its producer after each if asked. */
class Recorder extends StringTransport {
  writes: string[] = [];
  pauseEach = false;
  producerToPause: { pauseProducing(): void } | null = null;
  override write(data: Uint8Array | string): void {
    super.write(data);
    this.writes.push(typeof data === "string" ? data : new TextDecoder().decode(data));
    if (this.pauseEach) this.producerToPause?.pauseProducing();
  }
}

function state(d: Deferred<unknown>): string {
  let result = "waiting";
  d.addCallbacks(() => {
    result = "done";
  }, (f) => {
    result = `failed: ${f.getErrorMessage()}`;
  });
  return result;
}

async function tempFile(content: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "torsion-body-" });
  await Deno.writeTextFile(path, content);
  return path;
}

Deno.test("FileBodyProducer writes bytes in readSize pieces, pausing and resuming", () => {
  const producer = new FileBodyProducer(encoder.encode("abcdefghij"), { readSize: 4 });
  assert.equal(producer.length, 10);
  const consumer = new Recorder();
  consumer.pauseEach = true;
  consumer.producerToPause = producer;
  const d = producer.startProducing(consumer);
  assert.deepEqual(consumer.writes, ["abcd"]);
  assert.equal(state(d), "waiting");
  producer.resumeProducing();
  assert.deepEqual(consumer.writes, ["abcd", "efgh"]);
  consumer.pauseEach = false;
  producer.resumeProducing();
  assert.deepEqual(consumer.writes, ["abcd", "efgh", "ij"]);
  assert.equal(state(d), "done");
});

Deno.test("FileBodyProducer sends a string as UTF-8 and an empty body at once", () => {
  const producer = new FileBodyProducer("é!");
  assert.equal(producer.length, 3);
  const consumer = new StringTransport();
  assert.equal(state(producer.startProducing(consumer)), "done");
  assert.equal(consumer.valueString(), "é!");
  const empty = new FileBodyProducer("");
  assert.equal(state(empty.startProducing(new StringTransport())), "done");
});

Deno.test("FileBodyProducer reads a file from its position, and closes it", async () => {
  const path = await tempFile("0123456789".repeat(1000));
  try {
    const file = await Deno.open(path);
    await file.seek(5, Deno.SeekMode.Start);
    const producer = new FileBodyProducer(file, { readSize: 1000 });
    assert.equal(producer.length, 9995);
    const consumer = new Recorder();
    await producer.startProducing(consumer);
    assert.equal(consumer.valueString(), "0123456789".repeat(1000).slice(5));
    assert.equal(consumer.writes.length, 10);
    // The file is closed: the sanitizer would see it otherwise, and reads fail.
    assert.throws(() => file.readSync(new Uint8Array(1)), Deno.errors.BadResource);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("FileBodyProducer pauses between file reads and resumes", async () => {
  const path = await tempFile("x".repeat(300));
  try {
    const producer = new FileBodyProducer(await Deno.open(path), { readSize: 100 });
    const consumer = new Recorder();
    consumer.pauseEach = true;
    consumer.producerToPause = producer;
    const d = producer.startProducing(consumer);
    // Give the reads every chance to run on: the pause holds them.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(consumer.writes.length, 1);
    consumer.pauseEach = false;
    producer.resumeProducing();
    await d;
    assert.equal(consumer.value().length, 300);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("FileBodyProducer stopped closes its file and never fires", async () => {
  const path = await tempFile("y".repeat(1000));
  try {
    const file = await Deno.open(path);
    const producer = new FileBodyProducer(file, { readSize: 10 });
    const consumer = new StringTransport();
    const d = producer.startProducing(consumer);
    producer.stopProducing();
    // The read in flight finishes, then the file is closed.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(state(d), "waiting");
    assert.equal(consumer.value().length, 0);
    assert.throws(() => file.readSync(new Uint8Array(1)), Deno.errors.BadResource);

    // Stopped before it starts: closed at once.
    const other = await Deno.open(path);
    new FileBodyProducer(other).stopProducing();
    assert.throws(() => other.readSync(new Uint8Array(1)), Deno.errors.BadResource);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("FileBodyProducer of a non-regular file has an unknown length", async () => {
  const producer = new FileBodyProducer(await Deno.open("/dev/null"));
  assert.equal(producer.length, UNKNOWN_LENGTH);
  const consumer = new StringTransport();
  await producer.startProducing(consumer);
  assert.equal(consumer.value().length, 0);
});

Deno.test("FileBodyProducer reads a stream, of unknown or given length", async (t) => {
  const stream = (parts: string[]) =>
    new ReadableStream<Uint8Array>({
      pull(controller) {
        const part = parts.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(encoder.encode(part));
      },
    });
  await t.step("unknown length", async () => {
    const producer = new FileBodyProducer(stream(["ab", "", "cd"]));
    assert.equal(producer.length, UNKNOWN_LENGTH);
    const consumer = new Recorder();
    await producer.startProducing(consumer);
    assert.deepEqual(consumer.writes, ["ab", "cd"]);
  });
  await t.step("given length", () => {
    assert.equal(new FileBodyProducer(stream([]), { length: 4 }).length, 4);
  });
  await t.step("stopping cancels the stream, even in a pending read", async () => {
    let cancelled: unknown = "no";
    const endless = new ReadableStream<Uint8Array>({
      cancel(reason) {
        cancelled = reason;
      },
    });
    const producer = new FileBodyProducer(endless);
    const d = producer.startProducing(new StringTransport());
    await new Promise((resolve) => setTimeout(resolve, 1));
    producer.stopProducing();
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(cancelled, undefined);
    assert.equal(state(d), "waiting");
  });
  await t.step("a chunk that is not bytes fails it", async () => {
    const bad = new ReadableStream<unknown>({
      start(controller) {
        controller.enqueue("text");
      },
    }) as ReadableStream<Uint8Array>;
    const d = new FileBodyProducer(bad).startProducing(new StringTransport());
    await assert.rejects(d.asPromise(), /Uint8Array chunks, not string/);
  });
});

Deno.test("FileBodyProducer cancelled stops", () => {
  const producer = new FileBodyProducer("abcdef", { readSize: 2 });
  const consumer = new Recorder();
  consumer.pauseEach = true;
  consumer.producerToPause = producer;
  const d = producer.startProducing(consumer);
  let error: unknown;
  d.addErrback((f) => {
    error = f.value;
  });
  d.cancel();
  assert.ok(error instanceof CancelledError);
  producer.resumeProducing();
  assert.deepEqual(consumer.writes, ["ab"]);
});

Deno.test("FileBodyProducer rejects bad input and a second start", () => {
  assert.throws(() => new FileBodyProducer(42 as never), TypeError);
  assert.throws(() => new FileBodyProducer("x", { readSize: 0 }), RangeError);
  assert.throws(() => new FileBodyProducer("x", { length: -1 }), RangeError);
  const producer = new FileBodyProducer("x");
  producer.startProducing(new StringTransport());
  assert.throws(() => producer.startProducing(new StringTransport()), /started already/);
});
