// startTLS on a TCP client: a STARTTLS exchange with a server that speaks
// plain text, then TLS on the same connection (the server side uses Node's
// tls.TLSSocket over the accepted socket).
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import type { Failure } from "../../defer/mod.ts";
import { ConnectionDone, ConnectionLost } from "../../reactor/connection_errors.ts";
import type {
  ClientFactoryLike,
  ProtocolLike,
  TCPTransport,
  Transport,
} from "../../reactor/interfaces.ts";
import { connectTCP, listenTCP } from "../../reactor/tcp.ts";
import { within } from "../_helpers.ts";
import { tlsFixture } from "./_tls_fixture.ts";

/** A server that answers "STARTTLS" with "GO", then echoes over TLS. */
async function starttlsServer(): Promise<
  { port: number; plain: string[]; secure: string[]; close(): Promise<void> }
> {
  const { cert, key } = await tlsFixture();
  const plain: string[] = [];
  const secure: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", (data) => {
      plain.push(data.toString());
      socket.write("GO\r\n");
      const secured = new tls.TLSSocket(socket, { isServer: true, cert, key });
      secured.on("data", (d) => {
        secure.push(d.toString());
        secured.write(`tls echo: ${d}`);
      });
      secured.on("error", () => socket.destroy());
      secured.on("end", () => secured.end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    plain,
    secure,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

class StartTLSClient {
  transport: TCPTransport | null = null;
  text = "";
  options: { hostname?: string; caCerts?: string[] } = {};
  lost = Promise.withResolvers<Failure>();
  makeConnection(t: Transport): void {
    this.transport = t as TCPTransport;
    t.write("STARTTLS\r\n");
  }
  dataReceived(data: Uint8Array): void {
    this.text += new TextDecoder().decode(data);
    if (this.text === "GO\r\n") {
      this.transport!.startTLS!(this.options);
      this.transport!.write("secret");
    } else if (this.text.endsWith("tls echo: secret")) {
      this.transport!.loseConnection();
    }
  }
  connectionLost(reason: Failure): void {
    this.lost.resolve(reason);
  }
}

function once(protocol: ProtocolLike): ClientFactoryLike {
  return { buildProtocol: () => protocol, doStart() {}, doStop() {} };
}

Deno.test("startTLS: plain text, then TLS on the same connection", async () => {
  const { ca } = await tlsFixture();
  const server = await starttlsServer();
  try {
    const client = new StartTLSClient();
    client.options = { hostname: "localhost", caCerts: [ca] };
    connectTCP("127.0.0.1", server.port, once(client));
    const reason = await within(10, client.lost.promise, "the exchange");
    assert.ok(reason.check(ConnectionDone), reason.getErrorMessage());
    assert.equal(client.text, "GO\r\ntls echo: secret");
    assert.deepEqual(server.plain, ["STARTTLS\r\n"], "the request went in the clear");
    assert.deepEqual(server.secure, ["secret"], "what followed startTLS was encrypted");
  } finally {
    await server.close();
  }
});

Deno.test("startTLS: a certificate that does not verify ends the connection", async () => {
  const server = await starttlsServer();
  try {
    const client = new StartTLSClient(); // no caCerts: the test CA is not trusted
    connectTCP("127.0.0.1", server.port, once(client));
    const reason = await within(10, client.lost.promise, "the connection to end");
    assert.ok(reason.check(ConnectionLost));
    assert.match(String((reason.value as Error).cause), /certificate|UnknownIssuer/i);
    assert.deepEqual(server.secure, []);
  } finally {
    await server.close();
  }
});

Deno.test("startTLS is refused where it cannot work", async () => {
  const made = Promise.withResolvers<TCPTransport>();
  const accepted = {
    makeConnection(t: Transport) {
      made.resolve(t as TCPTransport);
    },
    dataReceived() {},
    connectionLost() {},
  };
  const port = listenTCP(0, once(accepted), { interface: "127.0.0.1" });
  const client = {
    transport: null as TCPTransport | null,
    lost: Promise.withResolvers<void>(),
    makeConnection(t: Transport) {
      this.transport = t as TCPTransport;
    },
    dataReceived() {},
    connectionLost() {
      this.lost.resolve();
    },
  };
  try {
    connectTCP("127.0.0.1", port.getHost().port, once(client));
    const serverSide = await within(5, made.promise, "the connection");
    assert.throws(() => serverSide.startTLS!({}), /can only start a TLS client/);
    assert.throws(() => client.transport!.startTLS!({}), /from connectionMade or dataReceived/);
    assert.throws(
      () => client.transport!.startTLS!({ cert: "c", key: "k" } as never),
      /client certificate/,
    );
    client.transport!.loseConnection();
    await within(5, client.lost.promise, "the close");
    serverSide.loseConnection();
  } finally {
    await port.stopListening();
  }
});
