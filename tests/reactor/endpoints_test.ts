import assert from "node:assert/strict";
import {
  CannotListenError,
  ConnectingCancelledError,
  ConnectionDone,
  ConnectionRefusedError,
  NoProtocol,
} from "../../reactor/connection_errors.ts";
import { reactor } from "../../reactor/deno_reactor.ts";
import {
  clientFromString,
  connectProtocol,
  serverFromString,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
} from "../../reactor/endpoints.ts";
import type { IPAddress } from "../../reactor/interfaces.ts";
import { MemoryReactor } from "../../testing/memory_reactor.ts";
import { StringTransport } from "../../testing/string_transport.ts";
import { assertNoResult, failureResultOf, successResultOf } from "../../testing/assertions.ts";
import { Probe, Probes } from "./_endpoint_probes.ts";

// --- Server endpoints ------------------------------------------------------------

Deno.test("Server endpoints call the reactor's listen method with their options", () => {
  const r = new MemoryReactor();
  const factory = new Probes();
  successResultOf(new TCP4ServerEndpoint(r, 80, { backlog: 9 }).listen(factory));
  successResultOf(new TCP6ServerEndpoint(r, 81).listen(factory));
  assert.deepEqual(r.tcpServers.map(([port, f, backlog, iface]) => [port, f, backlog, iface]), [
    [80, factory, 9, ""],
    [81, factory, 50, "::"],
  ]);
  successResultOf(new UNIXServerEndpoint(r, "/s", { mode: 0o600 }).listen(factory));
  assert.deepEqual(r.unixServers[0].slice(0, 4), ["/s", factory, 50, 0o600]);
});

Deno.test("A server endpoint reports a listening error as a failed Deferred", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const d = serverFromString(reactor, `tcp:${taken.addr.port}:interface=127.0.0.1`)
      .listen(new Probes());
    failureResultOf(d, CannotListenError);
  } finally {
    taken.close();
  }
  // A reactor without UNIX sockets says so.
  const bare = { listenTCP: () => assert.fail(), connectTCP: () => assert.fail() };
  const f = failureResultOf(new UNIXServerEndpoint(bare, "/s").listen(new Probes()), TypeError);
  assert.match(f.getErrorMessage(), /This reactor has no listenUNIX\(\)/);
  failureResultOf(new UNIXClientEndpoint(bare, "/s").connect(new Probes()), TypeError);
  failureResultOf(new SSL4ServerEndpoint(bare, 1, { cert: "", key: "" }).listen(new Probes()));
  failureResultOf(new SSL4ClientEndpoint(bare, "h", 1).connect(new Probes()));
  await Promise.resolve();
});

// --- Client endpoints over real sockets ------------------------------------------

Deno.test("TCP4ClientEndpoint.connect() fires with the protocol after connectionMade", async () => {
  const server = new Probes();
  const port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(server);
  try {
    const client = new Probes();
    const endpoint = clientFromString(
      reactor,
      `tcp:127.0.0.1:${(port.getHost() as IPAddress).port}`,
    );
    const protocol = await endpoint.connect(client) as Probe;
    assert.equal(protocol, client.built[0]);
    assert.equal(protocol.made, 1, "connected before the Deferred fired");
    assert.equal(client.starts, 1);
    protocol.transport!.write("over the endpoint");
    protocol.transport!.loseConnection();
    assert.ok((await protocol.lost.promise).check(ConnectionDone));
    const served = server.built[0];
    await served.lost.promise;
    assert.equal(served.received.join(""), "over the endpoint");
    assert.equal(client.stops, 1);
  } finally {
    await port.stopListening();
  }
});

Deno.test("connectProtocol() connects the protocol given", async () => {
  const port = reactor.listenTCP(0, new Probes(), { interface: "127.0.0.1" });
  try {
    const mine = new Probe();
    const endpoint = new TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port);
    const connected = await connectProtocol(endpoint, mine);
    assert.equal(connected, mine);
    assert.equal(mine.made, 1);
    mine.transport!.loseConnection();
    await mine.lost.promise;
  } finally {
    await port.stopListening();
  }
});

Deno.test("A client endpoint fails with the connection's error", async () => {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = free.addr.port;
  free.close();
  const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", port).connect(new Probes());
  await assert.rejects(d.asPromise(), ConnectionRefusedError);
});

Deno.test("A client endpoint fails with NoProtocol when buildProtocol returns null", async () => {
  const server = new Probes();
  const port = reactor.listenTCP(0, server, { interface: "127.0.0.1" });
  try {
    const client = new Probes();
    client.refuse = true;
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port).connect(client);
    await assert.rejects(d.asPromise(), NoProtocol);
    await server.built[0]?.lost.promise;
  } finally {
    await port.stopListening();
  }
});

Deno.test("Cancelling connect() stops connecting with ConnectingCancelledError", () => {
  const r = new MemoryReactor();
  const d = new TCP4ClientEndpoint(r, "example.com", 80).connect(new Probes());
  assertNoResult(d);
  d.cancel();
  const f = failureResultOf(d, ConnectingCancelledError);
  assert.deepEqual((f.value as ConnectingCancelledError).address, {
    type: "TCP",
    host: "example.com",
    port: 80,
  });
  assert.equal(r.connectors[0].stoppedConnecting, true);
  // A connection made after all is refused.
  const [, , factory] = r.tcpClients[0];
  assert.equal(factory.buildProtocol({ type: "TCP", host: "example.com", port: 80 }), null);
});

Deno.test("A client endpoint on a fake reactor: the protocol is handed over unwrapped", () => {
  const r = new MemoryReactor();
  const client = new Probes();
  const d = new UNIXClientEndpoint(r, "/s", { timeout: 3 }).connect(client);
  const [path, factory, timeout] = r.unixClients[0];
  assert.deepEqual([path, timeout], ["/s", 3]);
  const protocol = factory.buildProtocol({ type: "UNIX", path: "/s" })!;
  assert.equal(protocol, client.built[0], "no wrapper");
  assertNoResult(d);
  protocol.makeConnection(new StringTransport());
  assert.equal(successResultOf(d), protocol);
  assert.equal(Object.hasOwn(protocol, "makeConnection"), false, "makeConnection restored");
});
