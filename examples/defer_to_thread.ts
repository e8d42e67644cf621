// deferToThread: run a blocking computation in a worker while the reactor
// keeps ticking. The function is sent to the worker as source text, so it
// must be self-contained: no variables from outside it.
//
//   deno run -A examples/defer_to_thread.ts [N]    (default 30)
import { deferToThread, LoopingCall, react } from "../mod.ts";

function slowFibonacci(n: number): number {
  return n < 2 ? n : slowFibonacci(n - 1) + slowFibonacci(n - 2);
}

react(async (reactor, ...args: string[]) => {
  const n = args[0] ?? "30";
  let ticks = 0;
  const ticker = new LoopingCall(() => ticks++);
  ticker.clock = reactor;
  ticker.start(0.01);
  const result = await deferToThread(slowFibonacci, Number(n));
  ticker.stop();
  console.log(`fibonacci(${n}) = ${result}`);
  console.log(`the reactor ticked ${ticks} times meanwhile`);
}, Deno.args);
