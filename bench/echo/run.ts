// Echo benchmark: the same load against three echo servers, side by side in
// one run. Builds the C load generator with `cc`, starts each server in its
// own process, and reads the server's CPU time from /proc (Linux only).
//
//   deno run -A bench/echo/run.ts [--seconds 5] [--rounds 1] [--json]
//       [--only torsion,torsion-borrow,raw,node,twisted]
//
// With --rounds N, every server runs N times, in a rotated order each round
// (so none always goes first), and each column is the median of its runs.
// --json prints the medians and every run as JSON instead of the table (what
// bench/report.ts reads). Twisted's server runs where /usr/bin/python3 has it.
//
// Ping-pong: 50 connections, 64-byte messages, one in flight per connection.
// Bulk: 4 connections each keeping 64 KiB writes in flight. torsion-borrow is
// the same echo protocol with `borrowsData` set (reads reuse one buffer).
//
//   deno run -A bench/echo/run.ts --workers [--seconds 5] [--rounds 3]
//
// compares instead the runner with --workers 1 and --workers 2 (processes
// sharing the port through SO_REUSEPORT), ping-pong only, for two services:
// the echo plugin, whose cost per message is so small that on 2 cores the
// load generator's own CPU bounds what a second worker can add (about 1.2x
// at best), and bench/echo/busy_echo.ts, served with `cli.ts run`, which
// spends about 30 us of CPU per message, as a real handler does.
const here = new URL(".", import.meta.url).pathname;
const args = Deno.args;
const seconds = Number(flag("--seconds") ?? 5);
const only = flag("--only")?.split(",");
const rounds = Number(flag("--rounds") ?? 1);
const json = args.includes("--json");

function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

interface Server {
  name: string;
  cmd: string;
  args: string[];
}

const servers: Server[] = [
  { name: "torsion", cmd: Deno.execPath(), args: ["run", "-A", `${here}torsion_server.ts`] },
  {
    name: "torsion-borrow",
    cmd: Deno.execPath(),
    args: ["run", "-A", `${here}torsion_server.ts`, "--borrow"],
  },
  { name: "raw", cmd: Deno.execPath(), args: ["run", "-A", `${here}raw_deno_server.ts`] },
  { name: "node", cmd: "node", args: [`${here}node_server.mjs`] },
  { name: "twisted", cmd: "/usr/bin/python3", args: [`${here}twisted_server.py`] },
];

async function hasTwisted(): Promise<boolean> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", { args: ["-c", "import twisted"] })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

async function build(): Promise<string> {
  const out = `${here}build/loadgen`;
  await Deno.mkdir(`${here}build`, { recursive: true });
  const cc = await new Deno.Command("cc", {
    args: ["-O2", "-o", out, `${here}loadgen.c`],
  }).output();
  if (!cc.success) throw new Error(`cc failed: ${new TextDecoder().decode(cc.stderr)}`);
  return out;
}

// utime + stime of a process, in seconds.
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

async function rssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

