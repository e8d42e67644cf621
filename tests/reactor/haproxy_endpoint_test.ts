import assert from "node:assert/strict";
import type { Failure } from "../../defer/failure.ts";
import { reactor } from "../../reactor/deno_reactor.ts";
import {
  EndpointDescriptionError,
  serverFromString,
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  UNIXServerEndpoint,
} from "../../reactor/endpoints.ts";
import { HAProxyServerEndpoint, proxyEndpoint } from "../../reactor/haproxy_endpoint.ts";
import type { Address, FactoryLike, ProtocolLike, Transport } from "../../reactor/interfaces.ts";
import { type LogEvent, setLogSink } from "../../reactor/log.ts";
import { MemoryReactor, MemoryReactorClock } from "../../testing/memory_reactor.ts";
import { within } from "../_helpers.ts";
import { concat, text, unixPath, v2 } from "./_proxy_headers.ts";

const decoder = new TextDecoder();

function show(a: Address): string {
  return a.type === "UNIX" ? `unix ${a.path}` : `${a.type} ${a.host}:${a.port}`;
}

/** Replies with the peer and host it sees at connectionMade, then the first bytes it gets, then closes. */
class WhoAmI implements ProtocolLike {
  transport: Transport | null = null;
  makeConnection(transport: Transport): void {
    this.transport = transport;
    transport.write(`peer ${show(transport.getPeer())}; host ${show(transport.getHost())}\n`);
  }
  dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
    this.transport!.loseConnection();
  }
  connectionLost(_reason: Failure): void {}
}

const whoAmI: FactoryLike = { buildProtocol: () => new WhoAmI(), doStart() {}, doStop() {} };

async function exchange(conn: Deno.Conn, send: Uint8Array): Promise<string> {
  await conn.write(send);
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) break;
      throw error;
    }
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  conn.close();
  return decoder.decode(concat(...chunks));
}

Deno.test("serverFromString() wraps any server endpoint with haproxy:", async (t) => {
  const r = new MemoryReactor();
  await t.step("tcp, its fields handed on", () => {
    const e = serverFromString(r, "haproxy:tcp:8080:interface=127.0.0.1");
    assert.ok(e instanceof HAProxyServerEndpoint);
    const inner = e.wrappedEndpoint as TCP4ServerEndpoint;
    assert.ok(inner instanceof TCP4ServerEndpoint);
    assert.equal(inner.port, 8080);
    assert.deepEqual(inner.options, { interface: "127.0.0.1" });
    assert.deepEqual(e.options, {}, "a reactor without a clock: real time");
  });
  await t.step("tcp6 and unix, escapes kept for the wrapped description", () => {
    const e6 = serverFromString(r, "HAPROXY:tcp6:80:interface=\\:\\:1") as HAProxyServerEndpoint;
    assert.ok(e6.wrappedEndpoint instanceof TCP6ServerEndpoint);
    assert.deepEqual(e6.wrappedEndpoint.options, { interface: "::1" });
    const u = serverFromString(r, "haproxy:unix:/tmp/a\\:b.sock:mode=600") as HAProxyServerEndpoint;
    assert.ok(u.wrappedEndpoint instanceof UNIXServerEndpoint);
    assert.equal(u.wrappedEndpoint.path, "/tmp/a:b.sock");
  });
  await t.step("the header timeout runs on the reactor's clock", () => {
    const clocked = new MemoryReactorClock();
    const e = serverFromString(clocked, "haproxy:tcp:80") as HAProxyServerEndpoint;
    assert.equal(e.options.clock, clocked);
  });
  await t.step("errors", () => {
    const cases: Array<[string, RegExp]> = [
      ["haproxy", /No endpoint to wrap after haproxy: in endpoint description "haproxy"/],
      ["haproxy:", /No endpoint to wrap/],
      ["haproxy:haproxy:tcp:80", /haproxy: cannot wrap haproxy:/],
      ["haproxy:tcp:http", /The port must be an integer/],
      [
        "haproxy:gopher:70",
        /Unknown endpoint type gopher \(known: tcp, tcp6, unix, ssl, haproxy\)/,
      ],
    ];
    for (const [description, message] of cases) {
      assert.throws(() => serverFromString(r, description), EndpointDescriptionError);
      assert.throws(() => serverFromString(r, description), message);
    }
  });
});

Deno.test("proxyEndpoint() wraps an endpoint with options", () => {
  const inner = new TCP4ServerEndpoint(new MemoryReactor(), 80);
  const e = proxyEndpoint(inner, { timeout: 3 });
  assert.equal(e.wrappedEndpoint, inner);
  assert.deepEqual(e.options, { timeout: 3 });
});

Deno.test("A haproxy:tcp: port serves a client with the header's address", async () => {
  const port = await serverFromString(reactor, "haproxy:tcp:0:interface=127.0.0.1").listen(whoAmI);
  try {
    const { port: number } = port.getHost() as { port: number };
    for (
      const [header, expected] of [
        [
          text("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n"),
          "peer TCP 192.0.2.7:56324; host TCP 198.51.100.1:443",
        ],
        [
          text("PROXY TCP6 2001:db8::7 2001:db8::1 1 2\r\n"),
          "peer TCP 2001:db8::7:1; host TCP 2001:db8::1:2",
        ],
        [v2(0x20, 0x00), "peer TCP 127.0.0.1:"],
      ] as const
    ) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: number });
      const reply = await within(5, exchange(conn, concat(header, text("ping"))), "the reply");
      assert.ok(reply.startsWith(expected), reply);
      assert.ok(reply.endsWith("\nping"), reply);
    }
  } finally {
    await port.stopListening();
  }
});

Deno.test("A haproxy:unix: port reads a v2 UNIX header", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/app.sock`;
  const port = await serverFromString(reactor, `haproxy:unix:${path}`).listen(whoAmI);
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    const header = v2(0x21, 0x31, [...unixPath("/run/client"), ...unixPath("/run/front")]);
    const reply = await within(5, exchange(conn, concat(header, text("ping"))), "the reply");
    assert.equal(reply, "peer unix /run/client; host unix /run/front\nping");
  } finally {
    await port.stopListening();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A haproxy:tcp: port drops a client that sends no header, and logs it", async () => {
  const events: LogEvent[] = [];
  const before = setLogSink((_, event) => events.push(event));
  const port = await serverFromString(reactor, "haproxy:tcp:0:interface=127.0.0.1").listen(whoAmI);
  try {
    const { port: number } = port.getHost() as { port: number };
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: number });
    const reply = await within(5, exchange(conn, text("GET / HTTP/1.0\r\n\r\n")), "the close");
    assert.equal(reply, "");
    assert.equal(events.length, 1);
    assert.match(
      events[0].message,
      /^Dropping the connection from 127\.0\.0\.1:\d+: Expected a PROXY protocol header, not "GET/,
    );
  } finally {
    await port.stopListening();
    setLogSink(before);
  }
});
