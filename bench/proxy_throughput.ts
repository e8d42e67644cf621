// Port-forward throughput: MiB/s from a client to a sink, directly and
// through torsion's ProxyFactory (the runner's `portforward` plugin, in its
// own process), side by side in one run.
//
//   deno run -A bench/proxy_throughput.ts [MiB]
//
// The client and the sink are raw Deno sockets in this process; the client
// writes `MiB` (default 1024) in 64 KiB writes and the clock stops when the
// sink has read the last byte. The proxy's CPU time is read from /proc.
const MIB = Number(Deno.args[0] ?? 1024);
const TOTAL = MIB * 1024 * 1024;
const cli = new URL("../cli.ts", import.meta.url).pathname;

const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
let onDrained: (() => void) | undefined;
(async () => {
  for await (const conn of sink) {
    (async () => {
      const buffer = new Uint8Array(256 * 1024);
      let got = 0;
      try {
        for (;;) {
          const n = await conn.read(buffer);
          if (n === null) break;
          got += n;
          if (got >= TOTAL) onDrained?.();
        }
      } finally {
        conn.close();
      }
    })();
  }
})();

async function send(port: number): Promise<number> {
  const drained = new Promise<void>((resolve) => (onDrained = resolve));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunk = new Uint8Array(64 * 1024).fill(0x78);
  const started = performance.now();
  for (let sent = 0; sent < TOTAL;) {
    sent += await conn.write(chunk.subarray(0, Math.min(chunk.length, TOTAL - sent)));
  }
  await drained;
  const seconds = (performance.now() - started) / 1000;
  conn.close();
  return MIB / seconds;
}

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const proxy = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    cli,
    "portforward",
    "--listen",
    "tcp:0:interface=127.0.0.1",
    "--dest",
    `tcp:127.0.0.1:${sink.addr.port}`,
  ],
  stdout: "piped",
  stderr: "null",
}).spawn();
const reader = proxy.stdout.getReader();
let text = "";
while (!/:(\d+)\n/.test(text)) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the proxy exited before listening");
  text += new TextDecoder().decode(value);
}
reader.releaseLock();
proxy.stdout.cancel();
const proxyPort = Number(/:(\d+)\n/.exec(text)![1]);

await send(sink.addr.port); // warm up
const direct = await send(sink.addr.port);
await send(proxyPort); // warm up
const cpu0 = await cpuSeconds(proxy.pid);
const proxied = await send(proxyPort);
const cpu1 = await cpuSeconds(proxy.pid);
proxy.kill("SIGINT");
await proxy.status;
sink.close();

console.log(`| path | MiB/s | proxy CPU ms/MiB |`);
console.log(`| --- | --- | --- |`);
console.log(`| direct | ${direct.toFixed(0)} | |`);
console.log(
  `| through ProxyFactory | ${proxied.toFixed(0)} | ${((cpu1 - cpu0) * 1000 / MIB).toFixed(2)} |`,
);
console.log(`proxy/direct: ${(proxied / direct).toFixed(2)}`);
