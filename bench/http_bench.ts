// HTTP client benchmarks, torsion against fetch:
//
// 1. Throughput: sequential GETs of a 1 KiB page from a local Deno.serve,
//    through torsion's Agent on one pooled keep-alive connection, against
//    fetch (which keeps its connection alive too). Each client first warms
//    up (200 requests), then is timed over `requests` sequential requests
//    (default 2000); the best of three rounds is reported.
// 2. Many small chunks: a body of 1 MB (and 10 MB) sent as one-byte chunks
//    (`1\r\nx\r\n` each) by a raw TCP server, read whole by readBody, by
//    getPage and by fetch. Each client runs in a process of its own, so its
//    RSS growth (peak during the download, less the RSS before it) is its
//    own; the server stays in this process.
//
//   deno run -A bench/http_bench.ts [requests]
import { Agent, getPage, readBody } from "../protocols/http/mod.ts";
import { reactor } from "../reactor/deno_reactor.ts";

if (Deno.args[0] === "--chunks-client") {
  await chunksClient(Deno.args[1], Deno.args[2], Number(Deno.args[3]));
  Deno.exit(0);
}

const REQUESTS = Number(Deno.args[0] ?? 2000);
const WARMUP = 200;
const ROUNDS = 3;
const PAGE = new Uint8Array(1024).fill(0x61);

const connections = new Set<number>();
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  (_request, info) => {
    connections.add((info.remoteAddr as Deno.NetAddr).port);
    return new Response(PAGE, { headers: { "content-type": "text/plain" } });
  },
);
const url = `http://127.0.0.1:${server.addr.port}/page`;

async function agentRun(agent: Agent, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const response = await agent.request("GET", url);
    const body = await readBody(response);
    if (body.length !== PAGE.length) throw new Error(`Got ${body.length} bytes`);
  }
}

async function fetchRun(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const response = await fetch(url);
    const body = await response.bytes();
    if (body.length !== PAGE.length) throw new Error(`Got ${body.length} bytes`);
  }
}

async function best(run: (n: number) => Promise<void>): Promise<number> {
  await run(WARMUP);
  let rate = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    await run(REQUESTS);
    const seconds = (performance.now() - start) / 1000;
    rate = Math.max(rate, REQUESTS / seconds);
  }
  return rate;
}

const agent = new Agent(reactor, { pool: true });
connections.clear();
const agentRate = await best((n) => agentRun(agent, n));
const agentConnections = connections.size;
await agent.pool.closeCachedConnections();

connections.clear();
const fetchRate = await best(fetchRun);
const fetchConnections = connections.size;

await server.shutdown();

const fmt = (rate: number): string => rate.toFixed(0).padStart(7);
console.log(
  `${REQUESTS} sequential GETs of a 1 KiB page, best of ${ROUNDS} rounds (Deno ${Deno.version.deno})`,
);
console.log(
  `  torsion Agent (pooled): ${fmt(agentRate)} requests/s over ${agentConnections} connection(s)`,
);
console.log(
  `  fetch (keep-alive):     ${fmt(fetchRate)} requests/s over ${fetchConnections} connection(s)`,
);
console.log(`  Agent / fetch:          ${(agentRate / fetchRate).toFixed(2)}`);

// --- Many small chunks ---------------------------------------------------------------

/** The child: downloads `url` with `client`, prints its RSS growth and time as JSON. */
async function chunksClient(client: string, url: string, size: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 5);
  const start = performance.now();
  let body: Uint8Array;
  if (client === "fetch") body = await (await fetch(url)).bytes();
  else if (client === "getPage") body = await getPage(url);
  else body = await readBody(await new Agent(reactor).request("GET", url));
  const ms = performance.now() - start;
  peak = Math.max(peak, Deno.memoryUsage().rss);
  clearInterval(sampler);
  if (body.length !== size) throw new Error(`Got ${body.length} bytes, not ${size}`);
  console.log(JSON.stringify({ growth: (peak - before) / 2 ** 20, ms }));
}

/** Serves a chunked body of `size` one-byte chunks to every connection. */
function oneByteChunkServer(size: number): { port: number; close(): Promise<void> } {
  const one = new TextEncoder().encode("1\r\nx\r\n");
  const wire = new Uint8Array(one.length * size);
  for (let i = 0; i < size; i++) wire.set(one, i * one.length);
  const head = new TextEncoder().encode(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
  );
  const tail = new TextEncoder().encode("0\r\n\r\n");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      served.push(
        (async () => {
          const buffer = new Uint8Array(16384);
          let request = "";
          while (!request.includes("\r\n\r\n")) {
            const n = await conn.read(buffer);
            if (n === null) return;
            request += String.fromCharCode(...buffer.subarray(0, n));
          }
          for (const bytes of [head, wire, tail]) {
            for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
          }
        })().catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch {
            // Closed by the client already.
          }
        }),
      );
    }
  })();
  return {
    port: listener.addr.port,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      await Promise.all(served);
    },
  };
}

const mib = (n: number): string => `${n.toFixed(1).padStart(6)} MiB`;
for (const size of [1_000_000, 10_000_000]) {
  const server = oneByteChunkServer(size);
  const url = `http://127.0.0.1:${server.port}/`;
  console.log(
    `A ${size / 1_000_000} MB body in ${size.toLocaleString("en")} one-byte chunks ` +
      `(RSS growth of the client process, time):`,
  );
  const growth: Record<string, number> = {};
  for (const client of ["readBody", "getPage", "fetch"]) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        new URL(import.meta.url).pathname,
        "--chunks-client",
        client,
        url,
        String(size),
      ],
      stderr: "inherit",
    }).output();
    if (!output.success) throw new Error(`The ${client} client failed`);
    const result = JSON.parse(new TextDecoder().decode(output.stdout));
    growth[client] = result.growth;
    console.log(
      `  ${client.padEnd(9)} ${mib(result.growth)}  ${result.ms.toFixed(0).padStart(6)} ms`,
    );
  }
  console.log(`  readBody / fetch: ${(growth.readBody / growth.fetch).toFixed(2)}`);
  await server.close();
}
