// An AMP server with two typed commands, wire-compatible with Twisted's AMP
// (`twisted.protocols.amp`): Sum, and Divide, whose division by zero travels
// to the caller as the error code ZERO_DIVISION.
//
//   deno run -A examples/amp_server.ts [PORT] [--once]   (default 7000; 0 picks one)
//
// The commands are exported for examples/amp_client.ts. With --once the
// server stops after its first connection ends; otherwise Ctrl-C stops it.
import { AMP, command, Factory, Float, Integer, reactor } from "../mod.ts";

/** Raised by Divide's responder; its callers get one back. */
export class DivideByZero extends Error {
  override name = "DivideByZero";
}

export const Sum = command("Sum", { a: Integer, b: Integer }, { total: Integer });
export const Divide = command(
  "Divide",
  { numerator: Integer, denominator: Integer },
  { result: Float },
  { errors: { ZERO_DIVISION: DivideByZero } },
);

class Calculator extends AMP {
  constructor() {
    super();
    this.respond(Sum, ({ a, b }) => {
      console.log(`sum: ${a} + ${b}`);
      return { total: a + b };
    });
    this.respond(Divide, ({ numerator, denominator }) => {
      if (denominator === 0) throw new DivideByZero(`${numerator} / 0`);
      return { result: numerator / denominator };
    });
  }

  override connectionLost(reason: Parameters<AMP["connectionLost"]>[0]): void {
    super.connectionLost(reason);
    if (Deno.args.includes("--once")) reactor.stop();
  }
}

if (import.meta.main) {
  const port = Number(Deno.args.find((arg) => !arg.startsWith("--")) ?? 7000);
  const listening = reactor.listenTCP(port, Factory.forProtocol(Calculator), {
    interface: "127.0.0.1",
  });
  console.log(`AMP calculator listening on 127.0.0.1:${listening.getHost().port}`);
  await reactor.run();
}
