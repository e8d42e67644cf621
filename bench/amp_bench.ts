// AMP throughput: pipelined Sum calls per second between a torsion client and
// a torsion server over loopback TCP in one process, against Twisted doing the
// same on CPython (bench/amp_twisted.py), in one run.
//
//   deno run -A bench/amp_bench.ts [N] [WINDOW] [ROUNDS]
//
// Each side warms up with N / 10 calls, then is timed over N calls (default
// 200,000 for torsion, 20,000 for Twisted) with WINDOW (default 1000) in
// flight; the best of ROUNDS (default 3) rounds is reported.
import { AMP, ClientCreator, command, Factory, Integer } from "../protocols/mod.ts";
import { reactor } from "../reactor/mod.ts";

const N = Number(Deno.args[0] ?? 200_000);
const WINDOW = Number(Deno.args[1] ?? 1000);
const ROUNDS = Number(Deno.args[2] ?? 3);

const Sum = command("Sum", { a: Integer, b: Integer }, { total: Integer });

class SumServer extends AMP {
  constructor() {
    super();
    this.respond(Sum, ({ a, b }) => ({ total: a + b }));
  }
}

function run(client: AMP, n: number): Promise<void> {
  const done = Promise.withResolvers<void>();
  let sent = 0;
  let answered = 0;
  const onAnswer = (): void => {
    answered++;
    if (sent < n) send();
    else if (answered === n) done.resolve();
  };
  const send = (): void => {
    const i = sent++;
    client.callRemote(Sum, { a: i, b: 1 }).addCallback(onAnswer);
  };
  for (let i = 0; i < Math.min(WINDOW, n); i++) send();
  return done.promise;
}

async function torsion(): Promise<number> {
  const port = reactor.listenTCP(0, Factory.forProtocol(SumServer), { interface: "127.0.0.1" });
  const client = await new ClientCreator(reactor, AMP).connectTCP("127.0.0.1", port.getHost().port);
  await run(client, Math.floor(N / 10));
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    await run(client, N);
    best = Math.max(best, N / ((performance.now() - start) / 1000));
  }
  client.transport!.loseConnection();
  await port.stopListening();
  return Math.round(best);
}

async function twisted(): Promise<number> {
  const script = new URL("./amp_twisted.py", import.meta.url).pathname;
  const output = await new Deno.Command("/usr/bin/python3", {
    args: [script, String(Math.max(1000, Math.floor(N / 10))), String(WINDOW), String(ROUNDS)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) {
    throw new Error("bench/amp_twisted.py failed (is python3-twisted installed?)");
  }
  return Number(new TextDecoder().decode(output.stdout).trim());
}

const ours = await torsion();
const theirs = await twisted();
console.log(`torsion AMP: ${ours.toLocaleString("en")} pipelined Sum calls/s`);
console.log(`Twisted AMP: ${theirs.toLocaleString("en")} pipelined Sum calls/s (CPython)`);
console.log(`ratio: ${(ours / theirs).toFixed(1)}x`);
