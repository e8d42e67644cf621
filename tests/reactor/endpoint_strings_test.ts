import assert from "node:assert/strict";
import { reactor } from "../../reactor/deno_reactor.ts";
import {
  clientFromString,
  EndpointDescriptionError,
  serverFromString,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
} from "../../reactor/endpoints.ts";
import type { IPAddress } from "../../reactor/interfaces.ts";
import { MemoryReactor } from "../../testing/memory_reactor.ts";
import { failureResultOf } from "../../testing/assertions.ts";
import { setLogSink } from "../../reactor/log.ts";
import { tlsChainFixture } from "./_tls_chain_fixture.ts";
import { type Probe, Probes } from "./_endpoint_probes.ts";

// --- Descriptions --------------------------------------------------------------

Deno.test("serverFromString() makes each kind of server endpoint", async (t) => {
  const r = new MemoryReactor();
  await t.step("tcp, with Twisted's defaults", () => {
    const e = serverFromString(r, "tcp:80");
    assert.ok(e instanceof TCP4ServerEndpoint && !(e instanceof TCP6ServerEndpoint));
    assert.equal(e.port, 80);
    assert.deepEqual(e.options, {});
  });
  await t.step("tcp with keywords, positionally and by name", () => {
    for (
      const d of [
        "tcp:8080:interface=127.0.0.1:backlog=7",
        "tcp:8080:backlog=7:interface=127.0.0.1",
      ]
    ) {
      const e = serverFromString(r, d) as TCP4ServerEndpoint;
      assert.equal(e.port, 8080, d);
      assert.deepEqual(e.options, { interface: "127.0.0.1", backlog: 7 }, d);
    }
  });
  await t.step("tcp6 listens on :: by default", () => {
    const e = serverFromString(r, "tcp6:8080") as TCP6ServerEndpoint;
    assert.ok(e instanceof TCP6ServerEndpoint);
    assert.deepEqual(e.options, { interface: "::" });
    const escaped = serverFromString(r, "tcp6:8080:interface=\\:\\:1") as TCP6ServerEndpoint;
    assert.deepEqual(escaped.options, { interface: "::1" });
  });
  await t.step("unix, with an octal mode and escapes in the path", () => {
    const e = serverFromString(r, "unix:/tmp/a\\:b.sock:mode=660:backlog=3:lockfile=1");
    assert.ok(e instanceof UNIXServerEndpoint);
    assert.equal(e.path, "/tmp/a:b.sock");
    assert.deepEqual(e.options, { mode: 0o660, backlog: 3, wantPID: true });
    assert.equal((serverFromString(r, "unix:address=/s") as UNIXServerEndpoint).path, "/s");
  });
  await t.step("ssl reads the key and certificate files", async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/key.pem`, "KEY");
      await Deno.writeTextFile(`${dir}/cert.pem`, "CERT");
      const e = serverFromString(
        r,
        `ssl:443:privateKey=${dir}/key.pem:certKey=${dir}/cert.pem:interface=127.0.0.1`,
      );
      assert.ok(e instanceof SSL4ServerEndpoint);
      assert.equal(e.port, 443);
      assert.deepEqual(e.contextFactory, { cert: "CERT", key: "KEY" });
      assert.deepEqual(e.options, { interface: "127.0.0.1" });
      // certKey defaults to privateKey: one file holding both.
      const both = serverFromString(r, `ssl:443:privateKey=${dir}/key.pem`) as SSL4ServerEndpoint;
      assert.deepEqual(both.contextFactory, { cert: "KEY", key: "KEY" });
      assert.throws(
        () => serverFromString(r, `ssl:443:privateKey=${dir}/missing.pem`),
        /Cannot read .*missing\.pem/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("serverFromString() explains what is wrong with a description", () => {
  const r = new MemoryReactor();
  for (
    const [d, message] of [
      ["carrier-pigeon:80", /Unknown endpoint type carrier-pigeon/],
      ["tcp", /No port/],
      ["tcp:http", /port must be an integer from 0 to 65535, not "http"/],
      ["tcp:65536", /port must be an integer/],
      ["tcp:-1", /port must be an integer/],
      ["tcp:80:backlog=many", /backlog must be a whole number/],
      ["tcp:80:colour=red", /Unknown key colour/],
      ["tcp:80:a:1:extra", /Too many fields/],
      ["unix", /No socket path/],
      ["unix:/s:mode=999", /mode must be an octal number/],
      ["unix:/s:lockfile=maybe", /lockfile must be 1 or 0/],
      ["ssl:443", /No privateKey/],
    ] as const
  ) {
    assert.throws(() => serverFromString(r, d), (e: unknown) => {
      assert.ok(e instanceof EndpointDescriptionError, d);
      assert.match(e.message, message, d);
      return true;
    });
  }
});

Deno.test("clientFromString() makes each kind of client endpoint", async (t) => {
  const r = new MemoryReactor();
  await t.step("tcp, by position and by name", () => {
    for (const d of ["tcp:example.com:80:timeout=7", "tcp:host=example.com:port=80:timeout=7"]) {
      const e = clientFromString(r, d) as TCP4ClientEndpoint;
      assert.ok(e instanceof TCP4ClientEndpoint && !(e instanceof TCP6ClientEndpoint), d);
      assert.equal(e.host, "example.com");
      assert.equal(e.port, 80);
      assert.deepEqual(e.options, { timeout: 7 });
    }
    const bound = clientFromString(r, "tcp:h:1:bindAddress=10.0.0.1") as TCP4ClientEndpoint;
    assert.deepEqual(bound.options, { bindAddress: ["10.0.0.1", 0] });
  });
  await t.step("tcp6 takes an escaped address", () => {
    const e = clientFromString(r, "tcp6:\\:\\:1:80") as TCP6ClientEndpoint;
    assert.ok(e instanceof TCP6ClientEndpoint);
    assert.equal(e.host, "::1");
  });
  await t.step("unix", () => {
    const e = clientFromString(r, "unix:/run/app.sock:timeout=2:checkPID=1");
    assert.ok(e instanceof UNIXClientEndpoint);
    assert.equal(e.path, "/run/app.sock");
    assert.deepEqual(e.options, { timeout: 2, checkPID: true });
  });
  await t.step("ssl and tls read CA certificates from a file or a directory", async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/b.pem`, "B");
      await Deno.writeTextFile(`${dir}/a.crt`, "A");
      await Deno.writeTextFile(`${dir}/notes.txt`, "ignored");
      const e = clientFromString(r, `ssl:example.com:443:caCerts=${dir}:hostname=example.org`);
      assert.ok(e instanceof SSL4ClientEndpoint);
      assert.deepEqual(e.contextFactory, { caCerts: ["A", "B"], hostname: "example.org" });
      const tls = clientFromString(r, `tls:example.com:443:caCerts=${dir}/b.pem:timeout=3`);
      assert.ok(tls instanceof SSL4ClientEndpoint);
      assert.deepEqual(tls.contextFactory, { caCerts: ["B"] });
      assert.deepEqual(tls.options, { timeout: 3 });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("clientFromString() explains what is wrong with a description", () => {
  const r = new MemoryReactor();
  for (
    const [d, message] of [
      ["tcp:example.com", /No port/],
      ["tcp::80", /No host/],
      ["tcp:port=80", /No host/],
      ["tcp:h:80:timeout=soon", /timeout must be a positive number of seconds/],
      ["tcp:h:80:timeout=0", /timeout must be a positive number/],
      ["unix:timeout=1", /No socket path/],
      ["tls:h:443:caCerts=/nonexistent/ca.pem", /Cannot read \/nonexistent\/ca\.pem/],
      ["gopher:h:70", /Unknown endpoint type gopher/],
    ] as const
  ) {
    assert.throws(() => clientFromString(r, d), (e: unknown) => {
      assert.ok(e instanceof EndpointDescriptionError, d);
      assert.match(e.message, message, d);
      return true;
    });
  }
});

// Twisted 22.4 accepts each of these descriptions; the expected values are
// what its clientFromString and serverFromString make of them.
Deno.test("clientFromString() takes Twisted's client keys", async (t) => {
  const r = new MemoryReactor();
  const fx = await tlsChainFixture();
  const dir = fx.dir;
  const tlsOf = (d: string) => (clientFromString(r, d) as SSL4ClientEndpoint).contextFactory;
  await t.step("tcp:host=HOST:PORT reads the lone field as the port", () => {
    for (const d of ["tcp:host=example.com:1234", "tcp:1234:host=example.com"]) {
      const e = clientFromString(r, d) as TCP4ClientEndpoint;
      assert.deepEqual([e.host, e.port], ["example.com", 1234], d);
    }
    const ssl = clientFromString(r, "ssl:host=example.com:443") as SSL4ClientEndpoint;
    assert.deepEqual([ssl.host, ssl.port], ["example.com", 443]);
    // Twisted's tls: parser binds the lone field to host, so host is given twice.
    assert.throws(() => clientFromString(r, "tls:host=example.com:443"), /host given twice/);
  });
  await t.step("unix: lockfile= is checkPID", () => {
    const on = clientFromString(r, "unix:/run/a.sock:lockfile=1") as UNIXClientEndpoint;
    assert.deepEqual(on.options, { checkPID: true });
    const off = clientFromString(r, "unix:/run/a.sock:lockfile=0:timeout=3") as UNIXClientEndpoint;
    assert.deepEqual(off.options, { timeout: 3, checkPID: false });
    assert.throws(
      () => clientFromString(r, "unix:/s:lockfile=1:checkPID=1"),
      /lockfile and checkPID are the same key/,
    );
  });
  await t.step("ssl: certKey, privateKey and caCertsDir", () => {
    const tls = tlsOf(
      `ssl:h:443:certKey=${dir}/client.pem:privateKey=${dir}/client.key:caCertsDir=${dir}`,
    );
    assert.equal(tls.cert, fx.client);
    assert.equal(tls.key, fx.clientKey);
    // Every .pem of the directory is trusted, the fixture's CAs among them.
    assert.ok(tls.caCerts!.includes(fx.ca) && tls.caCerts!.includes(fx.intermediate));
    // certKey alone: one file holding the certificate and its key.
    const both = tlsOf(`ssl:h:443:certKey=${dir}/client-both.pem`);
    assert.equal(both.cert, fx.client + fx.clientKey);
    assert.equal(both.key, both.cert);
  });
  await t.step("tls: certificate, privateKey and trustRoots", () => {
    const tls = tlsOf(
      `tls:h:443:certificate=${dir}/client.pem:privateKey=${dir}/client.key:trustRoots=${dir}`,
    );
    assert.equal(tls.cert, fx.client);
    assert.equal(tls.key, fx.clientKey);
    assert.ok(tls.caCerts!.includes(fx.ca));
    assert.equal(
      tlsOf(`tls:h:443:certificate=${dir}/client-both.pem`).key,
      fx.client + fx.clientKey,
    );
  });
  await t.step("bindAddress= is taken, for connecting to refuse", () => {
    for (const type of ["tcp", "ssl", "tls"]) {
      const e = clientFromString(r, `${type}:h:1:bindAddress=127.0.0.2`) as TCP4ClientEndpoint;
      assert.deepEqual(e.options.bindAddress, ["127.0.0.2", 0], type);
    }
  });
  await t.step("mistakes in the TLS keys are explained", () => {
    for (
      const [d, message] of [
        [`ssl:h:1:privateKey=${dir}/client.key`, /privateKey needs certKey/],
        [`tls:h:1:privateKey=${dir}/client.key`, /privateKey needs certificate/],
        [`ssl:h:1:certKey=${dir}/client.pem`, /client\.pem holds no private key/],
        [`ssl:h:1:caCertsDir=${dir}/ca.pem`, /caCertsDir must be a directory/],
        [`tls:h:1:trustRoots=/nonexistent`, /Cannot read \/nonexistent/],
        [`tls:h:1:endpoint=tcp\\:h\\:1`, /Unknown key endpoint/],
      ] as const
    ) {
      assert.throws(() => clientFromString(r, d), (e: unknown) => {
        assert.ok(e instanceof EndpointDescriptionError, d);
        assert.match(e.message, message, d);
        return true;
      });
    }
  });
});

Deno.test("Client endpoints say why Deno cannot honour bindAddress= or lockfile=1", async () => {
  for (const type of ["tcp", "ssl", "tls"]) {
    const d = clientFromString(reactor, `${type}:127.0.0.1:1:bindAddress=127.0.0.2`);
    const f = failureResultOf(d.connect(new Probes()), TypeError);
    assert.match(f.getErrorMessage(), /bindAddress .*not supported: Deno.* cannot bind/, type);
  }
  const unix = clientFromString(reactor, "unix:/nonexistent.sock:lockfile=1");
  const f = failureResultOf(unix.connect(new Probes()), TypeError);
  assert.match(f.getErrorMessage(), /lockfile=1.*not supported: .*write no lock file/);
  await Promise.resolve();
});

Deno.test("serverFromString() takes Twisted's ssl: keys", async (t) => {
  const r = new MemoryReactor();
  const fx = await tlsChainFixture();
  const dir = fx.dir;
  const ssl = `ssl:443:privateKey=${dir}/leaf.key:certKey=${dir}/leaf.pem`;
  const warnings: string[] = [];
  const before = setLogSink((text, event) => {
    if (event.level === "warn") warnings.push(text);
  });
  try {
    await t.step("extraCertChain= is sent after the certificate", () => {
      const e = serverFromString(r, `${ssl}:extraCertChain=${dir}/int.pem`) as SSL4ServerEndpoint;
      assert.equal(e.contextFactory.cert, `${fx.leaf.trimEnd()}\n${fx.intermediate.trimEnd()}\n`);
      assert.equal(e.contextFactory.key, fx.leafKey);
      assert.throws(
        () => serverFromString(r, `${ssl}:extraCertChain=${dir}/leaf.key`),
        /extraCertChain .*leaf\.key holds no PEM certificate/,
      );
    });
    await t.step(
      "Twisted's positional order: port, privateKey, certKey, sslmethod, interface",
      () => {
        const e = serverFromString(
          r,
          `ssl:443:${dir}/leaf.key:${dir}/leaf.pem:SSLv23_METHOD:127.0.0.1:5`,
        ) as SSL4ServerEndpoint;
        assert.deepEqual(e.options, { interface: "127.0.0.1", backlog: 5 });
      },
    );
    await t.step("sslmethod= allowing TLS 1.2 is ignored with a warning", () => {
      warnings.length = 0;
      for (const method of ["SSLv23_METHOD", "TLS_METHOD", "TLSv1_2_METHOD"]) {
        assert.ok(serverFromString(r, `${ssl}:sslmethod=${method}`) instanceof SSL4ServerEndpoint);
      }
      assert.equal(warnings.length, 3);
      assert.match(warnings[0], /sslmethod=SSLv23_METHOD is ignored: Deno's TLS always negotiates/);
    });
    await t.step("sslmethod= asking for an old protocol is refused", () => {
      for (const method of ["SSLv3_METHOD", "TLSv1_METHOD", "TLSv1_1_METHOD"]) {
        assert.throws(
          () => serverFromString(r, `${ssl}:sslmethod=${method}`),
          /cannot be served: Deno's TLS speaks only TLS 1\.2 and 1\.3/,
        );
      }
      assert.throws(() => serverFromString(r, `${ssl}:sslmethod=FAST`), /Unknown sslmethod FAST/);
    });
    await t.step("dhParameters= is read, then ignored with a warning", async () => {
      warnings.length = 0;
      await Deno.writeTextFile(`${dir}/dh.pem`, "-----BEGIN DH PARAMETERS-----\n");
      assert.ok(serverFromString(r, `${ssl}:dhParameters=${dir}/dh.pem`));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /dhParameters=.* is ignored: Deno's TLS has no finite-field DHE/);
      assert.throws(
        () => serverFromString(r, `${ssl}:dhParameters=${dir}/missing.pem`),
        /Cannot read .*missing\.pem/,
      );
    });
  } finally {
    setLogSink(before);
  }
});

Deno.test("ssl: extraCertChain= lets a client that trusts only the root verify", async () => {
  const fx = await tlsChainFixture();
  const dir = fx.dir;
  const ssl = `ssl:0:privateKey=${dir}/leaf.key:certKey=${dir}/leaf.pem:interface=127.0.0.1`;
  for (
    const [chain, verifies] of [["", false], [`:extraCertChain=${dir}/int.pem`, true]] as const
  ) {
    const server = new Probes();
    const port = await serverFromString(reactor, ssl + chain).listen(server);
    try {
      const p = (port.getHost() as IPAddress).port;
      const d = clientFromString(reactor, `ssl:127.0.0.1:${p}:caCerts=${dir}/ca.pem:timeout=10`)
        .connect(new Probes());
      if (verifies) {
        const protocol = await d as Probe;
        protocol.transport!.loseConnection();
        await protocol.lost.promise;
      } else {
        await assert.rejects(Promise.resolve(d), /UnknownIssuer|unknown issuer/i);
      }
      // The server side saw a connection either way; let it end.
      while (server.built.length === 0) await new Promise((r) => setTimeout(r, 5));
      await server.built[0].lost.promise;
    } finally {
      await port.stopListening();
    }
  }
});
