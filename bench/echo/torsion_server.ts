// torsion's echo server for the echo benchmark: a Protocol on listenTCP.
// Usage: deno run -A torsion_server.ts [--borrow]  (prints the port on stdout)
// With --borrow the protocol sets `borrowsData`, so reads reuse one buffer.
import { Factory, Protocol, reactor } from "../../mod.ts";

class Echo extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
  }
}

class BorrowingEcho extends Echo {
  readonly borrowsData = true;
}

// A deep accept queue, as a server expecting bursts of connections would use;
// the default is Twisted's 50.
const port = reactor.listenTCP(
  0,
  Factory.forProtocol(Deno.args.includes("--borrow") ? BorrowingEcho : Echo),
  { interface: "127.0.0.1", backlog: 1024 },
);
console.log(port.getHost().port);
