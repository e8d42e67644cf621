// C10K: one echo server holding N concurrent connections on loopback.
// Starts the server in its own process, opens N connections from this one,
// measures the server's RSS before and after, then checks that every
// connection still echoes. Needs `ulimit -n` above N on both sides.
//
//   deno run -A bench/echo/c10k.ts [--connections 10000] [--server torsion|raw]
const here = new URL(".", import.meta.url).pathname;
const args = Deno.args;
const n = Number(flag("--connections") ?? 10_000);
const which = flag("--server") ?? "torsion";

function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function rssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

const script = which === "raw" ? "raw_deno_server.ts" : "torsion_server.ts";
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${here}${script}`],
  stdout: "piped",
}).spawn();
const reader = child.stdout.getReader();
const { value } = await reader.read();
reader.releaseLock();
child.stdout.cancel();
const port = Number(new TextDecoder().decode(value).trim());

// Let the server settle, then take its idle footprint.
await new Promise((r) => setTimeout(r, 500));
const before = await rssKiB(child.pid);

const conns: Deno.TcpConn[] = [];
const started = performance.now();
for (let i = 0; i < n; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
const opened = performance.now() - started;
await new Promise((r) => setTimeout(r, 1000));
const after = await rssKiB(child.pid);

// Every connection must still echo.
const ping = new TextEncoder().encode("ping");
const buf = new Uint8Array(16);
let ok = 0;
for (let i = 0; i < conns.length; i += 1000) {
  const batch = conns.slice(i, i + 1000);
  await Promise.all(batch.map(async (c) => {
    await c.write(ping);
    const got = await c.read(buf);
    if (got === 4) ok++;
  }));
}
for (const c of conns) c.close();
child.kill("SIGTERM");
await child.status;

console.log(
  `server=${which} connections=${n} opened_in=${(opened / 1000).toFixed(1)}s ` +
    `rss_before=${(before / 1024).toFixed(1)}MiB rss_after=${(after / 1024).toFixed(1)}MiB ` +
    `per_connection=${((after - before) / n).toFixed(1)}KiB still_echoing=${ok}/${n}`,
);
