// CookieJar: RFC 6265 parsing, domain and path matching, host-only cookies,
// Secure, HttpOnly, Max-Age and Expires on an injected clock, limits, garbage.
import assert from "node:assert/strict";
import { CookieJar, Headers, Response as HTTPResponse } from "../../../protocols/mod.ts";
import { Clock } from "../../../reactor/mod.ts";

function jar(): [CookieJar, Clock] {
  const clock = new Clock();
  clock.advance(Date.UTC(2030, 0, 1) / 1000);
  return [new CookieJar(clock), clock];
}

Deno.test("CookieJar parses a Set-Cookie header forgivingly", () => {
  const [j] = jar();
  assert.ok(j.setCookie("  a = 1 ; Path=/ ;  Secure ; HttpOnly ; Unknown=x", "https://h.test/"));
  const [c] = j.allCookies();
  assert.deepEqual(
    { ...c, creation: 0 },
    {
      name: "a",
      value: "1",
      domain: "h.test",
      hostOnly: true,
      path: "/",
      secure: true,
      httpOnly: true,
      expires: undefined,
      creation: 0,
    },
  );
  assert.ok(j.setCookie('q="quoted value"', "http://h.test/"));
  assert.equal(j.getCookieHeader("https://h.test/"), 'a=1; q="quoted value"');
  // Cookies that are ignored.
  for (
    const bad of ["novalue", "=nameless", "", ";", "a\x01=1", "b=\x7f", `c=${"x".repeat(5000)}`]
  ) {
    assert.equal(j.setCookie(bad, "http://h.test/"), false, JSON.stringify(bad));
  }
  assert.equal(j.size, 2);
});

Deno.test("CookieJar: host-only cookies, Domain and subdomains", () => {
  const [j] = jar();
  j.setCookie("host=1", "http://example.com/");
  j.setCookie("dom=2; Domain=.Example.COM", "http://www.example.com/");
  assert.equal(j.getCookieHeader("http://example.com/"), "host=1; dom=2");
  assert.equal(j.getCookieHeader("http://www.example.com/"), "dom=2");
  assert.equal(j.getCookieHeader("http://a.b.example.com/"), "dom=2");
  assert.equal(j.getCookieHeader("http://notexample.com/"), undefined);
  assert.equal(j.getCookieHeader("http://example.org/"), undefined);
  // A Domain the host is not within is refused: no cookies for another site.
  assert.equal(j.setCookie("evil=1; Domain=other.com", "http://example.com/"), false);
  assert.equal(j.setCookie("evil=1; Domain=www.example.com", "http://example.com/"), false);
  assert.equal(j.setCookie("evil=1; Domain=com", "http://example.com/"), false);
  assert.equal(j.setCookie("evil=1; Domain=ample.com", "http://example.com/"), false);
  // A one-label Domain that is the host itself is fine.
  assert.ok(j.setCookie("local=1; Domain=localhost", "http://localhost/"));
  // IP addresses match only themselves.
  assert.ok(j.setCookie("ip=1; Domain=127.0.0.1", "http://127.0.0.1:8080/"));
  assert.equal(j.setCookie("ip=2; Domain=0.0.1", "http://127.0.0.1/"), false);
  assert.equal(j.getCookieHeader("http://127.0.0.1:9/"), "ip=1");
  assert.equal(j.getCookieHeader("http://127.0.0.2/"), undefined);
  assert.ok(j.setCookie("v6=1", "http://[::1]:81/"));
  assert.equal(j.getCookieHeader("http://[::1]/"), "v6=1");
});

Deno.test("CookieJar: paths, the default path, and the order cookies are sent in", () => {
  const [j, clock] = jar();
  j.setCookie("root=1; Path=/", "http://h.test/a/b/page");
  clock.advance(1);
  j.setCookie("deep=2; Path=/a/b", "http://h.test/");
  j.setCookie("dflt=3", "http://h.test/a/b/page"); // default path /a/b
  j.setCookie("relative=4; Path=rel", "http://h.test/x/y"); // default path /x
  assert.equal(j.getCookieHeader("http://h.test/a/b/page"), "deep=2; dflt=3; root=1");
  assert.equal(j.getCookieHeader("http://h.test/a/b"), "deep=2; dflt=3; root=1");
  assert.equal(j.getCookieHeader("http://h.test/a/bc"), "root=1");
  assert.equal(j.getCookieHeader("http://h.test/x/z"), "relative=4; root=1");
  assert.equal(j.getCookieHeader("http://h.test/"), "root=1");
  assert.equal(j.getCookies("http://h.test/a/b/")[0].path, "/a/b");
});

Deno.test("CookieJar: Secure cookies only come from and go to https", () => {
  const [j] = jar();
  assert.equal(j.setCookie("s=1; Secure", "http://h.test/"), false);
  assert.ok(j.setCookie("s=1; Secure", "https://h.test/"));
  j.setCookie("plain=2", "http://h.test/");
  assert.equal(j.getCookieHeader("http://h.test/"), "plain=2");
  assert.equal(j.getCookieHeader("https://h.test/"), "s=1; plain=2");
  assert.equal(j.setCookie("x=1", "ftp://h.test/"), false);
  assert.deepEqual(j.getCookies("ftp://h.test/"), []);
});

