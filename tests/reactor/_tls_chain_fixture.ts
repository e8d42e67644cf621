// Certificates for the TLS keys of endpoint descriptions, made with openssl
// once per test process in a temporary directory removed at exit: a root CA,
// an intermediate CA it signs, a server certificate for 127.0.0.1 and
// localhost signed by the intermediate (so a client that trusts only the
// root needs the intermediate sent to it), and a client certificate signed
// by the root.
import { issue, selfSignedCA, tempDirRemovedAtExit } from "./_openssl.ts";

export interface TLSChainFixture {
  /** The directory holding every file below. */
  dir: string;
  /** ca.pem: the root CA's certificate. */
  ca: string;
  /** int.pem: the intermediate CA's certificate. */
  intermediate: string;
  /** leaf.pem and leaf.key: the server's certificate and key. */
  leaf: string;
  leafKey: string;
  /** client.pem and client.key; client-both.pem holds the two. */
  client: string;
  clientKey: string;
}

let made: Promise<TLSChainFixture> | undefined;

/** The fixture, made on first use. */
export function tlsChainFixture(): Promise<TLSChainFixture> {
  made ??= (async () => {
    const dir = await tempDirRemovedAtExit("torsion-tls-chain-");
    await selfSignedCA(dir, "ca", "/CN=torsion test root");
    await issue(
      dir,
      "int.key",
      "int.pem",
      "/CN=torsion test intermediate",
      "ca",
      "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    );
    await issue(
      dir,
      "leaf.key",
      "leaf.pem",
      "/CN=localhost",
      "int",
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
        "extendedKeyUsage=serverAuth\n",
    );
    await issue(
      dir,
      "client.key",
      "client.pem",
      "/CN=torsion test client",
      "ca",
      "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    );
    const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
    const fixture: TLSChainFixture = {
      dir,
      ca: await read("ca.pem"),
      intermediate: await read("int.pem"),
      leaf: await read("leaf.pem"),
      leafKey: await read("leaf.key"),
      client: await read("client.pem"),
      clientKey: await read("client.key"),
    };
    await Deno.writeTextFile(`${dir}/client-both.pem`, fixture.client + fixture.clientKey);
    return fixture;
  })();
  return made;
}
