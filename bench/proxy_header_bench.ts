// What reading a PROXY protocol header costs per connection: the v1 and v2
// headers HAProxy sends, parsed whole and byte by byte, and a whole
// connection's wrapper (header, then the protocol built and connected).
// Run with `deno bench bench/proxy_header_bench.ts`.
import { HAProxyWrappingFactory } from "../reactor/haproxy_wrapping_factory.ts";
import { Clock } from "../reactor/clock.ts";
import type { ProtocolLike, Transport } from "../reactor/interfaces.ts";
import { ProxyHeaderParser } from "../reactor/proxy_header_parser.ts";
import { StringTransport } from "../testing/string_transport.ts";

const v1 = new TextEncoder().encode(
  "PROXY TCP4 127.0.0.2 127.0.0.1 40000 8080\r\nGET / HTTP/1.1\r\n",
);
const v2v4 = new Uint8Array([
  ...[0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a],
  ...[0x21, 0x11, 0x00, 0x0c, 127, 0, 0, 2, 127, 0, 0, 1, 0x9c, 0x40, 0x1f, 0x90],
]);
const v2v6 = new Uint8Array([
  ...[0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a],
  ...[0x21, 0x21, 0x00, 0x24],
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
  ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  ...[0x9c, 0x40, 0x1f, 0x90],
]);
let sink = 0;

for (const [name, header] of [["v1 TCP4", v1], ["v2 TCP4", v2v4], ["v2 TCP6", v2v6]] as const) {
  Deno.bench({
    name: `${name}, whole`,
    group: "header",
    fn() {
      sink += new ProxyHeaderParser().feed(header)!.rest.length;
    },
  });
}

Deno.bench({
  name: "v1 TCP4, byte by byte",
  group: "header",
  fn() {
    const parser = new ProxyHeaderParser();
    for (let i = 0; i < v1.length; i++) {
      if (parser.feed(v1.subarray(i, i + 1)) !== null) break;
    }
  },
});

const clock = new Clock();
const protocol: ProtocolLike = {
  makeConnection(t: Transport) {
    sink += t.getPeer().type.length;
  },
  dataReceived() {},
  connectionLost() {},
};
const factory = new HAProxyWrappingFactory(
  { buildProtocol: () => protocol, doStart() {}, doStop() {} },
  { clock },
);
Deno.bench({
  name: "a connection: wrapper, v2 header, protocol connected",
  group: "connection",
  fn() {
    const wrapper = factory.buildProtocol({ type: "TCP", host: "127.0.0.1", port: 1 });
    wrapper.makeConnection(new StringTransport());
    wrapper.dataReceived(v2v4);
  },
});
