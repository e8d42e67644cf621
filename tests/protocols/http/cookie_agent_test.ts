// CookieAgent against Deno.serve: a session cookie sent back, cookies kept
// from other hosts, redirects in both orders of wrapping, a caller's Cookie.
import assert from "node:assert/strict";
import { Agent, CookieAgent, CookieJar, readBody, RedirectAgent } from "../../../protocols/mod.ts";
import { bounded, withServer } from "./_fakes.ts";

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A site: /login sets a session cookie, /hop sets one and redirects, the rest echo Cookie. */
function site(request: Request): Response {
  const url = new URL(request.url);
  if (url.pathname === "/login") {
    const headers = new Headers();
    headers.append("set-cookie", "session=s1; Path=/; HttpOnly");
    headers.append("set-cookie", "theme=dark; Max-Age=3600");
    headers.append("set-cookie", "secret=x; Secure");
    return new Response("welcome", { headers });
  }
  if (url.pathname === "/hop") {
    return new Response(null, {
      status: 302,
      headers: { location: "/echo", "set-cookie": "hop=1; Path=/" },
    });
  }
  return new Response(`cookie: ${request.headers.get("cookie")}`);
}

Deno.test(
  "CookieAgent sends back the cookies a server set, to that host only",
  bounded(async () => {
    const other = Deno.serve({ hostname: "127.0.0.2", port: 0, onListen() {} }, site);
    try {
      await withServer(site, async (base) => {
        const jar = new CookieJar();
        const agent = new CookieAgent(new Agent(), jar);
        assert.equal(agent.cookieJar, jar);
        assert.equal(text(await readBody(await agent.request("GET", `${base}/login`))), "welcome");
        // Secure came over http: refused. The others are sent back.
        assert.equal(
          text(await readBody(await agent.request("GET", `${base}/echo`))),
          "cookie: session=s1; theme=dark",
        );
        // Another host never sees them.
        const elsewhere = `http://127.0.0.2:${other.addr.port}/echo`;
        assert.equal(text(await readBody(await agent.request("GET", elsewhere))), "cookie: null");
        // A caller's own Cookie header is sent as given.
        const own = await agent.request("GET", `${base}/echo`, { Cookie: "mine=1" });
        assert.equal(text(await readBody(own)), "cookie: mine=1");
      });
    } finally {
      await other.shutdown();
    }
  }),
);

Deno.test(
  "CookieAgent and redirects: each hop's cookies are kept, in either order of wrapping",
  bounded(() =>
    withServer(site, async (base) => {
      const inside = new CookieJar();
      const outer = new RedirectAgent(new CookieAgent(new Agent(), inside));
      assert.equal(
        text(await readBody(await outer.request("GET", `${base}/hop`))),
        "cookie: hop=1",
      );

      const outside = new CookieJar();
      const wrapped = new CookieAgent(new RedirectAgent(new Agent()), outside);
      // The hop after the redirect goes without the new cookie...
      assert.equal(
        text(await readBody(await wrapped.request("GET", `${base}/hop`))),
        "cookie: null",
      );
      // ...but the cookie set along the way is kept.
      assert.equal(outside.getCookieHeader(`${base}/`), "hop=1");
    })
  ),
);
