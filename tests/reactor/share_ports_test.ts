import assert from "node:assert/strict";
import { CannotListenError } from "../../reactor/connection_errors.ts";
import { DenoReactor } from "../../reactor/deno_reactor.ts";
import type { FactoryLike } from "../../reactor/interfaces.ts";

const factory: FactoryLike = { buildProtocol: () => null, doStart() {}, doStop() {} };

Deno.test("DenoReactor.sharePorts: two ports on one address, and no port 0 or UNIX socket", async () => {
  const reactor = new DenoReactor();
  reactor.sharePorts = true;
  assert.throws(
    () => reactor.listenTCP(0, factory, { interface: "127.0.0.1" }),
    (error: unknown) =>
      error instanceof CannotListenError && /port 0 cannot be shared/.test(error.message),
  );
  assert.throws(
    () => reactor.listenUNIX("/tmp/never.sock", factory),
    /Cannot listen on \/tmp\/never\.sock: a UNIX socket cannot be shared/,
  );
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const first = reactor.listenTCP(port, factory, { interface: "127.0.0.1" });
  const second = reactor.listenTCP(port, factory, { interface: "127.0.0.1" });
  assert.equal(second.getHost().port, port);
  await first.stopListening();
  await second.stopListening();
  reactor.sharePorts = false;
  const alone = reactor.listenTCP(port, factory, { interface: "127.0.0.1" });
  assert.throws(
    () => reactor.listenTCP(port, factory, { interface: "127.0.0.1" }),
    CannotListenError,
  );
  await alone.stopListening();
});
