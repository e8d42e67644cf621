// getPage in inlineCallbacks style: the same client, read top to bottom.
//
//   deno run -A examples/get_page_inline.ts [URL]    (default http://127.0.0.1:8080/)
//
// `yield* d` waits for the Deferred and gives its result, typed; a failure is
// thrown at the yield, so try/catch works as in Twisted's @inlineCallbacks.
// react() runs the reactor, calls main, and exits when its Deferred fires
// (status 1, with the traceback, if it failed).
import { type DenoReactor, getPage, HTTPError, inlineCallbacks, react } from "../mod.ts";

const main = inlineCallbacks(function* (_reactor: DenoReactor, url: string) {
  try {
    const body = yield* getPage(url, { timeout: 10 });
    console.log(new TextDecoder().decode(body));
  } catch (error) {
    if (error instanceof HTTPError) {
      console.error(`${url} answered ${error.status}`);
    }
    throw error;
  }
});

react(main, [Deno.args[0] ?? "http://127.0.0.1:8080/"]);
