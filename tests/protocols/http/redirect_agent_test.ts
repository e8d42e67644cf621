// RedirectAgent (through getPage and directly): which redirects are followed,
// the limit, a missing Location, credentials across origins.
import assert from "node:assert/strict";
import {
  Agent,
  getPage,
  HTTPError,
  InfiniteRedirection,
  PageRedirect,
  readBody,
  RedirectAgent,
  RedirectWithNoLocation,
  ResponseFailed,
} from "../../../protocols/mod.ts";
import { bounded, rejection, withServer } from "./_fakes.ts";

const decoder = new TextDecoder();
const text = (b: Uint8Array): string => decoder.decode(b);

Deno.test(
  "getPage() follows absolute and relative redirects",
  bounded(() =>
    withServer((request) => {
      const url = new URL(request.url);
      switch (url.pathname) {
        case "/absolute":
          return Response.redirect(new URL("/relative", url), 301);
        case "/relative":
          return new Response(null, { status: 302, headers: { location: "sub/../final?x=1" } });
        case "/final":
          return new Response(`final ${url.search}`);
        default:
          return new Response("?", { status: 404 });
      }
    }, async (base) => {
      assert.equal(text(await getPage(`${base}/absolute`)), "final ?x=1");
      const response = await new RedirectAgent(new Agent()).request("GET", `${base}/absolute`);
      await readBody(response);
      assert.equal(response.request?.absoluteURI, `${base}/final?x=1`);
      assert.equal(response.previousResponse?.code, 302);
      assert.equal(response.previousResponse?.previousResponse?.code, 301);
      assert.equal(response.previousResponse?.previousResponse?.previousResponse, undefined);
    })
  ),
);

Deno.test(
  "Redirects: 307 and 308 keep the method, other methods are not redirected by 301/302",
  bounded(() =>
    withServer((request) => {
      const url = new URL(request.url);
      if (url.pathname === "/307") return Response.redirect(new URL("/end", url), 307);
      if (url.pathname === "/302") return Response.redirect(new URL("/end", url), 302);
      return new Response(`${request.method} end`);
    }, async (base) => {
      assert.equal(text(await getPage(`${base}/307`, { method: "HEAD" })), "");
      const e = await rejection(getPage(`${base}/302`, { method: "POST", body: "x" }));
      assert.ok(e instanceof PageRedirect);
      assert.equal(e.status, 302);
      assert.equal(e.location, `${base}/end`);
      const wrapped = await rejection(
        new RedirectAgent(new Agent()).request("DELETE", `${base}/302`),
      );
      assert.ok(wrapped instanceof ResponseFailed);
      assert.ok(wrapped.reasons[0].check(PageRedirect));
    })
  ),
);

Deno.test(
  "getPage() follows 20 redirects and fails with InfiniteRedirection after that",
  bounded(() =>
    withServer((request) => {
      const n = Number(new URL(request.url).pathname.slice(1));
      return n > 0
        ? new Response("moved", { status: 302, headers: { location: `/${n - 1}` } })
        : new Response("arrived");
    }, async (base) => {
      assert.equal(text(await getPage(`${base}/20`)), "arrived");
      const e = await rejection(getPage(`${base}/21`));
      assert.ok(e instanceof InfiniteRedirection);
      assert.equal(e.status, 302);
      assert.equal(e.location, `${base}/1`);
      assert.ok(e instanceof HTTPError);
      // Straight to the agent, it is wrapped as in Twisted.
      const wrapped = await rejection(
        new RedirectAgent(new Agent(), 2).request("GET", `${base}/5`),
      );
      assert.ok(wrapped instanceof ResponseFailed);
      assert.ok(wrapped.reasons[0].check(InfiniteRedirection));
      assert.equal(wrapped.response?.code, 302);
    })
  ),
);

Deno.test(
  "A redirect without Location fails with RedirectWithNoLocation",
  bounded(() =>
    withServer(() => new Response(null, { status: 302 }), async (base) => {
      const e = await rejection(getPage(`${base}/nowhere`));
      assert.ok(e instanceof RedirectWithNoLocation);
      assert.equal(e.uri, `${base}/nowhere`);
    })
  ),
);

Deno.test(
  "A redirect to another origin does not pass credentials on",
  bounded(() =>
    withServer((request) => {
      return new Response(
        `${request.headers.get("authorization")} ${request.headers.get("x-other")}`,
      );
    }, (other) =>
      withServer((request) => {
        const path = new URL(request.url).pathname;
        if (path === "/away") return Response.redirect(`${other}/`, 302);
        if (path === "/near") return Response.redirect(new URL("/echo", request.url), 302);
        return new Response(`${request.headers.get("authorization")} near`);
      }, async (base) => {
        const headers = { Authorization: "Basic c2VjcmV0", "X-Other": "kept" };
        assert.equal(text(await getPage(`${base}/away`, { headers })), "null kept");
        assert.equal(text(await getPage(`${base}/near`, { headers })), "Basic c2VjcmV0 near");
      }))
  ),
);

Deno.test(
  "getPage() turns a POST into a GET after a 303, dropping the body",
  bounded(() => {
    const seen: string[] = [];
    return withServer(async (request) => {
      const body = await request.text();
      seen.push(`${request.method} ${new URL(request.url).pathname} ${body}`);
      return new URL(request.url).pathname === "/form"
        ? new Response(null, { status: 303, headers: { location: "/done" } })
        : new Response("thanks");
    }, async (base) => {
      assert.equal(text(await getPage(`${base}/form`, { method: "POST", body: "a=1" })), "thanks");
      assert.deepEqual(seen, ["POST /form a=1", "GET /done "]);
    });
  }),
);
