// Calls the AMP calculator of examples/amp_server.ts (or a Twisted AMP server
// with the same commands): a sum, 1,000 pipelined sums, and a division by zero
// that comes back as the DivideByZero class.
//
//   deno run -A examples/amp_client.ts PORT
import { AMP, ClientCreator, reactor } from "../mod.ts";
import { Divide, DivideByZero, Sum } from "./amp_server.ts";

const port = Number(Deno.args[0] ?? 7000);
const amp = await new ClientCreator(reactor, AMP).connectTCP("127.0.0.1", port);

const { total } = await amp.callRemote(Sum, { a: 13, b: 81 });
console.log(`13 + 81 = ${total}`);

const sums = await Promise.all(
  Array.from({ length: 1000 }, (_, i) => amp.callRemote(Sum, { a: i, b: i })),
);
console.log(`1000 pipelined sums, the last = ${sums.at(-1)!.total}`);

try {
  await amp.callRemote(Divide, { numerator: 1, denominator: 0 });
} catch (error) {
  if (!(error instanceof DivideByZero)) throw error;
  console.log(`divide: ${error.name}: ${error.message}`);
}
amp.transport!.loseConnection();
