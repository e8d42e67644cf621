// RedirectAgent (through getPage and directly): which redirects are followed,
// the limit, a missing Location, credentials across origins; and
// BrowserLikeRedirectAgent's method changes; a body producer is never sent twice.
import assert from "node:assert/strict";
import {
  Agent,
  BrowserLikeRedirectAgent,
  FileBodyProducer,
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

Deno.test(
  "BrowserLikeRedirectAgent changes methods as browsers do",
  bounded(() => {
    let seen: string[] = [];
    return withServer(async (request) => {
      const url = new URL(request.url);
      const body = await request.text();
      seen.push(`${request.method} ${url.pathname} ${body} ${request.headers.get("content-type")}`);
      const code = Number(url.pathname.slice(1));
      return code >= 300 && code < 400
        ? new Response(null, { status: code, headers: { location: "/end" } })
        : new Response(`${request.method} end`);
    }, async (base) => {
      const agent = new BrowserLikeRedirectAgent(new Agent());
      const headers = { "Content-Type": "text/plain", "X-Kept": "yes" };
      const cases: [method: string, code: number, second: string][] = [
        ["POST", 301, "GET /end  null"],
        ["POST", 302, "GET /end  null"],
        ["POST", 303, "GET /end  null"],
        ["PUT", 303, "GET /end  null"],
        ["POST", 307, "POST /end body text/plain"],
        ["POST", 308, "POST /end body text/plain"],
        ["PUT", 302, "PUT /end body text/plain"],
        ["DELETE", 301, "DELETE /end body text/plain"],
      ];
      for (const [method, code, second] of cases) {
        seen = [];
        const response = await agent.request(method, `${base}/${code}`, headers, "body");
        await readBody(response);
        assert.deepEqual(seen, [`${method} /${code} body text/plain`, second], `${method} ${code}`);
        assert.equal(response.request?.method, second.split(" ")[0]);
        assert.equal(response.request?.headers.getRawHeaders("x-kept")?.[0], "yes");
        assert.equal(response.previousResponse?.code, code);
      }
      // HEAD stays HEAD, even after a 303.
      seen = [];
      await readBody(await agent.request("HEAD", `${base}/303`));
      assert.deepEqual(seen, ["HEAD /303  null", "HEAD /end  null"]);
      // The strict agent still refuses a POST answered by 301, 302, 307 or 308.
      for (const code of [301, 302, 307, 308]) {
        const e = await rejection(
          new RedirectAgent(new Agent()).request("POST", `${base}/${code}`),
        );
        assert.ok(e instanceof ResponseFailed);
        assert.ok(e.reasons[0].check(PageRedirect), String(code));
      }
    });
  }),
);

Deno.test(
  "BrowserLikeRedirectAgent keeps credentials and cookies from another origin",
  bounded(() =>
    withServer((request) =>
      new Response(
        `${request.method} ${request.headers.get("authorization")} ${
          request.headers.get("cookie")
        } ${request.headers.get("x-other")}`,
      ), (other) =>
      withServer((request) => {
        const path = new URL(request.url).pathname;
        if (path === "/away") return Response.redirect(`${other}/`, 307);
        return Response.redirect(new URL("/echo", request.url), 302);
      }, async (base) => {
        const agent = new BrowserLikeRedirectAgent(new Agent(), 5);
        const headers = { Authorization: "Basic c2VjcmV0", Cookie: "a=1", "X-Other": "kept" };
        const away = await agent.request("POST", `${base}/away`, headers, "x");
        assert.equal(text(await readBody(away)), "POST null null kept");
      }))
  ),
);

Deno.test(
  "Redirect agents refuse to send a body producer again, and follow when the body is dropped",
  bounded(() => {
    let seen: string[] = [];
    return withServer(async (request) => {
      const url = new URL(request.url);
      seen.push(`${request.method} ${url.pathname} ${await request.text()}`);
      const code = Number(url.pathname.slice(1));
      return code >= 300 && code < 400
        ? new Response(null, { status: code, headers: { location: "/end" } })
        : new Response(`${request.method} end`);
    }, async (base) => {
      const producer = () => new FileBodyProducer(new TextEncoder().encode("body"));
      const browser = new BrowserLikeRedirectAgent(new Agent());
      // The method and body go on: a used producer cannot, so the redirect fails.
      for (const [method, code] of [["POST", 307], ["PUT", 308], ["PUT", 302]] as const) {
        seen = [];
        const e = await rejection(browser.request(method, `${base}/${code}`, {}, producer()));
        assert.ok(e instanceof ResponseFailed, String(e));
        const reason = e.reasons[0].value;
        assert.ok(reason instanceof PageRedirect, `${method} ${code}`);
        assert.equal(reason.location, "/end");
        assert.match(reason.message, /a body producer cannot be sent twice/);
        assert.deepEqual(seen, [`${method} /${code} body`]);
      }
      // A POST answered by 302 or 303 goes on as a GET without the body: followed.
      for (const code of [302, 303]) {
        seen = [];
        const response = await browser.request("POST", `${base}/${code}`, {}, producer());
        assert.equal(text(await readBody(response)), "GET end");
        assert.deepEqual(seen, [`POST /${code} body`, "GET /end "]);
      }
      // RedirectAgent: a 303 drops the body; a 307 would send it again, refused even for GET.
      const strict = new RedirectAgent(new Agent());
      seen = [];
      const after303 = await strict.request("PUT", `${base}/303`, {}, producer());
      assert.equal(text(await readBody(after303)), "GET end");
      for (const method of ["GET", "POST"]) {
        seen = [];
        const e = await rejection(strict.request(method, `${base}/307`, {}, producer()));
        assert.ok(e instanceof ResponseFailed && e.reasons[0].check(PageRedirect), method);
        // (Deno.serve gives no body for a GET.)
        assert.deepEqual(seen, [`${method} /307 ${method === "GET" ? "" : "body"}`]);
      }
    });
  }),
);
