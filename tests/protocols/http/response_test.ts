// Response: delivering its body to a protocol, with flow control and trailers.
import assert from "node:assert/strict";
import type { Failure } from "../../../defer/mod.ts";
import { Agent, Protocol, readBody, ResponseDone } from "../../../protocols/mod.ts";
import type { Response as HTTPResponse } from "../../../protocols/mod.ts";
import { MemoryReactorClock } from "../../../testing/mod.ts";
import { bounded, connectLast, withServer } from "./_fakes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (b: Uint8Array): string => decoder.decode(b);

Deno.test(
  "Response.deliverBody() gives a protocol the body, then ResponseDone",
  bounded(() =>
    withServer(() => new Response("piece by piece"), async (base) => {
      const response = await new Agent().request("GET", `${base}/`);
      const events: string[] = [];
      const done = Promise.withResolvers<void>();
      response.deliverBody({
        makeConnection: () => events.push("made"),
        dataReceived: (data) => events.push(text(data)),
        connectionLost: (reason: Failure) => {
          events.push(reason.check(ResponseDone) ? "done" : reason.getErrorMessage());
          done.resolve();
        },
      });
      await done.promise;
      assert.deepEqual([events[0], events.slice(1, -1).join(""), events.at(-1)], [
        "made",
        "piece by piece",
        "done",
      ]);
      assert.throws(() => response.deliverBody(null!), /already been delivered/);
    })
  ),
);

Deno.test("A chunked body's trailers are kept on the response", () => {
  const memory = new MemoryReactorClock();
  let response: HTTPResponse | undefined;
  new Agent(memory).request("GET", "http://example.com/").addCallback((r) => (response = r));
  const { protocol } = connectLast(memory);
  protocol.dataReceived(
    encoder.encode(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Checksum: 42\r\n\r\n",
    ),
  );
  let body: string | undefined;
  readBody(response!).addCallback((b) => (body = text(b)));
  assert.equal(body, "ok");
  assert.deepEqual(response!.trailers.getRawHeaders("x-checksum"), ["42"]);
});

Deno.test("A torsion Protocol can receive a body, and pause it through its transport", () => {
  class Collector extends Protocol {
    chunks: string[] = [];
    reason: Failure | undefined;
    override dataReceived(data: Uint8Array): void {
      this.chunks.push(text(data));
      this.transport!.pauseProducing();
    }
    override connectionLost(reason: Failure): void {
      super.connectionLost(reason);
      this.reason = reason;
    }
  }
  const memory = new MemoryReactorClock();
  let response: HTTPResponse | undefined;
  new Agent(memory).request("GET", "http://example.com/").addCallback((r) => (response = r));
  const { transport, protocol } = connectLast(memory);
  protocol.dataReceived(encoder.encode("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"));
  const collector = new Collector();
  response!.deliverBody(collector);
  assert.deepEqual(collector.chunks, ["ab"]);
  assert.equal(transport.producerState, "paused");
  collector.transport!.resumeProducing();
  protocol.dataReceived(encoder.encode("cd"));
  assert.deepEqual(collector.chunks, ["ab", "cd"]);
  assert.ok(collector.reason?.check(ResponseDone));
});
