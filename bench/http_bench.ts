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
//    own; the server stays in this process. Each first downloads a body of
//    20,000 such chunks, so what is measured is the download and not the
//    code compiled on first use.
//
// 3. Big transfers: a 1 GiB download (Content-Length, from a raw TCP server
//    writing one 1 MiB buffer over and over), streamed through
//    deliverBody and through fetch's body reader, counting bytes; and a
//    1 GiB upload of a file to a Deno.serve that counts what it reads,
//    through FileBodyProducer (over the file: Content-Length; over
//    file.readable: chunked) and through fetch (file.readable, chunked).
//    Each client runs in a process of its own; peak RSS growth and the
//    rate are its own.
//
//   deno run -A bench/http_bench.ts [requests]
import type { Failure } from "../defer/failure.ts";
import { Deferred } from "../defer/deferred.ts";
import { Agent, FileBodyProducer, getPage, readBody } from "../protocols/http/mod.ts";
import { reactor } from "../reactor/deno_reactor.ts";

if (Deno.args[0] === "--chunks-client") {
  await chunksClient(Deno.args[1], Deno.args[2], Number(Deno.args[3]), Deno.args[4]);
  Deno.exit(0);
}
if (Deno.args[0] === "--transfer-client") {
  await transferClient(Deno.args[1], Deno.args[2], Deno.args[3], Number(Deno.args[4]));
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
async function chunksClient(
  client: string,
  url: string,
  size: number,
  warmUpURL: string,
): Promise<void> {
  const download = async (from: string): Promise<Uint8Array> => {
    if (client === "fetch") return await (await fetch(from)).bytes();
    if (client === "getPage") return await getPage(from);
    return await readBody(await new Agent(reactor).request("GET", from));
  };
  // A small body of the same kind first: code compiled on first use is not
  // the download's cost, and each client pays it once.
  await download(warmUpURL);
  const stop = rssSampler();
  const start = performance.now();
  const body = await download(url);
  const ms = performance.now() - start;
  const growth = stop();
  if (body.length !== size) throw new Error(`Got ${body.length} bytes, not ${size}`);
  console.log(JSON.stringify({ growth, ms }));
}

/** Samples the process's RSS until stopped; returns the peak growth in MiB. */
function rssSampler(): () => number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 5);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, Deno.memoryUsage().rss);
    return (peak - before) / 2 ** 20;
  };
}

/** Runs this file again as a child with `args`; returns the JSON it prints. */
async function runChild(args: string[]): Promise<{ growth: number; ms: number }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", new URL(import.meta.url).pathname, ...args],
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`The ${args[1]} client failed`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

/**
 * A raw TCP server on 127.0.0.1: reads each connection's request head, then
 * lets `respond` write the answer, and closes the connection.
 */
