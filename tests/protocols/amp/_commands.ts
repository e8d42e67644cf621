// Commands shared by the AMP tests, mirrored by tests/interop/amp_peer.py.
import {
  AmpDateTime,
  AmpList,
  BigInteger,
  Boolean,
  Bytes,
  command,
  DateTime,
  Decimal,
  Float,
  Integer,
  ListOf,
  optional,
  Unicode,
} from "../../../protocols/mod.ts";

export class DivideByZero extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DivideByZero";
  }
}

export class FatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FatalError";
  }
}

export const Sum = command("Sum", { a: Integer, b: Integer }, { total: Integer });
export const Divide = command(
  "Divide",
  { numerator: Integer, denominator: Integer },
  { result: Float },
  { errors: { ZERO_DIVISION: DivideByZero } },
);
export const Fail = command("Fail", {}, {});
export const Fatal = command("Fatal", {}, {}, { fatalErrors: { FATAL: FatalError } });
export const Notify = command("Notify", { text: Unicode }, {}, { requiresAnswer: false });
export const Notified = command("Notified", {}, { texts: ListOf(Unicode) });
export const Nope = command("Nope", {}, {});

const Kid = AmpList({ name: Unicode, n: Integer });
const Person = AmpList({
  name: Unicode,
  tags: ListOf(Unicode),
  kids: Kid,
  note: optional(Unicode),
});
const ECHO_SCHEMA = {
  ints: ListOf(Integer),
  big: BigInteger,
  bigNegative: BigInteger,
  half: Float,
  floats: ListOf(Float),
  yes: Boolean,
  no: Boolean,
  text: Unicode,
  texts: ListOf(Unicode),
  raw: Bytes,
  when: DateTime,
  whens: ListOf(DateTime),
  dec: Decimal,
  decs: ListOf(Decimal),
  people: Person,
  opt: optional(Integer),
  missing: optional(Unicode),
};
export const Echo = command("Echo", ECHO_SCHEMA, ECHO_SCHEMA);

/** The same values as ECHO_VALUES in amp_peer.py, as torsion decodes them. */
export const ECHO_VALUES = {
  ints: [0, -1, 1, 2 ** 53 - 1, -(2 ** 53 - 1), 1234567890123],
  big: 2n ** 100n,
  bigNegative: -(3n ** 70n),
  half: 0.5,
  floats: [NaN, Infinity, -Infinity, 1e16, 1e-5, -0, 123456.789, 5e-324, 1.7976931348623157e308, 1],
  yes: true,
  no: false,
  text: "h\u00e9llo w\u00f6rld \u2603 \u{1f600} \u0000 \u00fcn\u00efc\u00f6d\u00e9",
  texts: ["", "a", "\u00df", "\u{1f600}", "\ufeffbom"],
  raw: Uint8Array.from({ length: 256 }, (_, i) => i),
  when: new AmpDateTime({
    year: 2024,
    month: 2,
    day: 29,
    hour: 23,
    minute: 59,
    second: 59,
    microsecond: 999999,
    offsetMinutes: 330,
  }),
  whens: [
    new AmpDateTime({
      year: 1,
      month: 1,
      day: 1,
      hour: 0,
      minute: 0,
      second: 0,
      offsetMinutes: -480,
    }),
    new AmpDateTime({ year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59 }),
  ],
  dec: "-1234.5670",
  decs: ["1E+2", "NaN", "-Infinity", "0.000"],
  people: [
    {
      name: "\u00c5da",
      tags: ["x", "\u00ff"],
      kids: [{ name: "k\u00efd", n: -5 }, { name: "", n: 0 }],
      note: "\u2603",
    },
    { name: "Bob", tags: [], kids: [] },
  ],
  opt: 7,
};
