/**
 * The errors of sending a request body, as Twisted's
 * `twisted.web._newclient` has them: the producer wrote the wrong number of
 * bytes ({@linkcode WrongBodyLength}) or wrote after it was done
 * ({@linkcode ExcessWrite}); the body could not be made
 * ({@linkcode RequestGenerationFailed}) or sent
 * ({@linkcode RequestTransmissionFailed}).
 *
 * @module
 */
import type { Failure } from "../../defer/failure.ts";
import { describeReasons } from "./errors.ts";

/**
 * A body producer with a declared `length` wrote more or fewer bytes than
 * that. The request fails with a {@linkcode RequestGenerationFailed}
 * holding it, and its connection is closed, since the server would read
 * the bytes wrongly.
 *
 * @example
 * ```ts
 * import { WrongBodyLength } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new WrongBodyLength(10, 12);
 * assert.match(e.message, /at least 12 bytes, but declared 10: too many/);
 * assert.equal(e.written, 12);
 * ```
 */
export class WrongBodyLength extends Error {
  /** The length the producer declared. */
  readonly expected: number;
  /** How many bytes it wrote (at least this many, when too many). */
  readonly written: number;

  /**
   * Makes the error.
   *
   * @param expected The declared length.
   * @param written The bytes written.
   */
  constructor(expected: number, written: number) {
    super(
      `The request body producer wrote ${written > expected ? "at least " : ""}${written} ` +
        `bytes, but declared ${expected}: too ${written > expected ? "many" : "few"} bytes written`,
    );
    this.name = "WrongBodyLength";
    this.expected = expected;
    this.written = written;
  }
}

/**
 * Thrown at a body producer that writes after its body was finished or had
 * failed: a bug in the producer. It is stopped first.
 *
 * @example
 * ```ts
 * import { ExcessWrite } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new ExcessWrite().name, "ExcessWrite");
 * ```
 */
export class ExcessWrite extends Error {
  /**
   * Makes the error.
   *
   * @param message Why.
   */
  constructor(message = "The request body producer wrote after its body had ended") {
    super(message);
    this.name = "ExcessWrite";
  }
}

/**
 * The request body could not be made: its producer failed (its
 * `startProducing` Deferred failed, or it threw), or wrote the wrong number
 * of bytes ({@linkcode WrongBodyLength} among the `reasons`). The connection
 * is closed, since the request on it is incomplete.
 *
 * @example
 * ```ts
 * import { Failure } from "@torsion/torsion/defer";
 * import { RequestGenerationFailed, WrongBodyLength } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new RequestGenerationFailed([new Failure(new WrongBodyLength(3, 1))]);
 * assert.ok(e.reasons[0].check(WrongBodyLength));
 * ```
 */
export class RequestGenerationFailed extends Error {
  /** The underlying failures. */
  readonly reasons: readonly Failure[];

  /**
   * Makes the error.
   *
   * @param reasons What went wrong.
   */
  constructor(reasons: readonly Failure[]) {
    super(`The request body could not be sent: ${describeReasons(reasons)}`);
    this.name = "RequestGenerationFailed";
    this.reasons = reasons;
  }
}

/**
 * The connection was lost while the request body was being sent, before
 * any response arrived.
 *
 * @example
 * ```ts
 * import { Failure } from "@torsion/torsion/defer";
 * import { ConnectionLost } from "@torsion/torsion/reactor";
 * import { RequestTransmissionFailed } from "@torsion/torsion/protocols";
 * import assert from "node:assert/strict";
 *
 * const e = new RequestTransmissionFailed([new Failure(new ConnectionLost())]);
 * assert.match(e.message, /while the request body was being sent/);
 * ```
 */
export class RequestTransmissionFailed extends Error {
  /** The underlying failures: the connection's end. */
  readonly reasons: readonly Failure[];

  /**
   * Makes the error.
   *
   * @param reasons Why: the connection's end.
   */
  constructor(reasons: readonly Failure[]) {
    super(
      `The connection was lost while the request body was being sent: ${describeReasons(reasons)}`,
    );
    this.name = "RequestTransmissionFailed";
    this.reasons = reasons;
  }
}
