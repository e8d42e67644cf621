// The get progress bar: its line as a pure function of bytes, total, time and
// width, and when the bar draws (threshold, throttling, \r redraws), on a fake clock.
import assert from "node:assert/strict";
import { formatBytes, formatProgress, ProgressBar } from "../../../application/runner/_progress.ts";

const MiB = 2 ** 20;

Deno.test("formatBytes() gives three significant digits in binary units", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.00 KiB"],
    [1536, "1.50 KiB"],
    [10 * 1024 - 1, "10.0 KiB"],
    [1024 * 1024 - 1, "1.00 MiB"],
    [123.4 * MiB, "123 MiB"],
    [2 ** 30, "1.00 GiB"],
    [2 ** 50, "1024 TiB"],
  ];
  for (const [bytes, text] of cases) assert.equal(formatBytes(bytes), text, String(bytes));
});

Deno.test("formatProgress() with a known length: percentage, bar, bytes, rate, time left", () => {
  assert.equal(
    formatProgress(50 * MiB, 100 * MiB, 2, 80),
    " 50% [=============>              ] 50.0 MiB /  100 MiB  25.0 MiB/s  eta 2s",
  );
  assert.equal(
    formatProgress(0, 100 * MiB, 0, 80),
    "  0% [                            ]      0 B /  100 MiB       0 B/s",
  );
  assert.equal(
    formatProgress(100 * MiB, 100 * MiB, 4, 80),
    "100% [============================]  100 MiB /  100 MiB  25.0 MiB/s",
  );
  assert.match(formatProgress(25 * MiB, 100 * MiB, 60, 80), /eta 3m00s$/);
  assert.match(formatProgress(1, 2 ** 40, 1, 80), /eta >99h$/);
  // An empty body is done; more than announced stays at 100%.
  assert.match(formatProgress(0, 0, 1, 80), /^100% \[=+\]/);
  assert.match(formatProgress(200, 100, 1, 80), /^100% /);
});

Deno.test("formatProgress() keeps the bar's width while the numbers change", () => {
  const bars = [0, 1, 10 * MiB, 99 * MiB].map((n) =>
    /\[(.*)\]/.exec(formatProgress(n, 100 * MiB, 3, 80))![1].length
  );
  assert.deepEqual(new Set(bars).size, 1);
});

Deno.test("formatProgress() fits narrow terminals, dropping the bar, then the time left", () => {
  for (const width of [20, 40, 50, 60, 80, 200]) {
    const line = formatProgress(50 * MiB, 100 * MiB, 2, width);
    assert.ok(line.length <= width - 1, `${width}: ${JSON.stringify(line)}`);
  }
  assert.equal(
    formatProgress(50 * MiB, 100 * MiB, 2, 50),
    " 50% 50.0 MiB /  100 MiB  25.0 MiB/s  eta 2s",
  );
  assert.equal(formatProgress(50 * MiB, 100 * MiB, 2, 40), " 50% 50.0 MiB /  100 MiB  25.0 MiB/s");
  assert.doesNotMatch(formatProgress(50 * MiB, 100 * MiB, 2, 60), /\[/);
  assert.match(formatProgress(50 * MiB, 100 * MiB, 2, 200), /\[={60,}>/);
});

Deno.test("formatProgress() with an unknown length: bytes and rate", () => {
  assert.equal(formatProgress(123 * MiB, undefined, 3, 80), " 123 MiB  41.0 MiB/s");
  assert.equal(formatProgress(5, undefined, 0, 80), "     5 B       0 B/s");
});

Deno.test("ProgressBar draws a large body, throttled, each line over the last", () => {
  let now = 10;
  const out: string[] = [];
  const bar = new ProgressBar((text) => out.push(text), {
    total: 10 * MiB,
    now: () => now,
    width: 80,
  });
  bar.update(MiB);
  assert.equal(out.length, 1);
  assert.match(out[0], /^\r 10% \[/);
  now += 0.05;
  bar.update(MiB); // within 0.1 s: not drawn
  assert.equal(out.length, 1);
  now += 0.05;
  bar.update(MiB);
  assert.equal(out.length, 2);
  assert.match(out[1], /^\r 30% /);
  now += 1;
  bar.update(7 * MiB);
  bar.finish();
  assert.match(out.at(-2)!, /^\r100% \[=+\] 10\.0 MiB \/ 10\.0 MiB/);
  assert.equal(out.at(-1), "\n");
  for (const line of out.slice(0, -1)) assert.ok(!line.includes("\n"));
});

Deno.test("ProgressBar pads a line to cover a longer one before it", () => {
  let now = 0;
  const out: string[] = [];
  const bar = new ProgressBar((text) => out.push(text), { now: () => now, threshold: 0 });
  now = 1;
  bar.update(1000);
  now = 2;
  bar.update(0);
  const [first, second] = out;
  assert.ok(second.length >= first.length, JSON.stringify(out));
});

Deno.test("ProgressBar draws nothing for a small body", async (t) => {
  await t.step("known length under the threshold", () => {
    const out: string[] = [];
    const bar = new ProgressBar((text) => out.push(text), { total: 1000, now: () => 0 });
    bar.update(1000);
    bar.finish();
    bar.abandon();
    assert.deepEqual(out, []);
    assert.equal(bar.shown, false);
  });
  await t.step("unknown length, drawn once the threshold is passed", () => {
    const out: string[] = [];
    let now = 0;
    const bar = new ProgressBar((text) => out.push(text), { now: () => now });
    bar.update(MiB - 1);
    assert.deepEqual(out, []);
    now = 1;
    bar.update(1);
    assert.deepEqual(out, ["\r1.00 MiB  1.00 MiB/s"]);
    bar.abandon();
    assert.equal(out.at(-1), "\n");
  });
});
