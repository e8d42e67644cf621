// Type-level tests: `deno check` (run by `deno task check`) fails if any
// `@ts-expect-error` line below stops being an error, or a typed line fails.
import assert from "node:assert/strict";
import {
  type AMP,
  type AmpDateTime,
  AmpList,
  type ArgumentsOf,
  BigInteger,
  command,
  DateTime,
  Integer,
  ListOf,
  optional,
  type ResponseOf,
  Unicode,
} from "../../../protocols/mod.ts";
import type { Deferred } from "../../../defer/mod.ts";

class DivideByZero extends Error {}
const Sum = command("Sum", { a: Integer, b: Integer }, { total: Integer }, {
  errors: { ZERO_DIVISION: DivideByZero },
  requiresAnswer: true,
});
const Log = command("Log", { line: Unicode }, {}, { requiresAnswer: false });
const Rich = command(
  "Rich",
  { when: DateTime, tags: ListOf(Unicode), note: optional(Unicode), big: BigInteger },
  { people: AmpList({ name: Unicode, age: optional(Integer) }), when: DateTime },
);

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function same<A, B>(_proof: Equal<A, B>): void {}

// Only checked, never run: a connection that is not made would fail the calls.
function typed(amp: AMP): void {
  const sum: Deferred<{ total: number }> = amp.callRemote(Sum, { a: 1, b: 2 });
  same<ResponseOf<typeof Sum>, { total: number }>(true);
  same<ArgumentsOf<typeof Sum>, { a: number; b: number }>(true);
  same<ArgumentsOf<typeof Rich>, {
    when: AmpDateTime | Date;
    tags: readonly string[];
    big: bigint | number;
    note?: string;
  }>(true);
  same<ResponseOf<typeof Rich>, {
    people: { name: string; age?: number }[];
    when: AmpDateTime;
  }>(true);
  const nothing: void = amp.callRemote(Log, { line: "x" });

  // @ts-expect-error: a missing argument
  amp.callRemote(Sum, { a: 1 });
  // @ts-expect-error: an argument of the wrong type
  amp.callRemote(Sum, { a: 1, b: "2" });
  // @ts-expect-error: an argument the command does not have
  amp.callRemote(Sum, { a: 1, b: 2, c: 3 });
  // @ts-expect-error: the response has no such field
  amp.callRemote(Sum, { a: 1, b: 2 }).addCallback((r) => r.sum);
  // @ts-expect-error: a command without an answer gives no Deferred
  amp.callRemote(Log, { line: "x" }).addCallback(() => {});
  // @ts-expect-error: Integer is not a bigint
  amp.callRemote(Sum, { a: 1n, b: 2 });

  amp.respond(Sum, ({ a, b }) => ({ total: a + b }));
  amp.respond(Sum, ({ a, b }) => Promise.resolve({ total: a + b }));
  amp.respond(Sum, () => {
    throw new DivideByZero("no");
  });
  amp.respond(Rich, ({ when, tags, note, big }) => ({
    people: tags.map((name) => ({ name, age: note === undefined ? undefined : Number(big) })),
    when: when.toDate(),
  }));
  // @ts-expect-error: the response must have `total`
  amp.respond(Sum, () => ({}));
  // @ts-expect-error: `total` must be a number
  amp.respond(Sum, () => ({ total: "3" }));
  // @ts-expect-error: arguments are numbers, not strings
  amp.respond(Sum, ({ a }: { a: string }) => ({ total: a.length }));
  // @ts-expect-error: a Promise of the wrong response
  amp.respond(Sum, () => Promise.resolve({ sum: 1 }));
  void sum;
  void nothing;
}

Deno.test("AMP types: calls and responders are checked by the type checker", () => {
  assert.equal(typeof typed, "function");
});
