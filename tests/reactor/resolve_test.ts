import assert from "node:assert/strict";
import { CancelledError, TimeoutError } from "../../defer/errors.ts";
import type { Deferred } from "../../defer/deferred.ts";
import type { Failure } from "../../defer/failure.ts";
import { Clock } from "../../reactor/clock.ts";
import { DNSLookupError } from "../../reactor/connection_errors.ts";
import { resolve, resolveAll } from "../../reactor/resolve.ts";
import { within as withinSeconds } from "../_helpers.ts";

/** The shared time limit, with this file's argument order and default. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 5000): Promise<T> {
  return withinSeconds(ms / 1000, promise, what);
}

async function failureOf<T>(d: Deferred<T>): Promise<Failure> {
  let failure: Failure | undefined;
  await within("the lookup", d.addErrback((f: Failure) => void (failure = f)));
  assert.ok(failure, "expected the lookup to fail");
  return failure;
}

/** The value of a Deferred that has already fired. */
function resultOf<T>(d: Deferred<T>): T {
  assert.equal(d.called, true, "expected the Deferred to have fired at once");
  let value: T | undefined;
  d.addCallback((v: T) => {
    value = v;
    return v;
  });
  return value as T;
}

// ---------------------------------------------------------------------------
// A DNS server on the loopback interface, so nothing depends on the network
// ---------------------------------------------------------------------------

type Records = Record<string, { A?: string[]; AAAA?: string[] }>;

function encodeAddress(type: "A" | "AAAA", address: string): Uint8Array {
  if (type === "A") return new Uint8Array(address.split(".").map(Number));
  const [head, tail = ""] = address.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = groups(tail);
  const all = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return new Uint8Array(all.flatMap((g) => [g >> 8, g & 0xff]));
}

/** Answers A and AAAA questions from `records`; NXDOMAIN for other names; silent if `silent`. */
class FakeDNSServer {
  readonly #conn: Deno.DatagramConn;
  readonly #serving: Promise<void>;
  readonly silent: boolean;
  questions: string[] = [];

  constructor(readonly records: Records, silent = false) {
    this.silent = silent;
    this.#conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    this.#serving = this.#serve();
  }