async function startServer(server: Server): Promise<{ child: Deno.ChildProcess; port: number }> {
  const child = new Deno.Command(server.cmd, {
    args: server.args,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${server.name} server exited before printing its port`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  child.stdout.cancel();
  return { child, port: Number(text.trim().split("\n")[0]) };
}

async function load(loadgen: string, mode: string, port: number): Promise<Record<string, string>> {
  const [conns, size] = mode === "pingpong" ? ["50", "64"] : ["4", "65536"];
  const out = await new Deno.Command(loadgen, {
    args: [mode, String(port), conns, String(seconds), size],
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`loadgen failed: ${new TextDecoder().decode(out.stderr)}`);
  return Object.fromEntries(text.split(" ").map((kv) => kv.split("=")));
}

/** What the workers comparison serves: the runner's arguments before --listen. */
const SERVICES: ReadonlyArray<readonly [name: string, args: readonly string[]]> = [
  ["echo plugin", ["echo"]],
  ["busy_echo.ts (cli.ts run)", ["run", `${here}busy_echo.ts`]],
];

const loadgen = await build();

if (args.includes("--workers")) {
  await compareWorkers();
  Deno.exit(0);
}

// The runner serving `service` on a free port with `workers` processes.
async function startRunner(
  service: readonly string[],
  workers: number,
): Promise<{ child: Deno.ChildProcess; port: number }> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${here}../../cli.ts`,
      "--log-level",
      "warn",
      ...service,
      "--listen",
      `tcp:${port}:interface=127.0.0.1:backlog=1024`,
      "--workers",
      String(workers),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the runner with ${workers} workers exited before listening`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  child.stdout.cancel();
  return { child, port };
}

async function compareWorkers(): Promise<void> {
  const counts = [1, 2];
  console.log("| service | workers | round trips/s (median) | runs | vs 1 worker |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const [name, service] of SERVICES) {
    const results = new Map<number, number[]>(counts.map((n) => [n, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? counts : [...counts].reverse();
      for (const workers of order) {
        const { child, port } = await startRunner(service, workers);
        const pp = await load(loadgen, "pingpong", port);
        child.kill("SIGTERM");
        await child.status;
        results.get(workers)!.push(Number(pp.rt_per_s));
      }
    }
    const one = median(results.get(1)!);
    for (const workers of counts) {
      const runs = results.get(workers)!;
      const rate = median(runs);
      console.log(
        `| ${name} | ${workers} | ${rate.toFixed(0)} | ${
          runs.map((r) => r.toFixed(0)).join(", ")
        } | ${(rate / one).toFixed(2)}× |`,
      );
    }
  }
}

interface Sample {
  rtPerS: number;
  cpuPerRt: number;
  mibPerS: number;
  cpuPerMib: number;
  rssIdle: number;
  rssPeak: number;
}

async function measure(server: Server): Promise<Sample> {
  const { child, port } = await startServer(server);
  const rssIdle = await rssKiB(child.pid);
  const cpu0 = await cpuSeconds(child.pid);
  const pp = await load(loadgen, "pingpong", port);
  const cpu1 = await cpuSeconds(child.pid);
  const bulk = await load(loadgen, "bulk", port);
  const cpu2 = await cpuSeconds(child.pid);
  const rssPeak = await rssKiB(child.pid);
  child.kill("SIGTERM");
  await child.status;
  const trips = Number(pp.round_trips);
  const mib = Number(bulk.bytes) / 1048576;
  return {
    rtPerS: Number(pp.rt_per_s),
    cpuPerRt: ((cpu1 - cpu0) / trips) * 1e6,
    mibPerS: Number(bulk.mib_per_s),
    cpuPerMib: ((cpu2 - cpu1) / mib) * 1e3,
    rssIdle,
    rssPeak,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const twistedThere = await hasTwisted();
const chosen = servers.filter((server) =>
  (!only || only.includes(server.name)) && (server.name !== "twisted" || twistedThere)
);
const samples = new Map<string, Sample[]>(chosen.map((server) => [server.name, []]));
for (let round = 0; round < rounds; round++) {
  const order = chosen.map((_, i) => chosen[(i + round) % chosen.length]);
  for (const server of order) samples.get(server.name)!.push(await measure(server));
}
if (json) {
  const medians = Object.fromEntries(chosen.map((server) => {
    const runs = samples.get(server.name)!;
    const keys = Object.keys(runs[0]) as (keyof Sample)[];
    return [server.name, Object.fromEntries(keys.map((k) => [k, median(runs.map((s) => s[k]))]))];
  }));
  console.log(JSON.stringify(
    { seconds, rounds, medians, runs: Object.fromEntries(samples) },
    null,
    2,
  ));
  Deno.exit(0);
}

const rows: string[][] = chosen.map((server) => {
  const runs = samples.get(server.name)!;
  const m = (pick: (s: Sample) => number) => median(runs.map(pick));
  return [
    server.name,
    m((s) => s.rtPerS).toFixed(0),
    m((s) => s.cpuPerRt).toFixed(2),
    m((s) => s.mibPerS).toFixed(0),
    m((s) => s.cpuPerMib).toFixed(2),
    `${(m((s) => s.rssIdle) / 1024).toFixed(1)} / ${(m((s) => s.rssPeak) / 1024).toFixed(1)}`,
  ];
});

const header = [
  "server",
  "round trips/s",
  "CPU µs/round trip",
  "bulk MiB/s",
  "CPU ms/MiB",
  "RSS MiB idle/after",
];
console.log(`| ${header.join(" | ")} |`);
console.log(`| ${header.map(() => "---").join(" | ")} |`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
