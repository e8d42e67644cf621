import assert from "node:assert/strict";
import { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import { ConnectionRefusedError } from "../../reactor/connection_errors.ts";
import { ReactorAlreadyRunning, ReactorNotRunning } from "../../reactor/errors.ts";
import type { Connector } from "../../reactor/interfaces.ts";
import { ClientCreator } from "../../protocols/client_creator.ts";
import { ClientFactory, Factory } from "../../protocols/factory.ts";
import { Protocol } from "../../protocols/protocol.ts";
import {
  FakeConnector,
  FakePort,
  MemoryReactor,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from "../../testing/mod.ts";

class Recording extends ClientFactory {
  events: Array<[string, Connector]> = [];
  override startedConnecting(connector: Connector): void {
    this.events.push(["started", connector]);
  }
}

Deno.test("MemoryReactor.listenTCP() records the call and returns a fake port", () => {
  const reactor = new MemoryReactor();
  const factory = Factory.forProtocol(Protocol);
  const port = reactor.listenTCP(8080, factory);
  const local = reactor.listenTCP(0, factory, { backlog: 5, interface: "127.0.0.1" });
  const v6 = reactor.listenTCP(443, factory, { interface: "::1" });
  assert.deepEqual(reactor.tcpServers, [
    [8080, factory, 50, ""],
    [0, factory, 5, "127.0.0.1"],
    [443, factory, 50, "::1"],
  ]);
  assert.ok(port instanceof FakePort);
  assert.deepEqual(port.getHost(), { type: "TCP", host: "0.0.0.0", port: 8080 });
  assert.deepEqual(local.getHost(), { type: "TCP", host: "127.0.0.1", port: 0 });
  assert.deepEqual(v6.getHost(), { type: "TCP", host: "::1", port: 443 });
  assert.equal(factory.numPorts, 0);
});

Deno.test("FakePort.stopListening() returns a fired Deferred", () => {
  const port = new MemoryReactor().listenTCP(1, Factory.forProtocol(Protocol));
  assert.equal(port.listening, true);
  assert.equal(successResultOf(port.stopListening()), undefined);
  assert.equal(port.listening, false);
});

Deno.test("MemoryReactor.connectTCP() records the call and tells the factory", () => {
  const reactor = new MemoryReactor();
  const factory = new Recording();
  const connector = reactor.connectTCP("example.com", 80, factory);
  reactor.connectTCP("::1", 6379, factory, { timeout: 5, bindAddress: ["::1", 4000] });
  assert.deepEqual(reactor.tcpClients, [
    ["example.com", 80, factory, 30, null],
    ["::1", 6379, factory, 5, ["::1", 4000]],
  ]);
  assert.deepEqual(factory.events.map(([event]) => event), ["started", "started"]);
  assert.equal(factory.events[0][1], connector);
  assert.deepEqual(reactor.connectors, [connector, factory.events[1][1]]);
  assert.deepEqual(connector.getDestination(), { type: "TCP", host: "example.com", port: 80 });
});

Deno.test("MemoryReactor.connectTCP() accepts a factory without startedConnecting", () => {
  const reactor = new MemoryReactor();
  const factory = {
    buildProtocol: () => new Protocol(),
    doStart() {},
    doStop() {},
  };
  const connector = reactor.connectTCP("10.1.1.1", 22, factory);
  assert.equal(reactor.tcpClients[0][2], factory);
  assert.equal(connector.state, "connecting");
});

Deno.test("FakeConnector records what it is asked", () => {
  const connector = new FakeConnector({ type: "TCP", host: "h", port: 1 });
  assert.deepEqual(
    [connector.state, connector.stoppedConnecting, connector.disconnected, connector.connectCount],
    ["connecting", false, false, 0],
  );
  connector.stopConnecting();
  assert.deepEqual([connector.state, connector.stoppedConnecting], ["disconnected", true]);
  connector.connect();
  assert.deepEqual([connector.state, connector.connectCount], ["connecting", 1]);
  connector.disconnect();
  assert.deepEqual([connector.state, connector.disconnected], ["disconnected", true]);
});

Deno.test("MemoryReactor records SSL, UNIX and UDP calls", () => {
  const reactor = new MemoryReactor();
  const server = Factory.forProtocol(Protocol);
  const client = new Recording();
  const udp = { datagramReceived() {} };

  const sslPort = reactor.listenSSL(443, server, { cert: "C", key: "K" }, {
    interface: "10.0.0.1",
  });
  const sslConnector = reactor.connectSSL("example.com", 443, client, { caCerts: ["CA"] }, {
    timeout: 5,
  });
  const unixPort = reactor.listenUNIX("/run/a.sock", server, { mode: 0o600 });
  const unixConnector = reactor.connectUNIX("/run/a.sock", client, { timeout: 3 });
  const udpPort = reactor.listenUDP(53, udp, { maxPacketSize: 512 });

  assert.deepEqual(reactor.sslServers, [
    [443, server, { cert: "C", key: "K" }, 50, "10.0.0.1"],
  ]);
  assert.deepEqual(reactor.sslClients, [
    ["example.com", 443, client, { caCerts: ["CA"] }, 5, null],
  ]);
  assert.deepEqual(reactor.unixServers, [["/run/a.sock", server, 50, 0o600, false]]);
  assert.deepEqual(reactor.unixClients, [["/run/a.sock", client, 3, false]]);
  assert.deepEqual(reactor.udpPorts, [[53, udp, "", 512]]);

  assert.deepEqual(sslPort.getHost(), { type: "TCP", host: "10.0.0.1", port: 443 });
  assert.deepEqual(unixPort.getHost(), { type: "UNIX", path: "/run/a.sock" });
  assert.deepEqual(udpPort.getHost(), { type: "UDP", host: "0.0.0.0", port: 53 });
  assert.deepEqual(sslConnector.getDestination(), {
    type: "TCP",
    host: "example.com",
    port: 443,
  });
  assert.deepEqual(unixConnector.getDestination(), { type: "UNIX", path: "/run/a.sock" });
  assert.deepEqual(reactor.connectors, [sslConnector, unixConnector]);
  assert.equal(client.events.length, 2);
});

Deno.test("MemoryReactor.run() fires startup and sets running during it", () => {
  const reactor = new MemoryReactor();
  const seen: Array<[string, boolean]> = [];
  for (const phase of ["before", "during", "after"] as const) {
    reactor.addSystemEventTrigger(phase, "startup", () => seen.push([phase, reactor.running]));
  }
  assert.deepEqual([reactor.running, reactor.hasRun], [false, false]);
  const stopped = reactor.run();
  assert.deepEqual(seen, [["before", false], ["during", true], ["after", true]]);
  assert.deepEqual([reactor.running, reactor.hasRun, reactor.hasStopped], [true, true, false]);
  assert.equal(stopped.called, false);
  reactor.stop();
});

Deno.test("MemoryReactor.callWhenRunning() waits for run(), or calls now", () => {
  const reactor = new MemoryReactor();
  const calls: string[] = [];
  const id = reactor.callWhenRunning((what: string) => calls.push(what), "queued");
  assert.notEqual(id, undefined);
  assert.equal(calls.length, 0);
  reactor.run();
  assert.deepEqual(calls, ["queued"]);
  assert.equal(reactor.callWhenRunning((what: string) => calls.push(what), "now"), undefined);
  assert.deepEqual(calls, ["queued", "now"]);
  assert.equal(reactor.whenRunningHooks.length, 2);
  assert.deepEqual(reactor.whenRunningHooks.map(([, args]) => args), [["queued"], ["now"]]);
  reactor.stop();
});

Deno.test("MemoryReactor.stop() fires shutdown, then the Deferred of run()", () => {
  const reactor = new MemoryReactor();
  const events: string[] = [];
  const hold = new Deferred<void>();
  reactor.addSystemEventTrigger("before", "shutdown", () => {
    events.push(`before running=${reactor.running}`);
    return hold;
  });
  reactor.addSystemEventTrigger("after", "shutdown", () => void events.push("after"));
  const stopped = reactor.run();
  stopped.addCallback(() => void events.push("stopped"));
  reactor.stop();
  assert.deepEqual([reactor.running, reactor.hasStopped], [false, true]);
  assert.deepEqual(events, ["before running=false"]);
  hold.callback(undefined);
  assert.deepEqual(events, ["before running=false", "after", "stopped"]);
});

Deno.test("MemoryReactor refuses to run twice or stop when stopped", () => {
  const reactor = new MemoryReactor();
  assert.throws(() => reactor.stop(), ReactorNotRunning);
  reactor.run();
  assert.throws(() => reactor.run(), ReactorAlreadyRunning);
  reactor.stop();
  assert.throws(() => reactor.stop(), ReactorNotRunning);
  // A fake may run again.
  const seen: boolean[] = [];
  reactor.addSystemEventTrigger("after", "startup", () => seen.push(reactor.running));
  reactor.run();
  assert.deepEqual(seen, [true]);
  reactor.stop();
});

Deno.test("MemoryReactor.crash() stops without shutdown triggers", () => {
  const reactor = new MemoryReactor();
  const events: string[] = [];
  reactor.addSystemEventTrigger("before", "shutdown", () => void events.push("shutdown"));
  const stopped = reactor.run();
  reactor.crash();
  assert.deepEqual([reactor.running, reactor.hasCrashed, reactor.hasStopped], [false, true, false]);
  assert.deepEqual(events, []);
  assert.equal(stopped.called, false);
});

Deno.test("MemoryReactor.triggers lists the triggers by phase and event", () => {
  const reactor = new MemoryReactor();
  const f = (n: number): number => n;
  const g = (): void => {};
  const id = reactor.addSystemEventTrigger("before", "shutdown", f, 1);
  reactor.addSystemEventTrigger("before", "shutdown", g);
  reactor.addSystemEventTrigger("after", "custom", f, 2);
  assert.deepEqual(reactor.triggers, {
    before: { shutdown: [[f, [1]], [g, []]] },
    during: {},
    after: { custom: [[f, [2]]] },
  });
  reactor.removeSystemEventTrigger(id);
  assert.deepEqual(reactor.triggers.before, { shutdown: [[g, []]] });
  assert.throws(() => reactor.removeSystemEventTrigger(id), /is not registered/);
});

Deno.test("MemoryReactor.fireSystemEvent() runs a custom event's triggers", () => {
  const reactor = new MemoryReactor();
  const order: string[] = [];
  reactor.addSystemEventTrigger("after", "reload", () => void order.push("after"));
  reactor.addSystemEventTrigger("before", "reload", () => void order.push("before"));
  const removed = reactor.addSystemEventTrigger("during", "reload", () => void order.push("x"));
  reactor.removeSystemEventTrigger(removed);
  assert.equal(successResultOf(reactor.fireSystemEvent("reload")), undefined);
  assert.deepEqual(order, ["before", "after"]);
  assert.equal(reactor.hasRun, false);
});

Deno.test("MemoryReactorClock schedules calls on its own clock", () => {
  const reactor = new MemoryReactorClock();
  const calls: Array<[string, number]> = [];
  reactor.callLater(2, (what: string) => calls.push([what, reactor.seconds()]), "two");
  const cancelled = reactor.callLater(1, () => calls.push(["one", reactor.seconds()]));
  assert.equal(reactor.getDelayedCalls().length, 2);
  cancelled.cancel();
  assert.equal(reactor.getDelayedCalls().length, 1);
  reactor.advance(1.5);
  assert.deepEqual(calls, []);
  reactor.pump([0.25, 0.25]);
  assert.deepEqual(calls, [["two", 2]]);
  assert.equal(reactor.seconds(), 2);
  assert.deepEqual(reactor.getDelayedCalls(), []);
});

Deno.test("MemoryReactorClock drives a ClientCreator end to end", () => {
  class Greeter extends Protocol {
    override connectionMade(): void {
      this.transport!.write("hi");
    }
  }
  const reactor = new MemoryReactorClock();
  const d = new ClientCreator(reactor, Greeter).connectTCP("example.com", 7, { timeout: 9 });
  const [host, port, factory, timeout, bindAddress] = reactor.tcpClients[0];
  assert.deepEqual([host, port, timeout, bindAddress], ["example.com", 7, 9, null]);
  const protocol = factory.buildProtocol({ type: "TCP", host: "example.com", port: 7 })!;
  const transport = new StringTransport();
  protocol.makeConnection(transport);
  assert.equal(transport.valueString(), "hi");
  assert.equal(d.called, false);
  reactor.advance(0);
  assert.equal(successResultOf(d), protocol);
});

Deno.test("MemoryReactorClock reports failed attempts through the factory", () => {
  const reactor = new MemoryReactorClock();
  const failures: string[] = [];
  class Failing extends ClientFactory {
    override clientConnectionFailed(_connector: Connector, reason: Failure): void {
      failures.push(reason.getErrorMessage());
    }
  }
  const connector = reactor.connectTCP("example.com", 1, new Failing());
  const [, , factory] = reactor.tcpClients[0];
  factory.clientConnectionFailed!(connector, new Failure(new ConnectionRefusedError()));
  assert.deepEqual(failures, ["Connection was refused by the other side"]);
});
