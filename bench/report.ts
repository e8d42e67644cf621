// Runs the benchmarks and draws their figures as SVG charts in
// bench/results/: torsion beside raw Deno, Node and Twisted where a harness
// has them, each with the goal line it is held to. Also writes every figure
// to bench/results/results.json, which the charts can be redrawn from.
//
//   deno task bench:report                      # run everything (a few minutes)
//   deno run -A bench/report.ts --from bench/results/results.json   # redraw only
//   deno run -A bench/report.ts --runs 3 --seconds 3 --rounds 3 --skip echo
//
// The machine may be shared and noisy: each micro benchmark file runs --runs
// times (default 3) and each figure is the median of its runs' means; the
// echo servers take turns over --rounds rounds (default 3) and each figure is
// the median of its rounds. Compare bars within one chart: they come from the
// same run.
import { type Bar, type Panel, renderChart } from "./_svg.ts";

const here = new URL(".", import.meta.url).pathname;
const outDir = `${here}results/`;
const args = Deno.args;

function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const from = flag("--from");
const runs = Number(flag("--runs") ?? 3);
const seconds = Number(flag("--seconds") ?? 3);
const rounds = Number(flag("--rounds") ?? 3);
const skip = new Set(flag("--skip")?.split(",") ?? []);

/** Median of each bench's mean time per iteration, in ns, by name. */
type BenchFigures = Record<string, number>;

interface EchoSample {
  rtPerS: number;
  cpuPerRt: number;
  mibPerS: number;
  cpuPerMib: number;
  rssIdle: number;
  rssPeak: number;
}

interface TwistedFraming {
  name: string;
  ms_per_mib: number;
  mb_per_s: number;
  msg_per_s: number;
}

