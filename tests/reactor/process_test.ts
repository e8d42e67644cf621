import assert from "node:assert/strict";
import { Failure } from "../../defer/failure.ts";
import { ProcessProtocol } from "../../protocols/process_protocol.ts";
import { ConnectionDone, ConnectionLost } from "../../reactor/connection_errors.ts";
import { type Process, type ProcessProtocolLike, spawnProcess } from "../../reactor/process.ts";
import {
  ProcessDone,
  ProcessExitedAlready,
  ProcessTerminated,
} from "../../reactor/process_errors.ts";
import { within as withinSeconds } from "../_helpers.ts";

const decoder = new TextDecoder();
const DENO = Deno.execPath();
const SH = "/bin/sh";

/** The shared time limit, with this file's argument order and default. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 10_000): Promise<T> {
  return withinSeconds(ms / 1000, promise, what);
}

/** Records every event; `ended` resolves with processEnded's reason. */
class Recorder extends ProcessProtocol {
  events: string[] = [];
  out = "";
  err = "";
  exitReason: Failure | undefined;
  readonly ended: Promise<Failure>;
  #end!: (reason: Failure) => void;

  constructor() {
    super();
    this.ended = new Promise((resolve) => (this.#end = resolve));
  }

  override connectionMade(): void {
    this.events.push("connectionMade");
  }
  override outReceived(data: Uint8Array): void {
    this.out += decoder.decode(data);
    if (!this.events.includes("out")) this.events.push("out");
  }
  override errReceived(data: Uint8Array): void {
    this.err += decoder.decode(data);
    if (!this.events.includes("err")) this.events.push("err");
  }
  override childConnectionLost(childFD: number): void {
    this.events.push(`lost ${childFD}`);
    super.childConnectionLost(childFD);
  }
  override processExited(reason: Failure): void {
    this.exitReason = reason;
    this.events.push("processExited");
  }
  override processEnded(reason: Failure): void {
    this.events.push("processEnded");
    this.#end(reason);
  }

  /** Waits for processEnded, killing the child if it takes too long. */
  async finish(ms = 10_000): Promise<Failure> {
    try {
      return await within("processEnded", this.ended, ms);
    } catch (error) {
      try {
        this.transport?.signalProcess("KILL");
      } catch {
        // Already gone.
      }
      await this.ended;
      throw error;
    }
  }
}

function denoEval(script: string): [string, string[]] {
  return [DENO, ["deno", "eval", "--no-config", script]];
}

Deno.test("spawnProcess() delivers stdout and stderr and ends with ProcessDone", async () => {
  const p = new Recorder();
  const [exe, args] = denoEval(`console.log("to out"); console.error("to err");`);
  const transport = spawnProcess(p, exe, args);
  assert.equal(p.transport, transport);
  assert.equal(typeof transport.pid, "number");
  assert.deepEqual(p.events, ["connectionMade"]);
  const reason = await p.finish();
  assert.equal(p.out, "to out\n");
  assert.equal(p.err, "to err\n");
  assert.ok(reason.value instanceof ProcessDone);
  assert.ok(reason.value instanceof ConnectionDone);
  assert.equal(reason.value.exitCode, 0);
  assert.equal(reason.value.signal, null);
  assert.ok(p.exitReason?.value instanceof ProcessDone);
  assert.equal(transport.pid, null);
});

Deno.test("spawnProcess() orders the events: pipes and exit, then processEnded last", async () => {
  const p = new Recorder();
  spawnProcess(p, SH, ["sh", "-c", "echo out; echo err >&2"]);
  await p.finish();
  const at = (event: string): number => {
    const i = p.events.indexOf(event);
    assert.notEqual(i, -1, `${event} missing from ${p.events}`);
    assert.equal(p.events.lastIndexOf(event), i, `${event} twice in ${p.events}`);
    return i;
  };
  assert.equal(at("connectionMade"), 0);
  assert.ok(at("out") < at("lost 1"));
  assert.ok(at("err") < at("lost 2"));
  assert.ok(at("processExited") < at("lost 0"), "stdin is closed once the child exits");
  const end = at("processEnded");
  assert.equal(end, p.events.length - 1);
  for (const event of ["processExited", "lost 0", "lost 1", "lost 2"]) assert.ok(at(event) < end);
});

Deno.test("spawnProcess() reports a non-zero exit code as ProcessTerminated", async () => {
  const p = new Recorder();
  spawnProcess(p, SH, ["sh", "-c", "exit 3"]);
  const reason = await p.finish();
  assert.ok(reason.value instanceof ProcessTerminated);
  assert.ok(reason.value instanceof ConnectionLost);
  assert.equal(reason.value.exitCode, 3);
  assert.equal(reason.value.signal, null);
  assert.equal(reason.value.status, 3 << 8);
  assert.equal(reason.getErrorMessage(), "Process ended with exit code 3");
  assert.ok(p.exitReason?.value instanceof ProcessTerminated);
});

Deno.test("Process.write() and closeStdin() feed the child's stdin", async () => {
  const p = new Recorder();
  const cat = spawnProcess(p, "/bin/cat", ["cat"]);
  cat.write("hello, ");
  cat.writeSequence([new TextEncoder().encode("wor"), "ld"]);
  cat.writeToChild(0, "!");
  cat.closeStdin();
  cat.write(" dropped after closeStdin");
  const reason = await p.finish();
  assert.equal(p.out, "hello, world!");
  assert.ok(reason.value instanceof ProcessDone);
  assert.ok(p.events.indexOf("lost 0") < p.events.indexOf("processEnded"));
  assert.throws(() => cat.writeToChild(1, "x"), RangeError);
  assert.throws(() => cat.write(7 as unknown as string), TypeError);
});

Deno.test("Process.loseConnection() closes the pipes and cat ends", async () => {
  const p = new Recorder();
  const cat = spawnProcess(p, "/bin/cat", ["cat"]);
  cat.loseConnection();
  const reason = await p.finish();
  assert.ok(reason.value instanceof ProcessDone);
  for (const fd of [0, 1, 2]) assert.ok(p.events.includes(`lost ${fd}`));
});

Deno.test("Process.closeStdout() stops reading: a writer gets SIGPIPE", async () => {
  const p = new Recorder();
  const yes = spawnProcess(p, "/usr/bin/yes", ["yes"]);
  yes.closeStdout();
  const reason = await p.finish();
  assert.ok(p.events.indexOf("lost 1") < p.events.indexOf("processEnded"));
  assert.ok(reason.value instanceof ProcessTerminated);
  assert.equal(reason.value.signalName, "SIGPIPE");
});

Deno.test("Process.signalProcess() kills the child; ProcessTerminated names the signal", async (t) => {
  for (
    const [signal, name, number] of [["KILL", "SIGKILL", 9], ["SIGTERM", "SIGTERM", 15], [
      15,
      "SIGTERM",
      15,
    ]] as const
  ) {
    await t.step(`signalProcess(${JSON.stringify(signal)})`, async () => {
      const p = new Recorder();
      const sleeper = spawnProcess(p, "/bin/sleep", ["sleep", "30"]);
      sleeper.signalProcess(signal);
      const reason = await p.finish();
      assert.ok(reason.value instanceof ProcessTerminated);
      assert.equal(reason.value.exitCode, null);
      assert.equal(reason.value.signalName, name);
      assert.equal(reason.value.signal, number);
      assert.equal(reason.getErrorMessage(), `Process ended by signal ${number} (${name})`);
      assert.equal(sleeper.pid, null);
      assert.throws(() => sleeper.signalProcess("KILL"), ProcessExitedAlready);
    });
  }
  await t.step("an unknown signal is a TypeError", async () => {
    const p = new Recorder();
    const cat = spawnProcess(p, "/bin/cat", ["cat"]);
    assert.throws(() => cat.signalProcess("NOSUCHSIGNAL"), TypeError);
    cat.closeStdin();
    await p.finish();
  });
});

Deno.test("spawnProcess() passes args after args[0] and ignores args[0]", async () => {
  const p = new Recorder();
  const [exe] = denoEval("");
  spawnProcess(p, exe, [
    "argv0 is ignored",
    "eval",
    "--no-config",
    "console.log(JSON.stringify(Deno.args))",
    "a b",
    "c",
  ]);
  await p.finish();
  assert.deepEqual(JSON.parse(p.out), ["a b", "c"]);
});

Deno.test("spawnProcess() gives the child exactly env, and an empty environment by default", async (t) => {
  await t.step("env given", async () => {
    const p = new Recorder();
    spawnProcess(p, "/usr/bin/env", ["env"], { env: { FOO: "bar", ANSWER: "42" } });
    await p.finish();
    assert.deepEqual(p.out.trim().split("\n").sort(), ["ANSWER=42", "FOO=bar"]);
  });
  await t.step("env omitted: empty, as in Twisted", async () => {
    const p = new Recorder();
    spawnProcess(p, "env", ["env"]); // still found on this process's PATH
    const reason = await p.finish();
    assert.ok(reason.value instanceof ProcessDone);
    assert.equal(p.out, "");
  });
});

Deno.test("spawnProcess() runs the child in path", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const p = new Recorder();
    spawnProcess(p, "/bin/pwd", ["pwd"], { path: dir });
    await p.finish();
    assert.equal(p.out.trim(), dir);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("spawnProcess() throws for a program that cannot be started", () => {
  const p = new Recorder();
  assert.throws(
    () => spawnProcess(p, "/no/such/program", ["program"]),
    (error: unknown) =>
      error instanceof Deno.errors.NotFound && /\/no\/such\/program/.test(error.message),
  );
  assert.throws(() => spawnProcess(p, SH, ["sh"], { path: "/no/such/dir" }), Deno.errors.NotFound);
  assert.deepEqual(p.events, [], "the protocol is never connected");
});

Deno.test("spawnProcess() refuses what Deno cannot do, with a TypeError", async (t) => {
  const p = new Recorder();
  await t.step("usePTY", () => {
    assert.throws(() => spawnProcess(p, SH, ["sh"], { usePTY: true }), /usePTY is not supported/);
  });
  await t.step("extra childFDs", () => {
    assert.throws(
      () => spawnProcess(p, SH, ["sh"], { childFDs: { 0: "w", 1: "r", 2: "r", 3: "r" } }),
      /childFDs .* is not supported/,
    );
    assert.throws(() => spawnProcess(p, SH, ["sh"], { childFDs: { 0: 0, 1: 1, 2: 2 } }), TypeError);
  });
  await t.step("arguments and environment values that are not strings", () => {
    assert.throws(() => spawnProcess(p, SH, ["sh", 1 as unknown as string]), TypeError);
    assert.throws(
      () => spawnProcess(p, SH, ["sh"], { env: { A: 1 as unknown as string } }),
      TypeError,
    );
    assert.throws(() => spawnProcess(p, "", []), TypeError);
  });
  assert.deepEqual(p.events, []);
  await t.step("Twisted's default childFDs and usePTY: false are accepted", async () => {
    const q = new Recorder();
    spawnProcess(q, SH, ["sh", "-c", "exit 0"], {
      usePTY: false,
      childFDs: { 0: "w", 1: "r", 2: "r" },
    });
    assert.ok((await q.finish()).value instanceof ProcessDone);
  });
});

Deno.test("spawnProcess() closes a pipe whose handler throws and carries on", async () => {
  const events: string[] = [];
  let end!: (reason: Failure) => void;
  const ended = new Promise<Failure>((resolve) => (end = resolve));
  const protocol: ProcessProtocolLike = {
    makeConnection(_transport: Process): void {},
    childDataReceived(childFD: number): void {
      events.push(`data ${childFD}`);
      if (childFD === 2) throw new Error("deliberate failure in a test protocol");
    },
    childConnectionLost(childFD: number): void {
      events.push(`lost ${childFD}`);
    },
    processEnded(reason: Failure): void {
      events.push("ended");
      end(reason);
    },
  };
  spawnProcess(protocol, SH, ["sh", "-c", "echo err >&2; echo out"]);
  const reason = await within("processEnded", ended);
  assert.ok(reason.value instanceof ProcessDone);
  assert.equal(events.filter((e) => e === "data 2").length, 1);
  assert.ok(events.includes("data 1"));
  assert.equal(events.at(-1), "ended");
  for (const fd of [0, 1, 2]) assert.equal(events.filter((e) => e === `lost ${fd}`).length, 1);
});

Deno.test("spawnProcess() rethrows from makeConnection(), but the child's events still arrive", async () => {
  const p = new Recorder();
  const original = p.makeConnection.bind(p);
  p.makeConnection = (transport) => {
    original(transport);
    throw new Error("boom in makeConnection");
  };
  assert.throws(() => spawnProcess(p, SH, ["sh", "-c", "echo still"]), /boom in makeConnection/);
  const reason = await p.finish();
  assert.equal(p.out, "still\n");
  assert.ok(reason.value instanceof ProcessDone);
});

Deno.test("ProcessTerminated and ProcessDone carry Twisted's fields", () => {
  const done = new ProcessDone(0);
  assert.equal(done.name, "ProcessDone");
  assert.equal(done.message, "Process finished with exit code 0");
  assert.deepEqual([done.exitCode, done.signal, done.status], [0, null, 0]);
  const plain = new ProcessTerminated();
  assert.equal(plain.message, "Process ended");
  assert.deepEqual([plain.exitCode, plain.signal, plain.status, plain.signalName], [
    null,
    null,
    null,
    null,
  ]);
  assert.equal(
    new Failure(new ProcessExitedAlready()).check("ProcessExitedAlready"),
    "ProcessExitedAlready",
  );
});
