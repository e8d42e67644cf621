// A backend for the HAProxy interop test, run as users run their own code:
//
//   deno run -A cli.ts run tests/interop/haproxy_backend.ts --listen haproxy:tcp:0:interface=127.0.0.1
//
// The runner prints `haproxy_backend listening on tcp 127.0.0.1:PORT`. Every
// connection is answered with one line, the client it sees and the pid of
// the process (`peer 127.0.0.2:40000 pid 1234`), then closed. Each one is
// also logged with its PROXY command (`connection LOCAL from ...`), so the
// test can see HAProxy's health checks arrive.
import { type Address, HAProxyProtocolWrapper, Logger, Protocol } from "../../mod.ts";

const log = new Logger("haproxy_backend");

function show(address: Address): string {
  return address.type === "UNIX" ? address.path : `${address.host}:${address.port}`;
}

export default class WhoAmI extends Protocol {
  override connectionMade(): void {
    const transport = this.transport!;
    // The wrapper is the transport: it holds the header that was read.
    const command = transport instanceof HAProxyProtocolWrapper
      ? transport.proxyInfo?.command
      : "without a PROXY header";
    log.info(`connection ${command} from ${show(transport.getPeer())}`);
    transport.write(`peer ${show(transport.getPeer())} pid ${Deno.pid}\n`);
    transport.loseConnection();
  }
}
