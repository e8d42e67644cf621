// A backend for the HAProxy interop test: listens on the endpoint given as
// its argument (such as `haproxy:tcp:0:interface=127.0.0.1`), prints
// `listening on PORT`, and answers every connection with one line, the
// client it sees and its own pid (`peer 127.0.0.2:40000 pid 1234`), then
// closes. Each connection is also reported on stdout with its PROXY
// command, so the test can see HAProxy's health checks arrive.
import type { HAProxyProtocolWrapper } from "../../reactor/haproxy_wrapping_factory.ts";
import { reactor, serverFromString } from "../../reactor/mod.ts";
import type { Address, FactoryLike, ProtocolLike, Transport } from "../../reactor/mod.ts";

function show(address: Address): string {
  return address.type === "UNIX" ? address.path : `${address.host}:${address.port}`;
}

class WhoAmI implements ProtocolLike {
  makeConnection(transport: Transport): void {
    const command = (transport as HAProxyProtocolWrapper).proxyInfo?.command;
    console.log(`connection ${command} from ${show(transport.getPeer())}`);
    transport.write(`peer ${show(transport.getPeer())} pid ${Deno.pid}\n`);
    transport.loseConnection();
  }
  dataReceived(): void {}
  connectionLost(): void {}
}

const factory: FactoryLike = { buildProtocol: () => new WhoAmI(), doStart() {}, doStop() {} };
const port = await serverFromString(reactor, Deno.args[0]).listen(factory);
const host = port.getHost();
console.log(`listening on ${host.type === "UNIX" ? host.path : host.port}`);
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
