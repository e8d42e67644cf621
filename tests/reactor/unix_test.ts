import assert from "node:assert/strict";
import type { Failure } from "../../defer/mod.ts";
import {
  CannotListenError,
  ConnectError,
  ConnectionDone,
  ConnectionRefusedError,
} from "../../reactor/connection_errors.ts";
import { reactor } from "../../reactor/deno_reactor.ts";
import { clientFromString, serverFromString } from "../../reactor/endpoints.ts";
import type { Connector, Transport, UNIXAddress } from "../../reactor/interfaces.ts";
import { connectUNIX, listenUNIX } from "../../reactor/unix.ts";
import { within } from "../_helpers.ts";

class Recorder {
  transport: Transport | null = null;
  chunks: Uint8Array[] = [];
  made = Promise.withResolvers<Transport>();
  lost = Promise.withResolvers<Failure>();
  eof = false;
  echo = false;
  halfClose = false;
  makeConnection(t: Transport): void {
    this.transport = t;
    this.made.resolve(t);
  }
  dataReceived(data: Uint8Array): void {
    this.chunks.push(data);
    if (this.echo) this.transport!.write(data);
  }
  connectionLost(reason: Failure): void {
    this.lost.resolve(reason);
  }
  text(): string {
    return this.chunks.map((c) => new TextDecoder().decode(c)).join("");
  }
}

class HalfCloser extends Recorder {
  readConnectionLost(): void {
    this.eof = true;
    this.transport!.write(`got ${this.text()}`);
    this.transport!.loseConnection();
  }
}

function serverFactory(make: () => Recorder) {
  const built: Recorder[] = [];
  return {
    built,
    starts: 0,
    stops: 0,
    buildProtocol() {
      const p = make();
      built.push(p);
      return p;
    },
    doStart() {
      this.starts++;
    },
    doStop() {
      this.stops++;
    },
  };
}

function clientFactory(protocol: Recorder) {
  const failed = Promise.withResolvers<Failure>();
  const lost = Promise.withResolvers<[Connector, Failure]>();
  return {
    failed: failed.promise,
    lost: lost.promise,
    buildProtocol: () => protocol,
    doStart() {},
    doStop() {},
    clientConnectionFailed: (_c: Connector, reason: Failure) => failed.resolve(reason),
    clientConnectionLost: (c: Connector, reason: Failure) => lost.resolve([c, reason]),
  };
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "torsion-unix-" });
}