/** Everything a report holds; results.json is this. */
interface Results {
  date: string;
  runtime: string;
  cpu: string;
  loadAverage: string;
  runs: number;
  defer?: BenchFigures;
  reactor?: BenchFigures;
  framing?: BenchFigures;
  twistedFraming?: TwistedFraming[];
  echo?: { seconds: number; rounds: number; medians: Record<string, EchoSample> };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function run(cmd: string, cmdArgs: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args: cmdArgs, stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${cmdArgs.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

interface DenoBenchJson {
  runtime: string;
  cpu: string;
  benches: { name: string; results: { ok?: { avg: number } }[] }[];
}

let runtime = "";
let cpu = "";

/** Runs a `deno bench` file `times` times; the median mean per bench, in ns. */
async function denoBench(file: string, times: number, filter?: string): Promise<BenchFigures> {
  const samples = new Map<string, number[]>();
  for (let i = 0; i < times; i++) {
    const extra = filter === undefined ? [] : ["--filter", filter];
    const text = await run(Deno.execPath(), ["bench", "--allow-all", "--json", ...extra, file]);
    const json = JSON.parse(text) as DenoBenchJson;
    runtime = json.runtime;
    cpu = json.cpu;
    for (const bench of json.benches) {
      const avg = bench.results[0]?.ok?.avg;
      if (avg === undefined) throw new Error(`${file}: "${bench.name}" failed`);
      samples.set(bench.name, [...(samples.get(bench.name) ?? []), avg]);
    }
    console.error(`  ${file}: run ${i + 1} of ${times}`);
  }
  return Object.fromEntries([...samples].map(([name, values]) => [name, median(values)]));
}

async function measure(): Promise<Results> {
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ")
    .slice(0, 3).join(" ");
  const results: Results = {
    date: new Date().toISOString(),
    runtime: "",
    cpu: "",
    loadAverage: load,
    runs,
  };
  if (!skip.has("defer")) {
    console.error("Deferred micro benchmarks");
    results.defer = await denoBench(`${here}defer_bench.ts`, runs);
  }
  if (!skip.has("reactor")) {
    console.error("Reactor timers");
    results.reactor = await denoBench(`${here}reactor_bench.ts`, runs, "/x 100,000/");
  }
  if (!skip.has("framing")) {
    console.error("Framing, torsion and Twisted");
    results.framing = await denoBench(`${here}framing_bench.ts`, 1);
    const text = await run("/usr/bin/python3", [`${here}framing_twisted.py`, "--quick", "--json"]);
    results.twistedFraming = (JSON.parse(text) as { results: TwistedFraming[] }).results;
  }
  if (!skip.has("echo")) {
    console.error(`Echo servers: ${rounds} rounds of ${seconds} s per load`);
    const text = await run(Deno.execPath(), [
      "run",
      "--allow-all",
      `${here}echo/run.ts`,
      "--json",
      "--seconds",
      String(seconds),
      "--rounds",
      String(rounds),
    ]);
    const echo = JSON.parse(text);
    results.echo = { seconds: echo.seconds, rounds: echo.rounds, medians: echo.medians };
  }
  results.runtime = runtime;
  results.cpu = cpu;
  return results;
}

// --- Charts -----------------------------------------------------------------

function pick(figures: BenchFigures, name: string): number {
  const value = figures[name];
  if (value === undefined) throw new Error(`No figure for "${name}" in the results`);
  return value;
}

function deferChart(r: Results): string | undefined {
  const d = r.defer;
  if (d === undefined) return undefined;
  const promise = pick(d, "Promise: 10 .then() steps, awaited");
  const awaits = pick(d, "async function: 10 awaits of resolved Promises");
  const reactorAwaits = pick(d, "async function: 10 awaits of Promises the reactor resolves");
  // Measured since a later version of the benchmarks: drawn when present.
  const awaitedDeferreds = d["async function: 10 awaits of Deferreds the reactor fires"];
  const plainObject = pick(d, "a plain object of three fields");
  const panels: Panel[] = [
    {
      title: "A 10-callback chain",
      unit: "ns",
      better: "lower",
      bars: [
        {
          label: "torsion Deferred: 10 callbacks",
          value: pick(d, "Deferred: 10 callbacks, then callback()"),
          kind: "torsion",
        },
        { label: "Promise: 10 .then() steps", value: promise, kind: "deno" },
        {
          label: "plain function calls: 10 steps",
          value: pick(d, "plain calls: 10 synchronous steps"),
          kind: "other",
        },
      ],
      goal: { value: promise / 4, label: "goal: 4× faster than Promise" },
    },
    {
      title: "10 waits on results already there",
      unit: "ns",
      better: "lower",
      bars: [
        {
          label: "inlineCallbacks: 10 yields of fired Deferreds",
          value: pick(d, "inlineCallbacks: 10 yields of fired Deferreds"),
          kind: "torsion",
        },
        {
          label: "inlineCallbacks: 10 yield* of fired Deferreds",
          value: pick(d, "inlineCallbacks: 10 yield* of fired Deferreds"),
          kind: "torsion",
        },
        { label: "async function: 10 awaits of resolved Promises", value: awaits, kind: "deno" },
      ],
      goal: { value: awaits / 1.5, label: "goal: 1.5× faster than async/await" },
    },
    {
      title: "10 waits on events the reactor delivers",
      unit: "ns",
      better: "lower",
      bars: [
        {
          label: "inlineCallbacks: 10 waits on Deferreds",
          value: pick(d, "inlineCallbacks: 10 waits on Deferreds the reactor fires"),
          kind: "torsion",
        },
        { label: "async function: 10 awaits of Promises", value: reactorAwaits, kind: "deno" },
        ...(awaitedDeferreds === undefined ? [] : [{
          label: "async function: 10 awaits of Deferreds",
          value: awaitedDeferreds,
          kind: "torsion" as const,
        }]),
      ],
      goal: { value: reactorAwaits, label: "goal: no slower than async/await" },
    },
    {
      title: "Making one",
      unit: "ns",
      better: "lower",
      bars: [
        { label: "new Deferred()", value: pick(d, "new Deferred()"), kind: "torsion" },
        { label: "succeed(1)", value: pick(d, "succeed(1)"), kind: "torsion" },
        { label: "a plain object of three fields", value: plainObject, kind: "other" },
      ],
      goal: { value: plainObject, label: "goal: as cheap as a plain object" },
    },
  ];
  if (r.reactor !== undefined) {
    panels.push({
      title: "100,000 timed calls scheduled and cancelled",
      unit: "ms",
      better: "lower",
      bars: [
        {
          label: "reactor.callLater + cancel",
          value: pick(r.reactor, "reactor.callLater + cancel x 100,000") / 1e6,
          kind: "torsion",
        },
        {
          label: "setTimeout + clearTimeout",
          value: pick(r.reactor, "setTimeout + clearTimeout x 100,000") / 1e6,
          kind: "deno",
        },
      ],
    });
  }
  return renderChart(
    "Deferred and reactor: micro costs",
    `deno bench, median of ${r.runs} runs' means; ${r.runtime}, ${r.cpu}; load ${r.loadAverage}; ${
      r.date.slice(0, 10)
    }`,
    panels,
  );
}

function framingChart(r: Results): string | undefined {
  const f = r.framing;
  const t = r.twistedFraming;
  if (f === undefined || t === undefined) return undefined;
  const MB = 1024 * 1024 / 1e6;
  const workloads = [
    [
      "LineReceiver, 64-byte lines, 64 KiB chunks",
      "LineReceiver: 1 MiB of 64-byte lines, 64 KiB chunks",
    ],
    [
      "LineReceiver, 64-byte lines, 1500-byte chunks",
      "LineReceiver: 1 MiB of 64-byte lines, 1500-byte chunks",
    ],
    ["LineOnlyReceiver, 64 KiB chunks", "LineOnlyReceiver: 1 MiB of 64-byte lines, 64 KiB chunks"],
    [
      "Int32StringReceiver, 60-byte strings, 64 KiB chunks",
      "Int32StringReceiver: 16384 messages of 60 bytes, 64 KiB chunks",
    ],
    [
      "NetstringReceiver, 60-byte strings, 64 KiB chunks",
      "NetstringReceiver: 16384 netstrings of 60 bytes, 64 KiB chunks",
    ],
  ];
  const panels: Panel[] = workloads.map(([title, name]) => {
    const twisted = t.find((x) => x.name === name);
    const bars: Bar[] = [
      { label: "torsion", value: MB / (pick(f, name) / 1e9), kind: "torsion" },
    ];
    if (twisted !== undefined) {
      bars.push({ label: "Twisted 22.4", value: twisted.mb_per_s, kind: "twisted" });
    }
    return { title, unit: "MB/s", better: "higher", bars };
  });
  return renderChart(
    "Framing: parsing 1 MiB of 64-byte messages",
    `torsion: deno bench (${r.runtime}); Twisted: bench/framing_twisted.py --quick on CPython; ${
      r.date.slice(0, 10)
    }`,
    panels,
  );
}

const SERVER_LABELS: Record<string, [string, Bar["kind"]]> = {
  torsion: ["torsion Protocol echo", "torsion"],
  "torsion-borrow": ["torsion echo, borrowsData", "torsion"],
  raw: ["raw Deno read/write loop", "deno"],
  node: ["Node net", "node"],
  twisted: ["Twisted 22.4 Protocol echo", "twisted"],
};

function echoChart(r: Results): string | undefined {
  const e = r.echo;
  if (e === undefined) return undefined;
  const servers = Object.keys(e.medians);
  const bars = (get: (s: EchoSample) => number): Bar[] =>
    servers.map((name) => {
      const [label, kind] = SERVER_LABELS[name] ?? [name, "other"];
      return { label, value: get(e.medians[name]), kind };
    });
  const raw = e.medians.raw;
  return renderChart(
    "Echo servers under a C load generator",
    `bench/echo/run.ts: median of ${e.rounds} rounds of ${e.seconds} s per load, servers taking turns; ${
      r.date.slice(0, 10)
    }`,
    [
      {
        title: "64-byte ping-pong, 50 connections",
        unit: "round trips/s",
        better: "higher",
        bars: bars((s) => s.rtPerS),
      },
      {
        title: "Server CPU per round trip",
        unit: "µs",
        better: "lower",
        bars: bars((s) => s.cpuPerRt),
      },
      {
        title: "Bulk: 4 connections of 64 KiB writes",
        unit: "MiB/s",
        better: "higher",
        bars: bars((s) => s.mibPerS),
      },
      {
        title: "Server CPU per MiB echoed",
        unit: "ms",
        better: "lower",
        bars: bars((s) => s.cpuPerMib),
        goal: raw === undefined
          ? undefined
          : { value: raw.cpuPerMib * 1.15, label: "goal: 1.15× the raw loop" },
      },
    ],
  );
}

// --- Main -------------------------------------------------------------------

let results: Results;
if (from !== undefined) {
  results = JSON.parse(await Deno.readTextFile(from));
} else {
  results = await measure();
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeTextFile(`${outDir}results.json`, JSON.stringify(results, null, 2) + "\n");
  console.error(`Wrote ${outDir}results.json`);
}
await Deno.mkdir(outDir, { recursive: true });
for (
  const [name, svg] of [
    ["defer.svg", deferChart(results)],
    ["framing.svg", framingChart(results)],
    ["echo.svg", echoChart(results)],
  ] as const
) {
  if (svg === undefined) continue;
  await Deno.writeTextFile(`${outDir}${name}`, svg);
  console.error(`Wrote ${outDir}${name}`);
}
