// The chat server: a room where every line you type reaches everyone else.
//
//   deno run -A examples/chat_server.ts [PORT]      (default 8023; 0 picks a free port)
//   nc localhost 8023                               (in two or more terminals)
//
// In Twisted this is a Factory holding the users and a LineReceiver per
// connection; torsion's ChatFactory and ChatProtocol are the same shape. Ctrl-C
// stops the reactor, and a "before shutdown" trigger says goodbye to everyone
// first: the reactor waits for the Deferred that sayGoodbye() returns.
import { ChatFactory, reactor } from "../mod.ts";

const port = Number(Deno.args[0] ?? 8023);
const room = new ChatFactory("the example chat");
const listening = reactor.listenTCP(port, room, { interface: "127.0.0.1" });
reactor.addSystemEventTrigger("before", "shutdown", () => room.sayGoodbye());

console.log(`chat listening on 127.0.0.1:${listening.getHost().port}`);
console.log(`connect with: nc localhost ${listening.getHost().port}   (Ctrl-C to stop)`);
await reactor.run();
console.log("chat stopped");
