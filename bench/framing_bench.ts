// Framing throughput: LineReceiver on 64-byte lines (MB/s = 1 MiB / time per
// iteration) and Int32StringReceiver on 64-byte frames (messages/s = 16384 /
// time per iteration). bench/framing_twisted.py runs the same workloads on
// Twisted. Run with `deno bench --allow-all bench/framing_bench.ts`.
import {
  Int32StringReceiver,
  LineOnlyReceiver,
  LineReceiver,
  NetstringReceiver,
} from "../protocols/mod.ts";

const MiB = 1024 * 1024;
const LINE = 64; // bytes per line, delimiter included
const LINES = MiB / LINE;

/** 1 MiB of 64-byte "\r\n"-terminated lines. */
function lineStream(): Uint8Array {
  const line = new TextEncoder().encode("x".repeat(LINE - 2) + "\r\n");
  const out = new Uint8Array(MiB);
  for (let i = 0; i < LINES; i++) out.set(line, i * LINE);
  return out;
}

/** 1 MiB of Int32-prefixed 60-byte strings (64 bytes per frame). */
function int32Stream(): Uint8Array {
  const out = new Uint8Array(MiB);
  for (let i = 0; i < LINES; i++) {
    out.set([0, 0, 0, LINE - 4], i * LINE);
    out.fill(0x79, i * LINE + 4, (i + 1) * LINE);
  }
  return out;
}

/** 1 MiB of netstrings "60:<60 bytes>," (64 bytes each). */
function netstringStream(): Uint8Array {
  const frame = new TextEncoder().encode(`60:${"z".repeat(60)},`);
  const out = new Uint8Array(MiB);
  for (let i = 0; i < LINES; i++) out.set(frame, i * LINE);
  return out;
}

function chunks(stream: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += size) out.push(stream.subarray(i, i + size));
  return out;
}

let count = 0;

class Lines extends LineReceiver {
  override lineReceived(_line: string): void {
    count++;
  }
}
class OnlyLines extends LineOnlyReceiver {
  override lineReceived(_line: string): void {
    count++;
  }
}
class Strings extends Int32StringReceiver {
  override stringReceived(_s: Uint8Array): void {
    count++;
  }
}
class Netstrings extends NetstringReceiver {
  override stringReceived(_s: Uint8Array): void {
    count++;
  }
}

function check(expected: number): void {
  if (count !== expected) throw new Error(`Parsed ${count} messages, expected ${expected}`);
  count = 0;
}

const lines = lineStream();
const lines1M = [lines];
const lines64K = chunks(lines, 64 * 1024);
// Odd-sized reads, so lines straddle chunk boundaries.
const lines1500 = chunks(lines, 1500);
const frames = int32Stream();
const frames1M = [frames];
const frames64K = chunks(frames, 64 * 1024);
const netstrings64K = chunks(netstringStream(), 64 * 1024);

function run(protocol: { dataReceived(d: Uint8Array): unknown }, input: Uint8Array[]): void {
  for (const chunk of input) protocol.dataReceived(chunk);
  check(LINES);
}

Deno.bench({
  name: "LineReceiver: 1 MiB of 64-byte lines, one 1 MiB chunk",
  group: "lines",
  baseline: true,
  fn: () => run(new Lines(), lines1M),
});
Deno.bench({
  name: "LineReceiver: 1 MiB of 64-byte lines, 64 KiB chunks",
  group: "lines",
  fn: () => run(new Lines(), lines64K),
});
Deno.bench({
  name: "LineReceiver: 1 MiB of 64-byte lines, 1500-byte chunks",
  group: "lines",
  fn: () => run(new Lines(), lines1500),
});
Deno.bench({
  name: "LineOnlyReceiver: 1 MiB of 64-byte lines, 64 KiB chunks",
  group: "lines",
  fn: () => run(new OnlyLines(), lines64K),
});
Deno.bench({
  name: "Int32StringReceiver: 16384 messages of 60 bytes, one 1 MiB chunk",
  group: "strings",
  baseline: true,
  fn: () => run(new Strings(), frames1M),
});
Deno.bench({
  name: "Int32StringReceiver: 16384 messages of 60 bytes, 64 KiB chunks",
  group: "strings",
  fn: () => run(new Strings(), frames64K),
});
Deno.bench({
  name: "NetstringReceiver: 16384 netstrings of 60 bytes, 64 KiB chunks",
  group: "strings",
  fn: () => run(new Netstrings(), netstrings64K),
});