function rawServer(
  respond: (conn: Deno.Conn) => Promise<void>,
): { port: number; close(): Promise<void> } {
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
          await respond(conn);
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

/** Serves a chunked body of `size` one-byte chunks to every connection. */
function oneByteChunkServer(size: number): { port: number; close(): Promise<void> } {
  const one = new TextEncoder().encode("1\r\nx\r\n");
  const wire = new Uint8Array(one.length * size);
  for (let i = 0; i < size; i++) wire.set(one, i * one.length);
  const head = new TextEncoder().encode(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
  );
  const tail = new TextEncoder().encode("0\r\n\r\n");
  return rawServer(async (conn) => {
    for (const bytes of [head, wire, tail]) {
      for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
    }
  });
}

const mib = (n: number): string => `${n.toFixed(1).padStart(6)} MiB`;
const warmUp = oneByteChunkServer(20_000);
for (const size of [1_000_000, 10_000_000]) {
  const server = oneByteChunkServer(size);
  const url = `http://127.0.0.1:${server.port}/`;
  console.log(
    `A ${size / 1_000_000} MB body in ${size.toLocaleString("en")} one-byte chunks ` +
      `(RSS growth of the client process, time):`,
  );
  const growth: Record<string, number> = {};
  for (const client of ["readBody", "getPage", "fetch"]) {
    const result = await runChild([
      "--chunks-client",
      client,
      url,
      String(size),
      `http://127.0.0.1:${warmUp.port}/`,
    ]);
    growth[client] = result.growth;
    console.log(
      `  ${client.padEnd(9)} ${mib(result.growth)}  ${result.ms.toFixed(0).padStart(6)} ms`,
    );
  }
  console.log(`  readBody / fetch: ${(growth.readBody / growth.fetch).toFixed(2)}`);
  await server.close();
}
await warmUp.close();

// --- Big transfers -------------------------------------------------------------------

const GiB = 2 ** 30;

/** The child: one download or upload; prints its RSS growth and time as JSON. */
async function transferClient(
  client: string,
  url: string,
  file: string,
  size: number,
): Promise<void> {
  const stop = rssSampler();
  const start = performance.now();
  let count = 0;
  if (client === "download-torsion") {
    const response = await new Agent(reactor).request("GET", url);
    const done = new Deferred<void>();
    response.deliverBody({
      makeConnection() {},
      dataReceived(data: Uint8Array) {
        count += data.length;
      },
      connectionLost(reason: Failure) {
        done.callback(undefined);
        if (!reason.check(Error)) throw reason.value;
      },
    });
    await done;
  } else if (client === "download-fetch") {
    const response = await fetch(url);
    for await (const chunk of response.body!) count += chunk.length;
  } else {
    const input = await Deno.open(file);
    let response: string;
    if (client === "upload-fetch") {
      const r = await fetch(url, { method: "PUT", body: input.readable });
      response = await r.text();
    } else {
      const body = new FileBodyProducer(client === "upload-torsion" ? input : input.readable);
      const r = await new Agent(reactor).request("PUT", url, {}, body);
      response = new TextDecoder().decode(await readBody(r));
    }
    count = Number(response);
  }
  const ms = performance.now() - start;
  const growth = stop();
  if (count !== size) throw new Error(`${client}: ${count} bytes, not ${size}`);
  console.log(JSON.stringify({ growth, ms }));
}

/** Serves `size` bytes with Content-Length to every connection, from one 1 MiB buffer. */
function bigBodyServer(size: number): { port: number; close(): Promise<void> } {
  const block = new Uint8Array(2 ** 20).fill(0x62);
  const head = new TextEncoder().encode(
    `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`,
  );
  return rawServer(async (conn) => {
    for (let done = 0; done < head.length;) done += await conn.write(head.subarray(done));
    for (let left = size; left > 0;) {
      const piece = left >= block.length ? block : block.subarray(0, left);
      left -= await conn.write(piece);
    }
  });
}

async function runTransfer(client: string, url: string, file: string, size: number) {
  const result = await runChild(["--transfer-client", client, url, file, String(size)]);
  const rate = size / 2 ** 20 / (result.ms / 1000);
  return { ...result, rate };
}

function report(label: string, result: { growth: number; ms: number; rate: number }): void {
  console.log(
    `  ${label.padEnd(32)} ${result.rate.toFixed(0).padStart(5)} MiB/s ` +
      `${result.ms.toFixed(0).padStart(6)} ms  RSS +${mib(result.growth)}`,
  );
}

{
  const download = bigBodyServer(GiB);
  console.log("A 1 GiB download, streamed (client process: rate, time, peak RSS growth):");
  const url = `http://127.0.0.1:${download.port}/`;
  report("torsion Agent + deliverBody", await runTransfer("download-torsion", url, "", GiB));
  report("fetch + body reader", await runTransfer("download-fetch", url, "", GiB));
  await download.close();

  const dir = await Deno.makeTempDir({ prefix: "torsion-bench-" });
  const file = `${dir}/upload.bin`;
  const out = await Deno.open(file, { write: true, create: true });
  const block = new Uint8Array(2 ** 20).fill(0x75);
  for (let i = 0; i < GiB / block.length; i++) {
    for (let done = 0; done < block.length;) done += await out.write(block.subarray(done));
  }
  out.close();
  const upload = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    let count = 0;
    for await (const chunk of request.body!) count += chunk.length;
    return new Response(String(count));
  });
  const uploadURL = `http://127.0.0.1:${upload.addr.port}/upload`;
  console.log("A 1 GiB upload of a file (client process: rate, time, peak RSS growth):");
  try {
    report(
      "FileBodyProducer(file)",
      await runTransfer("upload-torsion", uploadURL, file, GiB),
    );
    report(
      "FileBodyProducer(file.readable)",
      await runTransfer("upload-torsion-stream", uploadURL, file, GiB),
    );
    report("fetch (body: file.readable)", await runTransfer("upload-fetch", uploadURL, file, GiB));
  } finally {
    await upload.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}
