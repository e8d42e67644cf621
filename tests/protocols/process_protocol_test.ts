import assert from "node:assert/strict";
import { Failure } from "../../defer/failure.ts";
import { ProcessProtocol, type ProcessTransport } from "../../protocols/mod.ts";

class FakeProcess implements ProcessTransport {
  pid: number | null = 4242;
  written: Array<Uint8Array | string> = [];
  closed: string[] = [];
  signals: Array<string | number> = [];
  write(data: Uint8Array | string): void {
    this.written.push(data);
  }
  closeStdin(): void {
    this.closed.push("stdin");
  }
  closeStdout(): void {
    this.closed.push("stdout");
  }
  closeStderr(): void {
    this.closed.push("stderr");
  }
  loseConnection(): void {
    this.closed.push("all");
  }
  signalProcess(signal: string | number): void {
    this.signals.push(signal);
  }
}

class Recording extends ProcessProtocol {
  events: string[] = [];
  override connectionMade(): void {
    this.events.push(`made pid=${this.transport?.pid}`);
  }
  override outReceived(data: Uint8Array): void {
    this.events.push(`out ${new TextDecoder().decode(data)}`);
  }
  override errReceived(data: Uint8Array): void {
    this.events.push(`err ${new TextDecoder().decode(data)}`);
  }
  override inConnectionLost(): void {
    this.events.push("in lost");
  }
  override outConnectionLost(): void {
    this.events.push("out lost");
  }
  override errConnectionLost(): void {
    this.events.push("err lost");
  }
  override processExited(reason: Failure): void {
    this.events.push(`exited ${reason.getErrorMessage()}`);
  }
  override processEnded(reason: Failure): void {
    this.events.push(`ended ${reason.getErrorMessage()}`);
  }
}

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("ProcessProtocol.makeConnection() sets the transport, then calls connectionMade", () => {
  const p = new Recording();
  const t = new FakeProcess();
  p.makeConnection(t);
  assert.equal(p.transport, t);
  assert.deepEqual(p.events, ["made pid=4242"]);
});

Deno.test("ProcessProtocol.childDataReceived() dispatches stdout and stderr", () => {
  const p = new Recording();
  p.childDataReceived(1, bytes("a"));
  p.childDataReceived(2, bytes("b"));
  p.childDataReceived(0, bytes("ignored"));
  p.childDataReceived(3, bytes("ignored"));
  assert.deepEqual(p.events, ["out a", "err b"]);
});

Deno.test("ProcessProtocol.childConnectionLost() dispatches each standard pipe", () => {
  const p = new Recording();
  for (const fd of [0, 1, 2, 3]) p.childConnectionLost(fd);
  assert.deepEqual(p.events, ["in lost", "out lost", "err lost"]);
});

Deno.test("ProcessProtocol gets processExited, then processEnded", () => {
  const p = new Recording();
  p.makeConnection(new FakeProcess());
  p.childDataReceived(1, bytes("done"));
  p.processExited(new Failure(new Error("exit 0")));
  p.childConnectionLost(1);
  p.processEnded(new Failure(new Error("exit 0")));
  assert.deepEqual(p.events, [
    "made pid=4242",
    "out done",
    "exited exit 0",
    "out lost",
    "ended exit 0",
  ]);
});

Deno.test("ProcessProtocol can write to the child and close its stdin", () => {
  class Feeder extends ProcessProtocol {
    override connectionMade(): void {
      this.transport!.write("input\n");
      this.transport!.closeStdin();
    }
  }
  const t = new FakeProcess();
  new Feeder().makeConnection(t);
  assert.deepEqual(t.written, ["input\n"]);
  assert.deepEqual(t.closed, ["stdin"]);
});

Deno.test("ProcessProtocol's defaults do nothing", () => {
  const p = new ProcessProtocol();
  const t = new FakeProcess();
  p.makeConnection(t);
  p.childDataReceived(1, bytes("x"));
  p.childDataReceived(2, bytes("y"));
  for (const fd of [0, 1, 2]) p.childConnectionLost(fd);
  p.processExited(new Failure(new Error("exit 1")));
  p.processEnded(new Failure(new Error("exit 1")));
  assert.deepEqual(t.written, []);
  assert.deepEqual(t.closed, []);
});
