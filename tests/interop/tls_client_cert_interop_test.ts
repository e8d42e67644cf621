// Client certificates from endpoint descriptions against a Twisted TLS
// server that requires one (tls_client_cert_peer.py): `ssl:` with Twisted's
// certKey= and caCertsDir=, `tls:` with certificate=, privateKey= and
// trustRoots=. The server names the certificate it was shown.
//
// A missing Twisted is a failure, never a skip.
import assert from "node:assert/strict";
import type { Failure } from "../../defer/mod.ts";
import { clientFromString, type ProtocolLike, reactor, type Transport } from "../../reactor/mod.ts";
import { tlsChainFixture } from "../reactor/_tls_chain_fixture.ts";

const PYTHON = "/usr/bin/python3";
const PEER = new URL("./tls_client_cert_peer.py", import.meta.url).pathname;
const TIMEOUT_MS = 30_000;

/** Sends a line and collects what comes back until the connection ends. */
class Asker implements ProtocolLike {
  transport: Transport | null = null;
  text = "";
  readonly lost = Promise.withResolvers<Failure>();
  makeConnection(transport: Transport): void {
    this.transport = transport;
    transport.write("who am I?\n");
  }
  dataReceived(data: Uint8Array): void {
    this.text += new TextDecoder().decode(data);
  }
  connectionLost(reason: Failure): void {
    this.lost.resolve(reason);
  }
}

async function ask(description: string): Promise<string> {
  const asker = new Asker();
  await clientFromString(reactor, description)
    .connect({ buildProtocol: () => asker, doStart() {}, doStop() {} });
  await asker.lost.promise;
  return asker.text;
}

Deno.test({
  name: "Client certificates from descriptions, shown to a Twisted server that requires one",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn(t) {
    const { dir } = await tlsChainFixture();
    const child = new Deno.Command(PYTHON, {
      args: [PEER, dir],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const watchdog = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      const first = await reader.read();
      const port = Number(first.value?.trim());
      assert.ok(
        port > 0,
        `the Twisted peer did not start (python3-twisted missing?): ${first.value}`,
      );
      const at = `127.0.0.1:${port}:timeout=10`;

      await t.step("ssl: certKey= (certificate and key in one file) and caCertsDir=", async () => {
        const reply = await ask(`ssl:${at}:certKey=${dir}/client-both.pem:caCertsDir=${dir}`);
        assert.equal(reply, "hello torsion test client\n");
      });
      await t.step("tls: certificate=, privateKey= and trustRoots=", async () => {
        const reply = await ask(
          `tls:${at}:certificate=${dir}/client.pem:privateKey=${dir}/client.key:trustRoots=${dir}`,
        );
        assert.equal(reply, "hello torsion test client\n");
      });
      await t.step("without a certificate the server refuses", async () => {
        const asker = new Asker();
        const d = clientFromString(reactor, `tls:${at}:trustRoots=${dir}`)
          .connect({ buildProtocol: () => asker, doStart() {}, doStop() {} });
        // TLS 1.3 completes the client's handshake before the server checks,
        // so the refusal may come as a failed connect or as a lost connection.
        try {
          await d;
          await asker.lost.promise;
        } catch {
          // refused during the handshake
        }
        assert.equal(asker.text, "");
      });
    } finally {
      clearTimeout(watchdog);
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      await child.status;
      await reader.cancel();
      await stderr;
    }
  },
});
