// A certificate authority and a server certificate for 127.0.0.1 and
// localhost, made with openssl once per test process, in a temporary
// directory that is removed at exit.

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

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** The fixture, made on first use. */
export function tlsFixture(): Promise<TLSFixture> {
  made ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "torsion-tls-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // already gone
      }
    });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await openssl(dir, [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "3650",
      "-subj",
      "/CN=torsion test CA",
    ]);
    await openssl(dir, [
      "req",
      ...ec,
      "-keyout",
      "key.pem",
      "-out",
      "server.csr",
      "-subj",
      "/CN=localhost",
    ]);
    await Deno.writeTextFile(
      `${dir}/ext.cnf`,
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
        "extendedKeyUsage=serverAuth\n",
    );
    await openssl(dir, [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "cert.pem",
      "-days",
      "3650",
      "-extfile",
      "ext.cnf",
    ]);
    return {
      dir,
      ca: await Deno.readTextFile(`${dir}/ca.pem`),
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  })();
  return made;
}
