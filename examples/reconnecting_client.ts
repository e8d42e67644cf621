// A client that keeps reconnecting: ReconnectingClientFactory retries with
// exponential backoff (initialDelay, factor, maxDelay, jitter) and resets the
// delay once a connection is made.
//
//   deno run -A examples/reconnecting_client.ts [PORT] [CONNECTIONS]
//
// It connects to an echo server on PORT (default 8007), says hello on each
// connection, and stops after CONNECTIONS (default 3) successful ones. Start
// it before the server to watch the retries.
import {
  type Connector,
  type Failure,
  LineReceiver,
  reactor,
  ReconnectingClientFactory,
} from "../mod.ts";

const port = Number(Deno.args[0] ?? 8007);
const wanted = Number(Deno.args[1] ?? 3);
let connections = 0;

class Hello extends LineReceiver {
  override connectionMade(): void {
    (this.factory as ReconnectingClientFactory).resetDelay();
    this.sendLine(`hello number ${++connections}`);
  }

  override lineReceived(line: string): void {
    console.log(`echoed: ${line}`);
    this.transport!.loseConnection();
  }
}

class Persistent extends ReconnectingClientFactory {
  override protocol = Hello;
  override initialDelay = 0.2;
  override maxDelay = 2;

  override clientConnectionLost(connector: Connector, reason: Failure): void {
    if (connections >= wanted) {
      this.stopTrying();
      reactor.stop();
      return;
    }
    console.log("connection lost; reconnecting");
    super.clientConnectionLost(connector, reason);
  }

  override clientConnectionFailed(connector: Connector, reason: Failure): void {
    console.log(`connection failed (${reason.getErrorMessage()}); retrying`);
    super.clientConnectionFailed(connector, reason);
  }
}

reactor.connectTCP("127.0.0.1", port, new Persistent());
await reactor.run();
console.log(`done after ${connections} connections`);
