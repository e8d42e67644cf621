// getPage in callback style: Twisted's classic first client.
//
//   deno run -A examples/get_page_callbacks.ts [URL]    (default http://127.0.0.1:8080/)
//
// As in Twisted, getPage returns a Deferred; callbacks print the page or the
// error, and both paths stop the reactor, which then exits the process.
import process from "node:process";
import { type Failure, getPage, reactor } from "../mod.ts";

const url = Deno.args[0] ?? "http://127.0.0.1:8080/";

function printPage(body: Uint8Array): void {
  console.log(new TextDecoder().decode(body));
}

function printError(failure: Failure): void {
  console.error(`could not fetch ${url}: ${failure.getErrorMessage()}`);
  process.exitCode = 1;
}

getPage(url, { timeout: 10 })
  .addCallbacks(printPage, printError)
  .addBoth(() => reactor.stop());

await reactor.run();
