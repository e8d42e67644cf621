import assert from "node:assert/strict";
import { Deferred } from "../../defer/deferred.ts";
import {
  ConnectingCancelledError,
  ConnectionRefusedError,
  DNSLookupError,
} from "../../reactor/connection_errors.ts";
import { reactor } from "../../reactor/deno_reactor.ts";
import { HostnameEndpoint } from "../../reactor/endpoints.ts";
import { MemoryReactorClock } from "../../testing/memory_reactor.ts";
import { StringTransport } from "../../testing/string_transport.ts";
import { assertNoResult, failureResultOf, successResultOf } from "../../testing/assertions.ts";
import { type Probe, Probes } from "./_endpoint_probes.ts";

// --- HostnameEndpoint ----------------------------------------------------------

function hostname(
  r: MemoryReactorClock,
  addresses: string[] | Deferred<string[]>,
  attemptDelay?: number,
): HostnameEndpoint {
  return new HostnameEndpoint(r, "example.com", 443, {
    attemptDelay,
    timeout: 10,
    resolver: () => (addresses instanceof Deferred ? addresses : Promise.resolve(addresses)),
  });
}

async function settle(): Promise<void> {
  // The injected resolver's Promise resolves on a later microtask.
  for (let i = 0; i < 3; i++) await Promise.resolve();
}

Deno.test("HostnameEndpoint starts one attempt per address, 0.3 s apart", async () => {
  const r = new MemoryReactorClock();
  const client = new Probes();
  const d = hostname(r, ["2001:db8::1", "192.0.2.1", "192.0.2.2"]).connect(client);
  await settle();
  assert.deepEqual(r.tcpClients.map(([host, , , timeout]) => [host, timeout]), [
    ["2001:db8::1", 10],
  ]);
  r.advance(0.29);
  assert.equal(r.tcpClients.length, 1);
  r.advance(0.01);
  assert.equal(r.tcpClients.length, 2);
  assert.equal(r.tcpClients[1][0], "192.0.2.1");
  // The second address answers first: it wins, the others are stopped.
  const [, , factory] = r.tcpClients[1];
  const protocol = factory.buildProtocol({ type: "TCP", host: "192.0.2.1", port: 443 })!;
  protocol.makeConnection(new StringTransport());
  assert.equal(successResultOf(d), client.built[0]);
  assert.equal(r.connectors[0].stoppedConnecting, true);
  r.advance(1);
  assert.equal(r.tcpClients.length, 2, "no third attempt after a winner");
  // A loser that connects anyway is refused, and builds nothing.
  assert.equal(r.tcpClients[0][2].buildProtocol({ type: "TCP", host: "x", port: 1 }), null);
  assert.equal(client.built.length, 1);
});

Deno.test("HostnameEndpoint moves on at once when an attempt fails", async () => {
  const r = new MemoryReactorClock();
  const d = hostname(r, ["192.0.2.1", "192.0.2.2"]).connect(new Probes());
  await settle();
  const [, , factory] = r.tcpClients[0];
  const { Failure } = await import("../../defer/failure.ts");
  factory.clientConnectionFailed!(r.connectors[0], new Failure(new ConnectionRefusedError()));
  r.advance(0);
  assert.equal(r.tcpClients.length, 2, "the next attempt did not wait 0.3 s");
  assertNoResult(d);
  const [, , second] = r.tcpClients[1];
  second.clientConnectionFailed!(r.connectors[1], new Failure(new DNSLookupError("last")));
  const f = failureResultOf(d, DNSLookupError);
  assert.match(f.getErrorMessage(), /last/, "the last failure is reported");
});

Deno.test("HostnameEndpoint: no addresses is a DNSLookupError, a failed lookup its failure", async () => {
  const r = new MemoryReactorClock();
  const none = hostname(r, []).connect(new Probes());
  await settle();
  failureResultOf(none, DNSLookupError);
  const lookup = new Deferred<string[]>();
  const d = hostname(r, lookup).connect(new Probes());
  lookup.errback(new DNSLookupError("example.com"));
  await settle();
  failureResultOf(d, DNSLookupError);
});

Deno.test("Cancelling HostnameEndpoint.connect() stops every attempt and the timer", async () => {
  const r = new MemoryReactorClock();
  const d = hostname(r, ["192.0.2.1", "192.0.2.2"]).connect(new Probes());
  await settle();
  d.cancel();
  failureResultOf(d, ConnectingCancelledError);
  assert.equal(r.connectors[0].stoppedConnecting, true);
  r.advance(1);
  assert.equal(r.tcpClients.length, 1, "no attempt after cancelling");
  assert.equal(r.getDelayedCalls().length, 0);
  // Cancelling during the lookup cancels the lookup.
  const lookup = new Deferred<string[]>();
  const d2 = hostname(r, lookup).connect(new Probes());
  d2.cancel();
  failureResultOf(d2, ConnectingCancelledError);
});

Deno.test("HostnameEndpoint connects to localhost over real sockets", async () => {
  const server = new Probes();
  const port = reactor.listenTCP(0, server, { interface: "127.0.0.1" });
  try {
    const endpoint = new HostnameEndpoint(reactor, "127.0.0.1", port.getHost().port);
    const protocol = await endpoint.connect(new Probes()) as Probe;
    protocol.transport!.loseConnection();
    await protocol.lost.promise;
    await server.built[0].lost.promise;
  } finally {
    await port.stopListening();
  }
  assert.throws(() => new HostnameEndpoint(reactor, "h", 1, { attemptDelay: -1 }), RangeError);
});
