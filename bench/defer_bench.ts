// Micro costs of the callback chain against the Promise machinery it stands
// in for. Run with `deno task bench` (or `deno bench bench/defer_bench.ts`;
// add `--json` for figures a script can read, as bench/report.ts does).
import { Deferred, inlineCallbacks, succeed } from "../defer/mod.ts";
import { reactor } from "../reactor/mod.ts";

const inc = (n: number): number => n + 1;
let sink = 0;

Deno.bench({
  name: "plain calls: 10 synchronous steps",
  group: "chain of 10",
  fn() {
    let n = 0;
    for (let i = 0; i < 10; i++) n = inc(n);
    sink += n;
  },
});

Deno.bench({
  name: "Deferred: 10 callbacks, then callback()",
  group: "chain of 10",
  baseline: true,
  fn() {
    const d = new Deferred<number>();
    d.addCallback(inc).addCallback(inc).addCallback(inc).addCallback(inc).addCallback(inc)
      .addCallback(inc).addCallback(inc).addCallback(inc).addCallback(inc).addCallback(inc)
      .addCallback((n) => {
        sink += n;
      });
    d.callback(0);
  },
});

Deno.bench({
  name: "Promise: 10 .then() steps, awaited",
  group: "chain of 10",
  async fn() {
    sink += await Promise.resolve(0).then(inc).then(inc).then(inc).then(inc).then(inc)
      .then(inc).then(inc).then(inc).then(inc).then(inc);
  },
});

// Each side makes its own ten settled inputs inside the timed function:
// fired Deferreds for inlineCallbacks, resolved Promises for async/await.
const tenYields = inlineCallbacks(function* () {
  let total = 0;
  for (let i = 0; i < 10; i++) total += (yield succeed(i)) as number;
  return total;
});

const tenTypedYields = inlineCallbacks(function* () {
  let total = 0;
  for (let i = 0; i < 10; i++) total += yield* succeed(i);
  return total;
});

Deno.bench({
  name: "inlineCallbacks: 10 yields of fired Deferreds",
  group: "10 waits",
  baseline: true,
  fn() {
    tenYields().addCallback((n) => {
      sink += n;
    });
  },
});

Deno.bench({
  name: "inlineCallbacks: 10 yield* of fired Deferreds",
  group: "10 waits",
  fn() {
    tenTypedYields().addCallback((n) => {
      sink += n;
    });
  },
});

async function tenAwaits(): Promise<number> {
  let total = 0;
  for (let i = 0; i < 10; i++) total += await Promise.resolve(i);
  return total;
}

Deno.bench({
  name: "async function: 10 awaits of resolved Promises",
  group: "10 waits",
  async fn() {
    sink += await tenAwaits();
  },
});

async function tenDeferredAwaits(): Promise<number> {
  let total = 0;
  for (let i = 0; i < 10; i++) total += await succeed(i);
  return total;
}

Deno.bench({
  name: "async function: 10 awaits of fired Deferreds",
  group: "10 waits",
  async fn() {
    sink += await tenDeferredAwaits();
  },
});

Deno.bench({
  name: "await of a fired Deferred",
  group: "await",
  async fn() {
    sink += await succeed(1);
  },
});

Deno.bench({
  name: "await of a resolved Promise",
  group: "await",
  baseline: true,
  async fn() {
    sink += await Promise.resolve(1);
  },
});

// Waiting on events the reactor delivers: each side waits ten times, one
// after another, for a call made through `reactor.callFromThread` (the
// reactor's cheapest event: one microtask, so that what differs shows, not a
// timer's millisecond). inlineCallbacks resumes synchronously inside
// `d.callback`; the async function resumes in a further microtask after
// `resolve`.
const tenReactorYields = inlineCallbacks(function* () {
  let total = 0;
  for (let i = 0; i < 10; i++) {
    const d = new Deferred<number>();
    reactor.callFromThread(d.callback, i);
    total += (yield d) as number;
  }
  return total;
});

Deno.bench({
  name: "inlineCallbacks: 10 waits on Deferreds the reactor fires",
  group: "10 waits on reactor events",
  baseline: true,
  async fn() {
    sink += await tenReactorYields().asPromise();
  },
});

async function tenReactorAwaits(): Promise<number> {
  let total = 0;
  for (let i = 0; i < 10; i++) {
    total += await new Promise<number>((resolve) => reactor.callFromThread(resolve, i));
  }
  return total;
}

Deno.bench({
  name: "async function: 10 awaits of Promises the reactor resolves",
  group: "10 waits on reactor events",
  async fn() {
    sink += await tenReactorAwaits();
  },
});

// The everyday Deno form: an async function awaiting Deferreds that the
// reactor fires later, against awaiting Promises (above).
async function tenReactorDeferredAwaits(): Promise<number> {
  let total = 0;
  for (let i = 0; i < 10; i++) {
    const d = new Deferred<number>();
    reactor.callFromThread(d.callback, i);
    total += await d;
  }
  return total;
}

Deno.bench({
  name: "async function: 10 awaits of Deferreds the reactor fires",
  group: "10 waits on reactor events",
  async fn() {
    sink += await tenReactorDeferredAwaits();
  },
});

// What making a Deferred costs, alone and fired: the floor under every chain,
// beside the plain object it should cost no more than.
let held: unknown = null;

Deno.bench({
  name: "a plain object of three fields",
  group: "creation",
  fn() {
    held = { state: 0, result: undefined, callbacks: null };
  },
});

Deno.bench({
  name: "new Deferred()",
  group: "creation",
  baseline: true,
  fn() {
    held = new Deferred<number>();
  },
});

Deno.bench({
  name: "succeed(1)",
  group: "creation",
  fn() {
    held = succeed(1);
  },
});

Deno.bench({
  name: "new Deferred(), then callback(1)",
  group: "creation",
  fn() {
    const d = new Deferred<number>();
    d.callback(1);
    held = d;
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink, held);
});
