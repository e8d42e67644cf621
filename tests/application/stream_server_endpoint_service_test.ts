import assert from "node:assert/strict";
import { Deferred } from "../../defer/deferred.ts";
import { succeed } from "../../defer/helpers.ts";
import { CannotListenError } from "../../reactor/connection_errors.ts";
import { DenoReactor } from "../../reactor/deno_reactor.ts";
import { serverFromString } from "../../reactor/endpoints.ts";
import type { FactoryLike, ListeningPort } from "../../reactor/interfaces.ts";
import { setLogSink } from "../../reactor/log.ts";
import { Factory } from "../../protocols/factory.ts";
import { Echo } from "../../protocols/wire.ts";
import { StreamServerEndpointService } from "../../application/stream_server_endpoint_service.ts";
import { assertNoResult, failureResultOf, successResultOf } from "../../testing/assertions.ts";

/** An endpoint whose listen() the test settles by hand. */
class FakeEndpoint {
  listens: Array<{ factory: FactoryLike; d: Deferred<ListeningPort>; cancelled: boolean }> = [];
  stops = 0;
  listen(factory: FactoryLike): Deferred<ListeningPort> {
    const attempt = {
      factory,
      d: undefined as unknown as Deferred<ListeningPort>,
      cancelled: false,
    };
    attempt.d = new Deferred<ListeningPort>(() => (attempt.cancelled = true));
    this.listens.push(attempt);
    return attempt.d;
  }
  port(stop: Deferred<void> = succeed(undefined)): ListeningPort {
    return {
      getHost: () => ({ type: "TCP", host: "127.0.0.1", port: 1234 }),
      stopListening: () => {
        this.stops++;
        return stop;
      },
    };
  }
}

const factory = Factory.forProtocol(Echo);

Deno.test("StreamServerEndpointService listens on start and waits for the port on stop", () => {
  const endpoint = new FakeEndpoint();
  const service = new StreamServerEndpointService(endpoint, factory, "echo");
  const started = service.startService();
  assert.equal(endpoint.listens.length, 1);
  assert.equal(endpoint.listens[0].factory, factory);
  assertNoResult(started);
  const port = endpoint.port(new Deferred<void>());
  endpoint.listens[0].d.callback(port);
  successResultOf(started);
  assert.equal(service.port, port);
  const closing = new Deferred<void>();
  port.stopListening = () => {
    endpoint.stops++;
    return closing;
  };
  const stopped = service.stopService();
  assert.equal(endpoint.stops, 1);
  assertNoResult(stopped);
  assert.equal(service.running, true);
  closing.callback(undefined);
  successResultOf(stopped);
  assert.equal(service.running, false);
  assert.equal(service.port, undefined);
});

Deno.test("StreamServerEndpointService listens in privilegedStartService, once", () => {
  const endpoint = new FakeEndpoint();
  const service = new StreamServerEndpointService(endpoint, factory);
  service.privilegedStartService();
  assert.equal(endpoint.listens.length, 1);
  service.startService();
  assert.equal(endpoint.listens.length, 1);
  endpoint.listens[0].d.callback(endpoint.port());
  successResultOf(service.stopService());
});

Deno.test("StreamServerEndpointService: stopping before the port is up cancels the listen", () => {
  const endpoint = new FakeEndpoint();
  const service = new StreamServerEndpointService(endpoint, factory);
  service.startService();
  const stopped = service.stopService();
  assert.equal(endpoint.listens[0].cancelled, true);
  successResultOf(stopped);
  assert.equal(service.running, false);
});

Deno.test("StreamServerEndpointService: a listen failure is logged and fails the start", () => {
  const lines: string[] = [];
  const before = setLogSink((text) => lines.push(text));
  try {
    const endpoint = new FakeEndpoint();
    const service = new StreamServerEndpointService(endpoint, factory, "web");
    const started = service.startService();
    endpoint.listens[0].d.errback(new CannotListenError("", 80, { cause: new Error("in use") }));
    const failure = failureResultOf(started, CannotListenError);
    assert.match(failure.getErrorMessage(), /Cannot listen on any:80: in use/);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /\[error\] service: web cannot listen: Cannot listen on any:80/);
    successResultOf(service.stopService());
  } finally {
    setLogSink(before);
  }
});

Deno.test("StreamServerEndpointService serves a real TCP port until stopped", async () => {
  const reactor = new DenoReactor();
  const service = new StreamServerEndpointService(
    serverFromString(reactor, "tcp:0:interface=127.0.0.1"),
    factory,
  );
  await service.startService();
  const address = service.port!.getHost();
  assert.equal(address.type, "TCP");
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: (address as { port: number }).port,
  });
  await conn.write(new TextEncoder().encode("ping"));
  const buffer = new Uint8Array(16);
  const n = await conn.read(buffer);
  assert.equal(new TextDecoder().decode(buffer.subarray(0, n!)), "ping");
  conn.close();
  await service.stopService();
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: (address as { port: number }).port }),
  );
  await reactor.disconnectAll();
});
