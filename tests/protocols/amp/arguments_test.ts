import assert from "node:assert/strict";
import {
  AmpDateTime,
  AmpList,
  type ArgumentType,
  BigInteger,
  Boolean,
  Bytes,
  DateTime,
  Decimal,
  Float,
  Integer,
  ListOf,
  optional,
  Unicode,
} from "../../../protocols/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("Integer: decimal text, Python's int() syntax, a clear error outside the safe range", () => {
  for (const n of [0, -1, 42, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
    assert.equal(Integer.decode(Integer.encode(n)), n);
  }
  assert.equal(str(Integer.encode(-0)), "0");
  assert.equal(Object.is(Integer.decode(enc("-0")), 0), true);
  for (const [text, n] of [[" 7 ", 7], ["+5", 5], ["-1_000", -1000], ["007", 7]] as const) {
    assert.equal(Integer.decode(enc(text)), n, text);
  }
  for (const bad of ["", "-", "1.5", "0x10", "1__0", "_1", "١", "1e3"]) {
    assert.throws(() => Integer.decode(enc(bad)), TypeError, bad);
  }
  assert.throws(() => Integer.decode(enc("9007199254740992")), {
    name: "RangeError",
    message: "Integer 9007199254740992 is outside the safe integer range: use BigInteger " +
      "for large integers",
  });
  assert.throws(() => Integer.encode(2 ** 53), RangeError);
  assert.throws(() => Integer.encode(1.5), TypeError);
  assert.throws(() => Integer.encode(NaN), TypeError);
  assert.throws(() => Integer.encode("1" as unknown as number), TypeError);
});

Deno.test("BigInteger: integers of any size as bigint, the same wire format", () => {
  assert.equal(str(BigInteger.encode(-(2n ** 200n))), (-(2n ** 200n)).toString());
  assert.equal(
    BigInteger.decode(enc("123456789012345678901234567890")),
    123456789012345678901234567890n,
  );
  assert.equal(str(BigInteger.encode(5)), "5");
  assert.throws(() => BigInteger.decode(enc("x")), TypeError);
});

