import assert from "node:assert/strict";
import type { Failure } from "../../defer/mod.ts";
import { ConnectError, ConnectionDone } from "../../reactor/connection_errors.ts";
import { reactor } from "../../reactor/deno_reactor.ts";
import { clientFromString, serverFromString } from "../../reactor/endpoints.ts";
import type { Connector, IPAddress, Transport } from "../../reactor/interfaces.ts";
import { connectSSL, listenSSL, type TLSClientOptions } from "../../reactor/tls.ts";
import { tlsFixture } from "./_tls_fixture.ts";
import { type LogEvent, setLogSink } from "../../reactor/log.ts";
import { within } from "../_helpers.ts";

const LOOPBACK = { interface: "127.0.0.1" };

class Recorder {
  transport: Transport | null = null;
  received = 0;
  chunks: Uint8Array[] = [];
  echo = false;
  made = Promise.withResolvers<Transport>();
  lost = Promise.withResolvers<Failure>();
  makeConnection(t: Transport): void {
    this.transport = t;
    this.made.resolve(t);
  }
  dataReceived(data: Uint8Array): void {
    this.received += data.length;
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

function serverFactory(make: () => Recorder = () => new Recorder()) {
  const built: Recorder[] = [];
  return {
    built,
    buildProtocol() {
      const p = make();
      built.push(p);
      return p;
    },
    doStart() {},
    doStop() {},
  };
}

function clientFactory(protocol: Recorder) {
  const failed = Promise.withResolvers<Failure>();
  return {
    failed: failed.promise,
    buildProtocol: () => protocol,
    doStart() {},
    doStop() {},
    clientConnectionFailed: (_c: Connector, reason: Failure) => failed.resolve(reason),
  };
}

Deno.test("listenSSL/connectSSL: an echo over TLS, verified against the test CA", async () => {
  const { ca, cert, key } = await tlsFixture();
  const server = serverFactory(() => Object.assign(new Recorder(), { echo: true }));
  const port = reactor.listenSSL(0, server, { cert, key }, LOOPBACK);
  try {
    const client = new Recorder();
    reactor.connectSSL("127.0.0.1", (port.getHost() as IPAddress).port, clientFactory(client), {
      caCerts: [ca],
    });
    const t = await within(10, client.made.promise, "the TLS connection");
    assert.equal((t.getPeer() as IPAddress).host, "127.0.0.1");
    t.write("secret");
    while (client.text() !== "secret") await new Promise((r) => setTimeout(r, 5));
    t.loseConnection();
    assert.ok((await within(5, client.lost.promise, "the close")).check(ConnectionDone));
    await within(5, server.built[0].lost.promise, "the server side to close");
  } finally {
    await port.stopListening();
  }
});

Deno.test("connectSSL verifies for hostname, which may differ from the address dialled", async () => {
  const { ca, cert, key } = await tlsFixture();
  const server = serverFactory();
  const port = listenSSL(0, server, { cert, key }, LOOPBACK);
  try {
    const client = new Recorder();
    connectSSL("127.0.0.1", port.getHost().port, clientFactory(client), {
      hostname: "localhost",
      caCerts: [ca],
    });
    const t = await within(10, client.made.promise, "the connection");
    t.loseConnection();
    await within(5, client.lost.promise, "the close");
    await within(5, server.built[0].lost.promise, "the server side");
  } finally {
    await port.stopListening();
  }
});

Deno.test("connectSSL fails the attempt when the certificate does not verify", async (t) => {
  const { ca, cert, key } = await tlsFixture();
  const server = serverFactory();
  const port = listenSSL(0, server, { cert, key }, LOOPBACK);
  try {
    const cases: [string, TLSClientOptions, RegExp][] = [
      [
        "an untrusted issuer",
        {},
        /TLS handshake with 127\.0\.0\.1:\d+ failed: .*(Unknown|issuer)/i,
      ],
      ["another name", { hostname: "example.com", caCerts: [ca] }, /TLS handshake .* failed/],
    ];
    for (const [what, options, message] of cases) {
      await t.step(what, async () => {
        const client = new Recorder();
        const factory = clientFactory(client);
        connectSSL("127.0.0.1", port.getHost().port, factory, options);
        const reason = await within(10, factory.failed, "the failure");
        assert.ok(reason.value instanceof ConnectError);
        assert.match(reason.getErrorMessage(), message);
        assert.equal(client.transport, null, "no protocol was connected");
      });
    }
    // The server saw each handshake fail: those connections are gone.
    for (const p of server.built) await within(5, p.lost.promise, "the server side to end");
  } finally {
    await port.stopListening();
  }
});

Deno.test("TLS: 8 MiB written then loseConnection arrive whole", async () => {
  const { ca, cert, key } = await tlsFixture();
  const server = serverFactory();
  const port = listenSSL(0, server, { cert, key }, LOOPBACK);
  try {
    const data = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
    const client = new Recorder();
    client.made.promise.then((t) => {
      t.write(data);
      t.loseConnection();
    });
    connectSSL("127.0.0.1", port.getHost().port, clientFactory(client), { caCerts: [ca] });
    await within(30, client.lost.promise, "the client to finish");
    while (server.built.length === 0) await new Promise((r) => setTimeout(r, 5));
    const received = server.built[0];
    assert.ok((await within(30, received.lost.promise, "the server side")).check(ConnectionDone));
    assert.equal(received.received, data.length);
    const all = new Uint8Array(received.received);
    let at = 0;
    for (const c of received.chunks) {
      all.set(c, at);
      at += c.length;
    }
    assert.equal(all.findIndex((b, i) => b !== data[i]), -1);
  } finally {
    await port.stopListening();
  }
});

Deno.test("ssl: endpoints read the certificate files and connect", async () => {
  const { dir } = await tlsFixture();
  const server = serverFactory(() => Object.assign(new Recorder(), { echo: true }));
  const port = await serverFromString(
    reactor,
    `ssl:0:privateKey=${dir}/key.pem:certKey=${dir}/cert.pem:interface=127.0.0.1`,
  ).listen(server);
  try {
    const client = new Recorder();
    const p = (port.getHost() as IPAddress).port;
    await clientFromString(reactor, `ssl:127.0.0.1:${p}:caCerts=${dir}/ca.pem:timeout=10`)
      .connect({ buildProtocol: () => client, doStart() {}, doStop() {} });
    client.transport!.write("via endpoints");
    while (client.text() !== "via endpoints") await new Promise((r) => setTimeout(r, 5));
    client.transport!.loseConnection();
    await within(5, client.lost.promise, "the close");
    await within(5, server.built[0].lost.promise, "the server side");
  } finally {
    await port.stopListening();
  }
});

Deno.test("listenSSL and connectSSL reject bad arguments", async () => {
  const { cert } = await tlsFixture();
  const f = serverFactory();
  assert.throws(() => listenSSL(0, f, { cert, key: "" }, LOOPBACK), /need key/);
  assert.throws(() => listenSSL(0, f, { cert: "", key: "x" }, LOOPBACK), /need cert/);
  assert.throws(() => listenSSL(70000, f, { cert, key: "k" }), RangeError);
  const c = clientFactory(new Recorder());
  assert.throws(() => connectSSL("h", 1, c, { cert: "c" }), /needs both cert and key/);
  assert.throws(
    () => connectSSL("h", 1, c, { cert: "c", key: "k", hostname: "other" }),
    /hostname cannot differ/,
  );
  assert.throws(() => connectSSL("h", 1, c, {}, { bindAddress: ["a", 0] }), TypeError);
});

class TLSHalfCloser extends Recorder {
  eof = false;
  readConnectionLost(): void {
    this.eof = true;
    this.transport!.write(`got ${this.text()}`);
    this.transport!.loseConnection();
  }
}

Deno.test("TLS half-close: loseWriteConnection sends close_notify; the peer can still reply", async () => {
  const { ca, cert, key } = await tlsFixture();
  const server = serverFactory(() => new TLSHalfCloser());
  const port = listenSSL(0, server, { cert, key }, LOOPBACK);
  try {
    const client = new Recorder();
    connectSSL("127.0.0.1", port.getHost().port, clientFactory(client), { caCerts: [ca] });
    const t = await within(10, client.made.promise, "the connection");
    t.write("question");
    t.loseWriteConnection();
    const reason = await within(5, client.lost.promise, "the reply and close");
    assert.ok(reason.check(ConnectionDone));
    assert.equal(client.text(), "got question");
    assert.equal((server.built[0] as TLSHalfCloser).eof, true);
  } finally {
    await port.stopListening();
  }
});

Deno.test("a client that fails the TLS handshake loses only its own connection; the port serves the next", async () => {
  const { ca, cert, key } = await tlsFixture();
  const events: LogEvent[] = [];
  const sink = setLogSink((_text, event) => events.push(event));
  const server = serverFactory(() => Object.assign(new Recorder(), { echo: true }));
  const port = reactor.listenSSL(0, server, { cert, key }, LOOPBACK);
  const portNumber = (port.getHost() as IPAddress).port;
  try {
    // Plain text, then a reset, where a ClientHello should be: ten times.
    for (let i = 0; i < 10; i++) {
      const plain = await Deno.connect({ hostname: "127.0.0.1", port: portNumber });
      await plain.write(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
      plain.close();
    }
    const client = new Recorder();
    reactor.connectSSL("127.0.0.1", portNumber, clientFactory(client), { caCerts: [ca] });
    const t = await within(10, client.made.promise, "a TLS connection after the bad ones");
    t.write("still here");
    while (client.text() !== "still here") await new Promise((r) => setTimeout(r, 5));
    t.loseConnection();
    await within(5, client.lost.promise, "the close");
  } finally {
    setLogSink(sink);
    await port.stopListening();
  }
  // Nothing was logged about the port failing to accept.
  assert.deepEqual(events.filter((e) => /could not accept/.test(e.message)), []);
});
