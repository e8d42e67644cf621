// Certificates for the TLS keys of endpoint descriptions, made with openssl
// once per test process in a temporary directory removed at exit: a root CA,
// an intermediate CA it signs, a server certificate for 127.0.0.1 and
// localhost signed by the intermediate (so a client that trusts only the
// root needs the intermediate sent to it), and a client certificate signed
// by the root.

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

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

// A key and a certificate for `name`, signed by `ca` with the extensions.
async function issue(dir: string, name: string, cn: string, ca: string, ext: string) {
  await openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", cn]);
  await Deno.writeTextFile(`${dir}/${name}.cnf`, ext);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "3650",
    "-extfile",
    `${name}.cnf`,
  ]);
}

/** The fixture, made on first use. */
export function tlsChainFixture(): Promise<TLSChainFixture> {
  made ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "torsion-tls-chain-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // already gone
      }
    });
    await openssl(dir, [
      "req",
      "-x509",
      ...EC,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "3650",
      "-subj",
      "/CN=torsion test root",
    ]);
    await issue(
      dir,
      "int",
      "/CN=torsion test intermediate",
      "ca",
      "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    );
    await issue(
      dir,
      "leaf",
      "/CN=localhost",
      "int",
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
        "extendedKeyUsage=serverAuth\n",
    );
    await issue(
      dir,
      "client",
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
