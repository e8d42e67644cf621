// An echo client: connects, sends a line, prints the echo, and hangs up.
//
//   deno run -A examples/echo_client.ts [PORT] [HOST]   (default 8007 on 127.0.0.1)
//
// ClientFactory hears whether the connection failed or was lost; either way
// the reactor stops.
import { ClientFactory, type Connector, type Failure, LineReceiver, reactor } from "../mod.ts";

const port = Number(Deno.args[0] ?? 8007);
const host = Deno.args[1] ?? "127.0.0.1";

class EchoClient extends LineReceiver {
  override connectionMade(): void {
    this.sendLine("Hello, world!");
  }

  override lineReceived(line: string): void {
    console.log(`received: ${line}`);
    this.transport!.loseConnection();
  }
}

class EchoClientFactory extends ClientFactory {
  override protocol = EchoClient;

  override clientConnectionFailed(_connector: Connector, reason: Failure): void {
    console.error(`connection failed: ${reason.getErrorMessage()}`);
    reactor.stop();
  }

  override clientConnectionLost(): void {
    console.log("connection closed");
    reactor.stop();
  }
}

reactor.connectTCP(host, port, new EchoClientFactory(), { timeout: 5 });
await reactor.run();
