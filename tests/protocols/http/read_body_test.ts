// readBody(): collecting a body, and cancelling it.
import assert from "node:assert/strict";
import { CancelledError } from "../../../defer/mod.ts";
import { Agent, readBody } from "../../../protocols/mod.ts";
import { bounded, readRequest, readUntilEOF, rejection, withRawServer, write } from "./_fakes.ts";

Deno.test(
  "Cancelling readBody() closes the connection in the middle of the body",
  bounded(() => {
    const eof = Promise.withResolvers<true>();
    return withRawServer(async (conn) => {
      await readRequest(conn);
      await write(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart");
      eof.resolve(await readUntilEOF(conn));
    }, async (server) => {
      const response = await new Agent().request("GET", `${server.url}/`);
      const body = readBody(response);
      body.cancel();
      assert.ok((await rejection(body)) instanceof CancelledError);
      assert.equal(await eof.promise, true);
    });
  }),
);
