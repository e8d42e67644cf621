import assert from "node:assert/strict";
import { Failure } from "../../defer/failure.ts";
import {
  type Address,
  ClientFactory,
  Factory,
  Protocol,
  type ProtocolLike,
  ServerFactory,
  type Transport,
} from "../../protocols/mod.ts";
import { FakeConnector } from "./_fakes.ts";

const ADDR: Address = { type: "TCP", host: "127.0.0.1", port: 9 };

class Echo extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
  }
}

class CountingFactory extends Factory<Echo> {
  override protocol = Echo;
  started = 0;
  stopped = 0;
  override startFactory(): void {
    this.started++;
  }
  override stopFactory(): void {
    this.stopped++;
  }
}

Deno.test("Factory.buildProtocol() makes the protocol and points it at the factory", () => {
  const f = new Factory();
  f.protocol = Echo;
  const p = f.buildProtocol(ADDR);
  assert.ok(p instanceof Echo);
  assert.equal(p.factory, f);
  assert.notEqual(f.buildProtocol(ADDR), p, "one protocol per connection");
});

Deno.test("Factory.buildProtocol() leaves a protocol without a factory field alone", () => {
  class Bare implements ProtocolLike {
    makeConnection(_t: Transport): void {}
    dataReceived(_d: Uint8Array): void {}
    connectionLost(_r: Failure): void {}
  }
  const f = Factory.forProtocol(Bare);
  const p = f.buildProtocol(ADDR);
  assert.ok(p instanceof Bare);
  assert.equal("factory" in p, false);
});

Deno.test("Factory.protocol may be a function that returns a protocol, as in Twisted", async (t) => {
  await t.step("an arrow function is called, not constructed", () => {
    const made = new Protocol();
    const factory = new Factory();
    factory.protocol = () => made;
    const p = factory.buildProtocol(ADDR);
    assert.equal(p, made);
    assert.equal((p as Protocol).factory, factory);
  });
  await t.step("each connection gets what the function returns then", () => {
    let n = 0;
    class Numbered extends Protocol {
      constructor(readonly n: number) {
        super();
      }
    }
    const factory = Factory.forProtocol(() => new Numbered(++n));
    assert.equal((factory.buildProtocol(ADDR) as Numbered).n, 1);
    assert.equal((factory.buildProtocol(ADDR) as Numbered).n, 2);
  });
  await t.step("a plain function returning a protocol works too", () => {
    const made = new Protocol();
    const factory = new Factory();
    factory.protocol = function () {
      return made;
    };
    assert.equal(factory.buildProtocol(ADDR), made);
  });
  await t.step("switching back to a class constructs it again", () => {
    const factory = new Factory();
    factory.protocol = () => new Protocol();
    factory.buildProtocol(ADDR);
    class Mine extends Protocol {}
    factory.protocol = Mine;
    assert.ok(factory.buildProtocol(ADDR) instanceof Mine);
  });
});

Deno.test("Factory.buildProtocol() without a protocol throws TypeError", () => {
  assert.throws(() => new Factory().buildProtocol(ADDR), TypeError);
});

Deno.test("Factory.buildProtocol() may return null to refuse a connection", () => {
  class Refusing extends Factory<Echo> {
    override buildProtocol(_addr: Address): Echo | null {
      return null;
    }
  }
  assert.equal(new Refusing().buildProtocol(ADDR), null);
});

Deno.test("Factory.forProtocol() sets the protocol and keeps the class", async (t) => {
  await t.step("on Factory", () => {
    const f = Factory.forProtocol(Echo);
    assert.equal(f.protocol, Echo);
    assert.ok(f instanceof Factory);
    // The built protocol is typed Echo | null: this compiles only if it is.
    const p: Echo | null = f.buildProtocol(ADDR);
    assert.ok(p instanceof Echo);
  });
  await t.step("on subclasses", () => {
    assert.ok(ServerFactory.forProtocol(Echo) instanceof ServerFactory);
    const c = ClientFactory.forProtocol(Echo);
    assert.ok(c instanceof ClientFactory);
    const p: Echo | null = c.buildProtocol(ADDR);
    assert.ok(p instanceof Echo);
  });
  await t.step("passing the factory's constructor arguments", () => {
    class Named extends Factory {
      constructor(readonly name: string, readonly size: number) {
        super();
      }
    }
    const f = Named.forProtocol(Echo, "echo", 3);
    assert.ok(f instanceof Named);
    assert.equal(f.name, "echo");
    assert.equal(f.size, 3);
    assert.equal(f.protocol, Echo);
  });
});

Deno.test("Factory.doStart()/doStop() call startFactory once and stopFactory at the last stop", () => {
  // As Twisted's FactoryTests.test_serverStartStop, with three ports.
  const f = new CountingFactory();
  f.doStart();
  f.doStart();
  f.doStart();
  assert.deepEqual([f.started, f.stopped, f.numPorts], [1, 0, 3]);
  f.doStop();
  f.doStop();
  assert.deepEqual([f.started, f.stopped, f.numPorts], [1, 0, 1]);
  f.doStop();
  assert.deepEqual([f.started, f.stopped, f.numPorts], [1, 1, 0]);
  f.doStart();
  assert.deepEqual([f.started, f.stopped, f.numPorts], [2, 1, 1]);
});

Deno.test("Factory.doStop() without doStart() throws", () => {
  const f = new CountingFactory();
  assert.throws(() => f.doStop(), /doStop\(\) called without doStart\(\)/);
  assert.equal(f.numPorts, 0);
  assert.equal(f.stopped, 0);
});

Deno.test("Factory.logPrefix() names the class", () => {
  assert.equal(new CountingFactory().logPrefix(), "CountingFactory");
});

Deno.test("Factory.protocol can be overridden by a subclass field", () => {
  const f = new CountingFactory();
  assert.equal(f.protocol, Echo);
  assert.ok(f.buildProtocol(ADDR) instanceof Echo);
});

Deno.test("ClientFactory's connection callbacks do nothing by default", () => {
  const f = ClientFactory.forProtocol(Echo);
  const c = new FakeConnector();
  const reason = new Failure(new Error("refused"));
  f.startedConnecting(c);
  f.clientConnectionFailed(c, reason);
  f.clientConnectionLost(c, reason);
  assert.equal(c.connects, 0);
  assert.equal(c.state, "disconnected");
});

Deno.test("ClientFactory can reconnect from clientConnectionLost", () => {
  class Reconnecting extends ClientFactory {
    override clientConnectionLost(connector: FakeConnector, _reason: Failure): void {
      connector.connect();
    }
  }
  const c = new FakeConnector();
  new Reconnecting().clientConnectionLost(c, new Failure(new Error("lost")));
  assert.equal(c.connects, 1);
});
