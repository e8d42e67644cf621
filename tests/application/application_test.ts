import assert from "node:assert/strict";
import { Deferred } from "../../defer/deferred.ts";
import { Application } from "../../application/application.ts";
import { MultiService } from "../../application/multi_service.ts";
import { Service } from "../../application/service.ts";
import { backoffPolicy, ClientService } from "../../reactor/client_service.ts";
import { DenoReactor } from "../../reactor/deno_reactor.ts";
import { serverFromString, TCP4ClientEndpoint } from "../../reactor/endpoints.ts";
import { setLogSink } from "../../reactor/log.ts";
import { Factory } from "../../protocols/factory.ts";
import { Protocol } from "../../protocols/protocol.ts";
import { Echo } from "../../protocols/wire.ts";
import { StreamServerEndpointService } from "../../application/stream_server_endpoint_service.ts";
import { failureResultOf } from "../../testing/assertions.ts";

class Step extends Service {
  stop: Deferred<void> | undefined;
  constructor(name: string, readonly events: string[]) {
    super(name);
  }
  override startService(): void {
    super.startService();
    this.events.push(`start ${this.name}`);
  }
  override stopService(): Deferred<void> | void {
    super.stopService();
    this.events.push(`stop ${this.name}`);
    return this.stop;
  }
}

Deno.test("Application starts with the reactor and stops, in order, before it shuts down", async () => {
  const reactor = new DenoReactor();
  const events: string[] = [];
  const app = new Application("demo");
  const inner = new MultiService("inner");
  new Step("first", events).setServiceParent(app);
  inner.setServiceParent(app);
  new Step("second", events).setServiceParent(inner);
  const slow = new Step("slow", events);
  slow.stop = new Deferred<void>();
  slow.setServiceParent(app);
  reactor.addSystemEventTrigger("during", "shutdown", () => events.push("reactor shutdown"));
  const started = app.startWith(reactor);
  assert.deepEqual(events, []); // nothing before the reactor runs
  const stopped = reactor.run({ installSignalHandlers: false });
  await started;
  assert.deepEqual(events, ["start first", "start second", "start slow"]);
  assert.equal(app.running, true);
  reactor.stop();
  // The shutdown waits for the slow stop.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(events.slice(3), ["stop slow", "stop second", "stop first"]);
  slow.stop.callback(undefined);
  await stopped;
  assert.equal(events.at(-1), "reactor shutdown");
  assert.equal(app.running, false);
  assert.throws(() => app.startWith(reactor), /started already/);
});

Deno.test("Application: a tree that cannot listen fails startWith's Deferred", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const reactor = new DenoReactor();
  try {
    const app = new Application("web");
    new StreamServerEndpointService(
      serverFromString(reactor, `tcp:${busy.addr.port}:interface=127.0.0.1`),
      Factory.forProtocol(Echo),
    ).setServiceParent(app);
    const before = setLogSink(() => {});
    const stopped = reactor.run({ installSignalHandlers: false });
    const started = app.startWith(reactor);
    try {
      const failure = await started.then(() => undefined, (error: unknown) => error);
      assert.match(String((failure as Error).message), /Cannot listen on 127\.0\.0\.1/);
    } finally {
      setLogSink(before);
    }
    reactor.stop();
    await stopped;
  } finally {
    busy.close();
  }
});

Deno.test("ClientService is a child service: connects with the tree, closes with it", async () => {
  const reactor = new DenoReactor();
  const app = new Application("client");
  const server = new StreamServerEndpointService(
    serverFromString(reactor, "tcp:0:interface=127.0.0.1"),
    Factory.forProtocol(Echo),
    "server",
  );
  server.setServiceParent(app);
  const stopped = reactor.run({ installSignalHandlers: false });
  await app.startWith(reactor);
  const port = (server.port!.getHost() as { port: number }).port;
  const client = new ClientService(
    new TCP4ClientEndpoint(reactor, "127.0.0.1", port),
    Factory.forProtocol(Protocol),
    { retryPolicy: backoffPolicy(0.01, 0.01, 1, () => 0) },
  );
  client.name = "client";
  client.setServiceParent(app); // the tree runs: it starts at once
  assert.equal(client.running, true);
  assert.equal(app.getServiceNamed("client"), client);
  const protocol = await client.whenConnected();
  let lost = false;
  const connectionLost = protocol.connectionLost.bind(protocol);
  protocol.connectionLost = (reason) => {
    lost = true;
    connectionLost(reason);
  };
  reactor.stop();
  await stopped;
  assert.equal(client.running, false);
  assert.equal(lost, true);
  failureResultOf(client.whenConnected());
});
