// An echo server: a Protocol that writes back what it receives.
//
//   deno run -A examples/echo_server.ts [PORT] [--once]   (default 8007; 0 picks one)
//
// With --once it stops after its first connection ends, which is how the
// tests run it. Otherwise Ctrl-C stops it gracefully.
import { Factory, Protocol, reactor } from "../mod.ts";

const once = Deno.args.includes("--once");
const port = Number(Deno.args.find((arg) => !arg.startsWith("--")) ?? 8007);

class Echo extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
  }

  override connectionLost(): void {
    if (once) reactor.stop();
  }
}

const listening = reactor.listenTCP(port, Factory.forProtocol(Echo), { interface: "127.0.0.1" });
console.log(`echo listening on 127.0.0.1:${listening.getHost().port}`);
await reactor.run();
