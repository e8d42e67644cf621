// An echo server that works for its living: before echoing each message it
// spends about 20 µs of CPU (a fixed number of xorshift rounds), as a
// request handler that parses, checks and formats would. Served with
// `cli.ts run` in the workers comparison of bench/echo/run.ts: plain echo on
// a 2-core machine is bound by the load generator's own CPU, a service that
// computes shows what a second worker buys.
//
//   deno run -A cli.ts run bench/echo/busy_echo.ts --listen tcp:8007 --workers 2
import { Protocol } from "../../mod.ts";

/** Rounds of xorshift per message: about 20 µs on the 2-core machine. */
const ROUNDS = 8_000;

let sink = 0;

export default class BusyEcho extends Protocol {
  override dataReceived(data: Uint8Array): void {
    let x = sink | 1;
    for (let i = 0; i < ROUNDS; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
    sink = x;
    this.transport!.write(data);
  }
}