Deno.test("listenUNIX/connectUNIX: bytes both ways, addresses, a clean close", async () => {
  const dir = await tempDir();
  const path = `${dir}/echo.sock`;
  const server = serverFactory(() => Object.assign(new Recorder(), { echo: true }));
  const port = listenUNIX(path, server);
  try {
    assert.deepEqual(port.getHost(), { type: "UNIX", path });
    assert.equal(server.starts, 1);
    const client = new Recorder();
    const factory = clientFactory(client);
    const connector = reactor.connectUNIX(path, factory);
    assert.deepEqual(connector.getDestination(), { type: "UNIX", path });
    const t = await within(5, client.made.promise, "the connection");
    assert.deepEqual(t.getPeer(), { type: "UNIX", path });
    assert.equal((t.getHost() as UNIXAddress).type, "UNIX");
    t.write("hello over a UNIX socket");
    while (client.text().length < 24) await new Promise((r) => setTimeout(r, 5));
    assert.equal(client.text(), "hello over a UNIX socket");
    t.loseConnection();
    const [sameConnector, reason] = await within(5, factory.lost, "clientConnectionLost");
    assert.equal(sameConnector, connector);
    assert.ok(reason.check(ConnectionDone));
    await within(5, server.built[0].lost.promise, "the server side to close");
  } finally {
    await port.stopListening();
    assert.equal(server.stops, 1);
    assert.throws(() => Deno.statSync(path), Deno.errors.NotFound, "the socket file is removed");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listenUNIX applies the mode to the socket file", async () => {
  const dir = await tempDir();
  const path = `${dir}/private.sock`;
  const port = listenUNIX(path, serverFactory(() => new Recorder()), { mode: 0o600 });
  try {
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
  } finally {
    await port.stopListening();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listenUNIX fails with CannotListenError naming the path", async () => {
  const dir = await tempDir();
  try {
    // A file in the way, such as a socket left by a process that died.
    await Deno.writeTextFile(`${dir}/taken`, "");
    assert.throws(() => listenUNIX(`${dir}/taken`, serverFactory(() => new Recorder())), (e) => {
      assert.ok(e instanceof CannotListenError);
      assert.equal(e.port, `${dir}/taken`);
      assert.match(e.message, new RegExp(`^Cannot listen on ${dir}/taken: `));
      return true;
    });
    assert.throws(
      () => listenUNIX(`${dir}/no/such/dir.sock`, serverFactory(() => new Recorder())),
      CannotListenError,
    );
    assert.throws(() => listenUNIX("", serverFactory(() => new Recorder())), TypeError);
    assert.throws(
      () => listenUNIX(`${dir}/x.sock`, serverFactory(() => new Recorder()), { wantPID: true }),
      /wantPID .* is not supported/,
    );
    assert.throws(
      () => listenUNIX(`${dir}/y.sock`, serverFactory(() => new Recorder()), { mode: 0o10000 }),
      RangeError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connectUNIX fails clearly: no socket, or nothing listening", async () => {
  const dir = await tempDir();
  try {
    const missing = clientFactory(new Recorder());
    connectUNIX(`${dir}/missing.sock`, missing);
    const reason = await within(5, missing.failed, "the failure");
    assert.ok(reason.value instanceof ConnectError);
    assert.match(reason.getErrorMessage(), /No UNIX socket at .*missing\.sock/);

    // A socket file nobody accepts on any more.
    const l = Deno.listen({ transport: "unix", path: `${dir}/stale.sock` });
    const held = `${dir}/stale.sock`;
    await Deno.link(held, `${dir}/kept.sock`);
    l.close();
    const refused = clientFactory(new Recorder());
    connectUNIX(`${dir}/kept.sock`, refused);
    const why = await within(5, refused.failed, "the refusal");
    assert.ok(why.value instanceof ConnectionRefusedError, why.getErrorMessage());
    assert.throws(() => connectUNIX(`${dir}/a`, clientFactory(new Recorder()), { checkPID: true }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("UNIX half-close: the peer sees end of stream and can still reply", async () => {
  const dir = await tempDir();
  const path = `${dir}/half.sock`;
  const server = serverFactory(() => new HalfCloser());
  const port = listenUNIX(path, server);
  try {
    const client = new Recorder();
    connectUNIX(path, clientFactory(client));
    const t = await within(5, client.made.promise, "the connection");
    t.write("question");
    t.loseWriteConnection();
    const reason = await within(5, client.lost.promise, "the reply and close");
    assert.ok(reason.check(ConnectionDone));
    assert.equal(client.text(), "got question");
    assert.equal(server.built[0].eof, true);
  } finally {
    await port.stopListening();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unix: endpoints listen and connect through the reactor", async () => {
  const dir = await tempDir();
  const path = `${dir}/endpoint:with-colon.sock`;
  const escaped = path.replaceAll(":", "\\:");
  const server = serverFactory(() => Object.assign(new Recorder(), { echo: true }));
  const port = await serverFromString(reactor, `unix:${escaped}:mode=600`).listen(server);
  try {
    assert.deepEqual(port.getHost(), { type: "UNIX", path });
    const client = new Recorder();
    const protocol = await clientFromString(reactor, `unix:${escaped}:timeout=5`).connect({
      buildProtocol: () => client,
      doStart() {},
      doStop() {},
    });
    assert.equal(protocol, client);
    client.transport!.write("ping");
    while (client.text() !== "ping") await new Promise((r) => setTimeout(r, 5));
    client.transport!.loseConnection();
    await within(5, client.lost.promise, "the close");
  } finally {
    await port.stopListening();
    await Deno.remove(dir, { recursive: true });
  }
});
