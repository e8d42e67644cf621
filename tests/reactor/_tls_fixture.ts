// A certificate authority and a server certificate for 127.0.0.1 and
// localhost, made with openssl once per test process, in a temporary
// directory that is removed at exit.
import { issue, selfSignedCA, tempDirRemovedAtExit } from "./_openssl.ts";

export interface TLSFixture {
  /** The directory holding ca.pem, cert.pem and key.pem. */
  dir: string;
  /** The CA's certificate, PEM: trust it with `caCerts`. */
  ca: string;
  /** The server's certificate, PEM, signed by the CA. */
  cert: string;
  /** The server's private key, PEM. */
  key: string;
}

let made: Promise<TLSFixture> | undefined;

/** The fixture, made on first use. */
export function tlsFixture(): Promise<TLSFixture> {
  made ??= (async () => {
    const dir = await tempDirRemovedAtExit("torsion-tls-");
    await selfSignedCA(dir, "ca", "/CN=torsion test CA");
    await issue(
      dir,
      "key.pem",
      "cert.pem",
      "/CN=localhost",
      "ca",
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
        "extendedKeyUsage=serverAuth\n",
    );
    return {
      dir,
      ca: await Deno.readTextFile(`${dir}/ca.pem`),
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  })();
  return made;
}
