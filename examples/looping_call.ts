// LoopingCall: call a function every interval, and stop after a few calls.
// start() returns a Deferred that fires when the loop is stopped.
//
//   deno run -A examples/looping_call.ts [COUNT] [INTERVAL]   (default 5 calls, 0.1 s)
import { LoopingCall, react } from "../mod.ts";

react(async (reactor, ...args: string[]) => {
  const [count = "5", interval = "0.1"] = args;
  const started = reactor.seconds();
  let calls = 0;
  const loop = new LoopingCall(() => {
    calls++;
    console.log(`call ${calls} at ${(reactor.seconds() - started).toFixed(2)} s`);
    if (calls === Number(count)) loop.stop();
  });
  loop.clock = reactor;
  await loop.start(Number(interval));
  console.log("stopped");
}, Deno.args);