Deno.test("CookieJar: Max-Age and Expires on the jar's clock", () => {
  const [j, clock] = jar();
  j.setCookie("short=1; Max-Age=10", "http://h.test/");
  j.setCookie("dated=2; Expires=Tue, 01 Jan 2030 00:01:00 GMT", "http://h.test/");
  j.setCookie("both=3; Expires=Tue, 01 Jan 2030 00:00:05 GMT; Max-Age=100", "http://h.test/");
  j.setCookie("session=4", "http://h.test/");
  j.setCookie("badage=5; Max-Age=soon", "http://h.test/");
  assert.equal(
    j.getCookieHeader("http://h.test/"),
    "short=1; dated=2; both=3; session=4; badage=5",
  );
  clock.advance(10);
  assert.equal(j.getCookieHeader("http://h.test/"), "dated=2; both=3; session=4; badage=5");
  clock.advance(50);
  assert.equal(j.getCookieHeader("http://h.test/"), "both=3; session=4; badage=5");
  clock.advance(40);
  assert.equal(j.getCookieHeader("http://h.test/"), "session=4; badage=5");
  // Max-Age 0 and a date past delete a stored cookie.
  assert.ok(j.setCookie("session=; Max-Age=0", "http://h.test/"));
  assert.ok(j.setCookie("badage=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "http://h.test/"));
  assert.equal(j.getCookieHeader("http://h.test/"), undefined);
  assert.equal(j.setCookie("never=1; Max-Age=-1", "http://h.test/"), false);
  // clearSessionCookies() keeps only those with an expiry.
  j.setCookie("s=1", "http://h.test/");
  j.setCookie("p=1; Max-Age=1000", "http://h.test/");
  j.clearSessionCookies();
  assert.equal(j.getCookieHeader("http://h.test/"), "p=1");
  j.clear("h.test");
  assert.equal(j.size, 0);
});

Deno.test("CookieJar: setting a cookie again replaces it, keeping its place", () => {
  const [j, clock] = jar();
  j.setCookie("a=1", "http://h.test/");
  clock.advance(1);
  j.setCookie("b=2", "http://h.test/");
  clock.advance(1);
  j.setCookie("a=3; HttpOnly", "http://h.test/");
  assert.equal(j.getCookieHeader("http://h.test/"), "a=3; b=2");
  assert.equal(j.size, 2);
  // Same name, another path: another cookie.
  j.setCookie("a=4; Path=/p", "http://h.test/");
  assert.equal(j.getCookieHeader("http://h.test/p"), "a=4; a=3; b=2");
});

Deno.test("CookieJar keeps at most 180 cookies per domain, dropping the least used", () => {
  const [j, clock] = jar();
  j.setCookie("keep=1", "http://h.test/");
  for (let i = 0; i < 200; i++) {
    clock.advance(1);
    j.getCookies("http://h.test/"); // keeps "keep" fresh
    j.setCookie(`c${i}=x; Path=/other`, "http://h.test/");
  }
  assert.equal(j.size, 180);
  assert.ok(j.allCookies().some((c) => c.name === "keep"));
  assert.ok(j.allCookies().some((c) => c.name === "c199"));
  assert.ok(!j.allCookies().some((c) => c.name === "c0"));
});

Deno.test("CookieJar.extractCookies() reads every Set-Cookie, as UTF-8", () => {
  const [j] = jar();
  const headers = new Headers();
  headers.addRawHeader("Set-Cookie", "a=1");
  headers.addRawHeader("Set-Cookie", "b=2; Secure");
  // "é" in UTF-8, as the parser hands it over: one character per byte.
  headers.addRawHeader("Set-Cookie", "name=caf\xc3\xa9");
  headers.addRawHeader("Set-Cookie", "broken=\xff\xfe");
  const response = new HTTPResponse({ version: ["HTTP", 1, 1], code: 200, phrase: "OK", headers });
  assert.throws(() => j.extractCookies(response), /needs the URL/);
  assert.equal(j.extractCookies(response, "http://h.test/"), 2);
  assert.equal(j.getCookieHeader("http://h.test/"), "a=1; name=café");
});

Deno.test("CookieJar never throws on garbage Set-Cookie headers", () => {
  const [j] = jar();
  let seed = 11;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const pieces = ["=", ";", " ", "a", "Domain", "Path", "/", ".", "Max-Age", "-1", "Expires", "\t"];
  for (let i = 0; i < 3000; i++) {
    let header = "";
    for (let k = next() % 12; k > 0; k--) {
      header += next() % 3 === 0
        ? String.fromCharCode(next() % 256)
        : pieces[next() % pieces.length];
    }
    j.setCookie(header, "http://h.test/x/y");
  }
  for (const c of j.allCookies()) {
    assert.ok(c.name !== "");
    assert.ok(c.domain === "h.test");
  }
  assert.ok(j.size <= 180);
});
