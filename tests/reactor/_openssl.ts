// The openssl steps the TLS test fixtures share: a temporary directory
// removed at exit, a self-signed CA, and keys with certificates it issues.

/** A temporary directory, removed when the test process exits. */
export async function tempDirRemovedAtExit(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone
    }
  });
  return dir;
}

/** Runs openssl in `dir`; throws with its standard error if it fails. */
export async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed CA for `subject`: `${name}.key` and `${name}.pem` in `dir`. */
export async function selfSignedCA(dir: string, name: string, subject: string): Promise<void> {
  await openssl(dir, [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "3650",
    "-subj",
    subject,
  ]);
}

/**
 * A key (`keyFile`) and a certificate (`certFile`) for `subject`, signed by
 * the CA `ca` (`${ca}.pem` and `${ca}.key`) with the extensions `ext`.
 */
export async function issue(
  dir: string,
  keyFile: string,
  certFile: string,
  subject: string,
  ca: string,
  ext: string,
): Promise<void> {
  await openssl(dir, [
    "req",
    ...EC,
    "-keyout",
    keyFile,
    "-out",
    `${certFile}.csr`,
    "-subj",
    subject,
  ]);
  await Deno.writeTextFile(`${dir}/${certFile}.cnf`, ext);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${certFile}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    certFile,
    "-days",
    "3650",
    "-extfile",
    `${certFile}.cnf`,
  ]);
}
