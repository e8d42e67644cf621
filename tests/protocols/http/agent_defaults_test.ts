// What Agent sends unasked: User-Agent: torsion/<version>, and Basic auth from
// credentials in the URL (never in the request line or Host, and not carried
// to another origin by RedirectAgent).
import assert from "node:assert/strict";
import { Agent, getPage, readBody, RedirectAgent } from "../../../protocols/mod.ts";
import { MemoryReactorClock } from "../../../testing/mod.ts";
import config from "../../../deno.json" with { type: "json" };
import { bounded, connectLast, withServer } from "./_fakes.ts";

const decoder = new TextDecoder();

function written(url: string, headers?: Record<string, string>): string {
  const memory = new MemoryReactorClock();
  new Agent(memory).request("GET", url, headers);
  return connectLast(memory).transport.valueString();
}

Deno.test("Agent sends User-Agent: torsion/<version of deno.json> unless given one", () => {
  assert.match(
    written("http://example.com/"),
    new RegExp(`\r\nUser-Agent: torsion/${config.version}\r\n`),
  );
  const given = written("http://example.com/", { "user-agent": "mine/1" });
  assert.match(given, /\r\nuser-agent: mine\/1\r\n/);
  assert.equal(given.match(/user-agent/gi)?.length, 1);
});

Deno.test("Agent sends credentials from the URL as Basic auth, nowhere else", () => {
  const wire = written("http://us%40er:p%C3%A4ss%3Aw@example.com:8080/p?q");
  assert.match(wire, /^GET \/p\?q HTTP\/1\.1\r\nHost: example\.com:8080\r\n/);
  const value = /\r\nAuthorization: Basic ([^\r]+)\r\n/.exec(wire)![1];
  const decoded = new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
  assert.equal(decoded, "us@er:päss:w");
  assert.doesNotMatch(wire, /p%C3%A4ss|päss/);
  // A user name alone, and a stray %.
  const alone = written("http://me%@example.com/");
  assert.match(alone, new RegExp(`\r\nAuthorization: Basic ${btoa("me%:")}\r\n`));
  // A given Authorization wins.
  const given = written("http://u:p@example.com/", { Authorization: "Bearer t" });
  assert.match(given, /\r\nAuthorization: Bearer t\r\n/);
  assert.equal(given.match(/authorization/gi)?.length, 1);
});

Deno.test(
  "Agent's Basic auth reaches Deno.serve; the response's URL has no credentials",
  bounded(() =>
    withServer((request) => {
      return new Response(`${request.headers.get("authorization")} ${request.url}`);
    }, async (base) => {
      const url = base.replace("http://", "http://alice:s%20cret@") + "/x";
      const response = await new Agent().request("GET", url);
      assert.equal(
        decoder.decode(await readBody(response)),
        `Basic ${btoa("alice:s cret")} ${base}/x`,
      );
      assert.equal(response.request?.absoluteURI, `${base}/x`);
    })
  ),
);

Deno.test(
  "RedirectAgent keeps URL credentials on its origin and drops them across origins",
  bounded(() =>
    withServer(
      (request) => new Response(String(request.headers.get("authorization"))),
      (other) =>
        withServer((request) => {
          const path = new URL(request.url).pathname;
          const auth = String(request.headers.get("authorization"));
          if (path === "/same") return Response.redirect(new URL("/end", request.url), 302);
          if (path === "/away") return Response.redirect(`${other}/there`, 302);
          return new Response(auth);
        }, async (base) => {
          const withCredentials = base.replace("http://", "http://bob:pw@");
          const agent = new RedirectAgent(new Agent());
          const same = await agent.request("GET", `${withCredentials}/same`);
          assert.equal(decoder.decode(await readBody(same)), `Basic ${btoa("bob:pw")}`);
          const away = await agent.request("GET", `${withCredentials}/away`);
          assert.equal(decoder.decode(await readBody(away)), "null");
          assert.equal(decoder.decode(await getPage(`${withCredentials}/away`)), "null");
        }),
    )
  ),
);
