/**
 * The reactor's costs against the raw Deno calls they wrap:
 * scheduling and cancelling 100,000 timed calls, and a round trip to a
 * worker thread.
 *
 * Run with `deno bench --allow-all bench/reactor_bench.ts`.
 */
import { DenoReactor } from "../reactor/deno_reactor.ts";
import { deferToThread } from "../reactor/threads.ts";

const N = 100_000;
const reactor = new DenoReactor();
const noop = (): void => {};

Deno.bench({
  name: "reactor.callLater + cancel x 100,000",
  group: "timers",
  fn() {
    const calls = new Array(N);
    for (let i = 0; i < N; i++) calls[i] = reactor.callLater(60, noop);
    for (let i = 0; i < N; i++) calls[i].cancel();
  },
});

Deno.bench({
  name: "setTimeout + clearTimeout x 100,000",
  group: "timers",
  baseline: true,
  fn() {
    const ids = new Array(N);
    for (let i = 0; i < N; i++) ids[i] = setTimeout(noop, 60_000);
    for (let i = 0; i < N; i++) clearTimeout(ids[i]);
  },
});

const square = (n: number): number => n * n;

// Start a worker before timing, so that the first sample is not its start-up.
// Idle workers do not keep the process alive, so the bench exits by itself.
await deferToThread(square, 1);

Deno.bench({
  name: "deferToThread round trip",
  group: "threads",
  async fn() {
    await deferToThread(square, 3);
  },
});

Deno.bench({
  name: "direct call",
  group: "threads",
  baseline: true,
  fn() {
    square(3);
  },
});