Deno.test("Float: Python's repr() on the wire, Python's float() when reading", () => {
  const cases: Array<[number, string]> = [
    [1, "1.0"],
    [0.1, "0.1"],
    [-0, "-0.0"],
    [1e16, "1e+16"],
    [1e15, "1000000000000000.0"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [123456.789, "123456.789"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [NaN, "nan"],
    [2 ** 60, "1.152921504606847e+18"],
    [-12345678901234.5, "-12345678901234.5"],
  ];
  for (const [x, text] of cases) {
    assert.equal(str(Float.encode(x)), text, String(x));
    assert.ok(Object.is(Float.decode(enc(text)), x), text);
  }
  for (
    const [text, x] of [["Infinity", Infinity], ["-NaN", NaN], [" 1_0.5e1_0 ", 10.5e10], [
      ".5",
      0.5,
    ], ["5.", 5]] as const
  ) {
    assert.ok(Object.is(Float.decode(enc(text)), x), text);
  }
  for (const bad of ["", "0x1p3", "1e", "inf inity", "--1", "1,5"]) {
    assert.throws(() => Float.decode(enc(bad)), TypeError, bad);
  }
  assert.throws(() => Float.encode("1" as unknown as number), TypeError);
});

Deno.test("Boolean: exactly True or False", () => {
  assert.equal(str(Boolean.encode(true)), "True");
  assert.equal(str(Boolean.encode(false)), "False");
  assert.equal(Boolean.decode(enc("True")), true);
  for (const bad of ["true", "1", "", "Truex", "Fals"]) {
    assert.throws(() => Boolean.decode(enc(bad)), TypeError, bad);
  }
  assert.throws(() => Boolean.encode(1 as unknown as boolean), TypeError);
});

Deno.test("Unicode: UTF-8 both ways; invalid UTF-8 and lone surrogates are TypeErrors", () => {
  for (const s of ["", "héllo", "\u{1f600}", "\ufeffbom", "\u0000"]) {
    assert.equal(Unicode.decode(Unicode.encode(s)), s);
  }
  assert.throws(() => Unicode.decode(Uint8Array.of(0xff)), /not valid UTF-8/);
  assert.throws(() => Unicode.encode("\ud800"), /lone surrogate/);
  assert.throws(() => Unicode.encode(5 as unknown as string), TypeError);
});

Deno.test("Bytes: passed through unchanged", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(Bytes.decode(Bytes.encode(all)), all);
  assert.throws(() => Bytes.encode("x" as unknown as Uint8Array), TypeError);
});

Deno.test("Decimal: the string, checked against Python's decimal syntax", () => {
  for (
    const s of [
      "0",
      "-1.50",
      "1E+2",
      "1e-7",
      ".5",
      "5.",
      "Infinity",
      "-Inf",
      "NaN",
      "sNaN12",
      "1_000.5",
    ]
  ) {
    assert.equal(Decimal.decode(Decimal.encode(s)), s);
  }
  assert.equal(Decimal.decode(enc("  3.14\n")), "3.14");
  for (const bad of ["", "1,5", "0x10", "1e", "e5", "- 1", "NaNx"]) {
    assert.throws(() => Decimal.encode(bad), TypeError, bad);
    assert.throws(() => Decimal.decode(enc(bad)), TypeError, bad);
  }
});

Deno.test("DateTime: Twisted's 32-character format, offsets kept, Dates accepted", () => {
  const text = "2024-02-29T23:59:59.999999+05:30";
  const t = DateTime.decode(enc(text));
  assert.deepEqual(
    [t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond, t.offsetMinutes],
    [2024, 2, 29, 23, 59, 59, 999999, 330],
  );
  assert.equal(str(DateTime.encode(t)), text);
  assert.equal(t.toDate().toISOString(), "2024-02-29T18:29:59.999Z");
  assert.equal(str(DateTime.encode(new Date(Date.UTC(5, 0, 1)))).slice(0, 4), "1905");
  const early = new AmpDateTime({ year: 5, month: 1, day: 1, hour: 0, minute: 0, second: 0 });
  assert.equal(String(early), "0005-01-01T00:00:00.000000-00:00");
  assert.equal(AmpDateTime.fromDate(early.toDate()).year, 5);
  assert.equal(
    String(AmpDateTime.fromDate(new Date("2020-06-01T12:00:00Z"), -300)),
    "2020-06-01T07:00:00.000000-05:00",
  );
  for (
    const bad of [
      "2023-02-29T00:00:00.000000+00:00",
      "2024-13-01T00:00:00.000000+00:00",
      "2024-01-01T24:00:00.000000+00:00",
      "2024-01-01T00:00:00.000000+00:60",
      "2024-01-01 00:00:00.000000+00:00",
      "2024-01-01T00:00:00.000000Z00:00",
      "0000-01-01T00:00:00.000000+00:00",
      "short",
    ]
  ) {
    assert.throws(() => DateTime.decode(enc(bad)), /Bad DateTime/, bad);
  }
  assert.throws(() => DateTime.encode(new Date(NaN)), TypeError);
  assert.throws(() => DateTime.encode("2024" as unknown as Date), TypeError);
});

Deno.test("ListOf: 16-bit length-prefixed elements; bytes ending inside one are a TypeError", () => {
  const Texts = ListOf(Unicode);
  assert.deepEqual([...Texts.encode(["a", ""])], [0, 1, 97, 0, 0]);
  assert.deepEqual(Texts.decode(Uint8Array.of()), []);
  assert.throws(() => Texts.decode(Uint8Array.of(0)), /ends inside a length prefix/);
  assert.throws(() => Texts.decode(Uint8Array.of(0, 2, 97)), /element 0 needs 2 bytes, 1 are left/);
  assert.deepEqual(
    ListOf(ListOf(Integer)).decode(ListOf(ListOf(Integer)).encode([[1], [], [2, 3]])),
    [[1], [], [2, 3]],
  );
  assert.throws(() => ListOf(optional(Integer)), TypeError);
  assert.throws(() => Texts.encode("ab" as unknown as string[]), TypeError);
});

Deno.test("AmpList: records as boxes, nested, optional fields left out", () => {
  const Kids = AmpList({ name: Unicode, age: optional(Integer) });
  const People = AmpList({ name: Unicode, kids: Kids });
  const value = [{ name: "Ada", kids: [{ name: "B", age: 3 }, { name: "C" }] }, {
    name: "D",
    kids: [],
  }];
  const bytes = People.encode(value);
  assert.deepEqual(People.decode(bytes), value);
  assert.throws(() => People.decode(bytes.subarray(0, bytes.length - 1)), /Bad AmpList/);
  assert.throws(() => People.decode(Kids.encode([{ name: "x" }])), /"kids" is missing/);
  assert.throws(() => People.encode([{ name: "x" } as never]), /forgot kids/);
  assert.throws(() => AmpList({ "": Integer }), /must be 1 to 255 bytes/);
});

Deno.test("a type of your own is an object with typeName, encode and decode", () => {
  const Json: ArgumentType<unknown> = {
    typeName: "Json",
    encode: (value) => enc(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(str(bytes)),
  };
  const List = ListOf(Json);
  assert.deepEqual(List.decode(List.encode([{ a: 1 }, [2]])), [{ a: 1 }, [2]]);
  assert.throws(() => ListOf({} as ArgumentType<unknown>), /needs an argument type/);
  assert.throws(() => optional(optional(Integer)), /already optional/);
});
