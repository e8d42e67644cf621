// A short tour of torsion on the real reactor: run with `deno run -A examples/defer_tour.ts`.
//
// It starts a ticking LoopingCall, runs three jobs in parallel (a timer, a
// CPU-bound function in a worker thread, and a slow job that is cancelled by
// a timeout), gathers their results, and stops. Everything is written with
// inlineCallbacks, so it reads top to bottom.
import {
  deferLater,
  deferToThread,
  type DenoReactor,
  type Failure,
  gatherResults,
  inlineCallbacks,
  LoopingCall,
  react,
  TimeoutError,
} from "../mod.ts";

const started = performance.now();
const log = (message: string): void =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(3)}s] ${message}`);

// Runs in a worker: it must be self-contained (no outer variables).
function fibonacci(n: number): number {
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) [a, b] = [b, (a + b) % 1_000_000_007];
  return a;
}

const main = inlineCallbacks(function* (reactor: DenoReactor) {
  let ticks = 0;
  const ticker = new LoopingCall(() => log(`tick ${++ticks}`));
  ticker.clock = reactor;
  ticker.start(0.1);

  log("starting three jobs");
  const timer = deferLater(reactor, 0.25, () => "timer done after 0.25 s");
  const thread = deferToThread(fibonacci, 5_000_000)
    .addCallback((n) => `fibonacci(5,000,000) mod 1e9+7 = ${n}, computed in a worker`);
  const slow = deferLater(reactor, 10, () => "never")
    .addTimeout(0.4, reactor)
    .addErrback((failure: Failure) => {
      failure.trap(TimeoutError);
      return "slow job cancelled by its 0.4 s timeout";
    });

  const results = yield* gatherResults<string>([timer, thread, slow]);
  for (const line of results) log(line);

  ticker.stop();
  log(`done after ${ticks} ticks; the reactor now runs its shutdown triggers`);
});

react(main);
