// HTTP client throughput: sequential GETs of a 1 KiB page from a local
// Deno.serve, through torsion's Agent on one pooled keep-alive connection,
// against fetch (which keeps its connection alive too).
//
//   deno run -A bench/http_bench.ts [requests]
//
// Each client first warms up (200 requests), then is timed over `requests`
// sequential requests (default 2000); the best of three rounds is reported.
import { Agent, readBody } from "../protocols/http/mod.ts";
import { reactor } from "../reactor/deno_reactor.ts";

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