  get nameServer(): { ipAddr: string; port: number } {
    return { ipAddr: "127.0.0.1", port: (this.#conn.addr as Deno.NetAddr).port };
  }

  async close(): Promise<void> {
    this.#conn.close();
    await this.#serving;
  }

  async #serve(): Promise<void> {
    for (;;) {
      let query: Uint8Array;
      let from: Deno.Addr;
      try {
        [query, from] = await this.#conn.receive();
      } catch {
        return;
      }
      // Header (12 bytes), then the question: labels, type, class.
      let offset = 12;
      const labels: string[] = [];
      while (query[offset] !== 0) {
        const length = query[offset];
        labels.push(new TextDecoder().decode(query.subarray(offset + 1, offset + 1 + length)));
        offset += 1 + length;
      }
      offset += 1;
      const qtype = (query[offset] << 8) | query[offset + 1];
      const questionEnd = offset + 4;
      const name = labels.join(".").toLowerCase();
      const type = qtype === 1 ? "A" : qtype === 28 ? "AAAA" : undefined;
      this.questions.push(`${type ?? qtype} ${name}`);
      if (this.silent) continue;
      const known = this.records[name];
      const answers = known !== undefined && type !== undefined ? known[type] ?? [] : [];
      const reply: number[] = [
        query[0],
        query[1],
        0x81,
        known === undefined ? 0x83 : 0x80, // QR RD, RA, rcode NXDOMAIN or NOERROR
        0,
        1,
        0,
        answers.length,
        0,
        0,
        0,
        0,
        ...query.subarray(12, questionEnd),
      ];
      for (const address of answers) {
        const rdata = encodeAddress(type!, address);
        reply.push(0xc0, 12, 0, qtype, 0, 1, 0, 0, 0, 60, 0, rdata.length, ...rdata);
      }
      await this.#conn.send(new Uint8Array(reply), from);
    }
  }
}

async function withDNS(
  records: Records,
  fn: (server: FakeDNSServer) => Promise<void>,
  silent = false,
): Promise<void> {
  const server = new FakeDNSServer(records, silent);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

async function withHostsFile(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const path = await Deno.makeTempFile({ prefix: "torsion-hosts-" });
  try {
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

const RECORDS: Records = {
  "example.test": { A: ["192.0.2.5", "192.0.2.6"], AAAA: ["2001:db8::5"] },
  "v4only.test": { A: ["192.0.2.9"] },
  "v6only.test": { AAAA: ["2001:db8::9"] },
};

// ---------------------------------------------------------------------------
// Literals and the hosts file: no DNS at all
// ---------------------------------------------------------------------------

Deno.test("resolve() returns an IPv4 literal as it is, at once", () => {
  assert.equal(resultOf(resolve("192.0.2.1")), "192.0.2.1");
  assert.equal(resultOf(resolve("")), "0.0.0.0");
  assert.deepEqual(resultOf(resolveAll("192.0.2.1")), ["192.0.2.1"]);
  assert.deepEqual(resultOf(resolveAll("2001:db8::1")), ["2001:db8::1"]);
});

Deno.test("resolve() fails for an IPv6 literal: it gives IPv4 only", async () => {
  const failure = await failureOf(resolve("::1"));
  assert.ok(failure.value instanceof DNSLookupError);
  assert.equal(failure.value.hostname, "::1");
});

Deno.test("resolve() gives 127.0.0.1 for localhost", async (t) => {
  await t.step("from the system's hosts file", async () => {
    assert.equal(await within("resolve", resolve("localhost", 2)), "127.0.0.1");
  });
  await t.step("without a hosts file", () => {
    assert.equal(resultOf(resolve("localhost", 2, { hostsFile: null })), "127.0.0.1");
    assert.equal(resultOf(resolve("LocalHost.", 2, { hostsFile: null })), "127.0.0.1");
    assert.deepEqual(resultOf(resolveAll("localhost", 2, { hostsFile: null })), [
      "::1",
      "127.0.0.1",
    ]);
  });
  await t.step("with a missing hosts file", () => {
    const hostsFile = "/no/such/dir/hosts";
    assert.equal(resultOf(resolve("localhost", 2, { hostsFile })), "127.0.0.1");
  });
});

Deno.test("resolve() reads the hosts file before DNS", async () => {
  const text = [
    "# a comment line",
    "192.0.2.10   web www.example.test   # trailing comment",
    "2001:db8::10 web",
    "192.0.2.11   web",
    "2001:db8::20 sixonly",
    "not-an-address broken",
    "",
  ].join("\n");
  await withHostsFile(text, async (hostsFile) => {
    await withDNS(RECORDS, async (server) => {
      const options = { hostsFile, nameServer: server.nameServer };
      assert.equal(resultOf(resolve("web", 2, options)), "192.0.2.10");
      assert.equal(resultOf(resolve("WWW.Example.Test.", 2, options)), "192.0.2.10");
      assert.deepEqual(resultOf(resolveAll("web", 2, options)), [
        "192.0.2.10",
        "2001:db8::10",
        "192.0.2.11",
      ]);
      assert.deepEqual(resultOf(resolveAll("sixonly", 2, options)), ["2001:db8::20"]);
      // No IPv4 address in the file: resolve() asks DNS, which does not know the name.
      const failure = await failureOf(resolve("sixonly", 2, options));
      assert.ok(failure.value instanceof DNSLookupError);
      assert.deepEqual(server.questions, ["A sixonly"]);
    });
  });
});

// ---------------------------------------------------------------------------
// DNS, against the fake server
// ---------------------------------------------------------------------------

Deno.test("resolve() gives the first A record from DNS", async () => {
  await withDNS(RECORDS, async (server) => {
    const options = { hostsFile: null, nameServer: server.nameServer };
    const d = resolve("example.test", 2, options);
    assert.equal(d.called, false);
    assert.equal(await within("resolve", d), "192.0.2.5");
    assert.equal(await within("resolve", resolve("v4only.test", 2, options)), "192.0.2.9");
  });
});

Deno.test("resolveAll() gives AAAA then A records from DNS", async () => {
  await withDNS(RECORDS, async (server) => {
    const options = { hostsFile: null, nameServer: server.nameServer };
    assert.deepEqual(await within("resolveAll", resolveAll("example.test", 2, options)), [
      "2001:db8::5",
      "192.0.2.5",
      "192.0.2.6",
    ]);
    assert.deepEqual(await within("resolveAll", resolveAll("v4only.test", 2, options)), [
      "192.0.2.9",
    ]);
    assert.deepEqual(await within("resolveAll", resolveAll("v6only.test", 2, options)), [
      "2001:db8::9",
    ]);
  });
});

Deno.test("resolve() fails with DNSLookupError for an unknown name", async () => {
  await withDNS(RECORDS, async (server) => {
    const options = { hostsFile: null, nameServer: server.nameServer };
    for (
      const d of [
        resolve("no-such-host.invalid", 2, options) as Deferred<unknown>,
        resolveAll("no-such-host.invalid", 2, options) as Deferred<unknown>,
      ]
    ) {
      const failure = await failureOf(d);
      assert.ok(failure.value instanceof DNSLookupError);
      assert.equal(failure.value.hostname, "no-such-host.invalid");
      assert.equal(failure.getErrorMessage(), "DNS lookup failed for no-such-host.invalid");
      assert.ok(failure.value.cause instanceof Error);
    }
    // A name that exists with no A record fails resolve() too.
    assert.ok(
      (await failureOf(resolve("v6only.test", 2, options))).value instanceof DNSLookupError,
    );
  });
});

Deno.test("resolve() fails with DNSLookupError after the timeout, on the given clock", async () => {
  await withDNS({}, async (server) => {
    const clock = new Clock();
    const d = resolve("slow.test", [1, 2], {
      hostsFile: null,
      nameServer: server.nameServer,
      clock,
    });
    assert.equal(clock.getDelayedCalls().length, 1);
    assert.equal(clock.getDelayedCalls()[0].getTime(), 3);
    clock.advance(2.9);
    assert.equal(d.called, false);
    clock.advance(0.1);
    const failure = await failureOf(d);
    assert.ok(failure.value instanceof DNSLookupError);
    assert.ok(failure.value.cause instanceof TimeoutError);
    assert.equal(failure.value.cause.seconds, 3);
  }, true);
});

Deno.test("resolve() can be cancelled: CancelledError, and the timer is gone", async () => {
  await withDNS({}, async (server) => {
    const clock = new Clock();
    const d = resolveAll("slow.test", 5, { hostsFile: null, nameServer: server.nameServer, clock });
    d.cancel();
    const failure = await failureOf(d);
    assert.ok(failure.value instanceof CancelledError);
    assert.equal(clock.getDelayedCalls().length, 0);
  }, true);
});

Deno.test("resolve() checks its arguments", () => {
  assert.throws(() => resolve(42 as unknown as string), TypeError);
  assert.throws(() => resolve("example.test", 0), RangeError);
  assert.throws(() => resolve("example.test", [0, 0]), RangeError);
});

Deno.test("resolve() with the system resolver fails for a .invalid name, within its timeout", async () => {
  // Whether the system's DNS answers NXDOMAIN or nothing at all, the
  // outcome is the same DNSLookupError, in at most two seconds.
  const failure = await failureOf(resolve("no-such-host.invalid", 2, { hostsFile: null }));
  assert.ok(failure.value instanceof DNSLookupError);
});
