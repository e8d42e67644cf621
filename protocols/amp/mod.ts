/**
 * AMP, Twisted's Asynchronous Messaging Protocol: request/response commands
 * over one connection, with typed arguments, error codes and pipelining,
 * byte for byte as Twisted speaks it.
 *
 * Define commands with {@linkcode command} and argument types
 * ({@linkcode Integer}, {@linkcode Unicode}, {@linkcode ListOf},
 * {@linkcode AmpList} ...), answer them with {@linkcode AMP.respond}, call
 * them with {@linkcode AMP.callRemote}. {@linkcode BoxParser} and
 * {@linkcode encodeBox} are the wire format alone.
 *
 * @example
 * ```ts
 * import { AMP, command, Integer } from "@torsion/torsion/protocols";
 *
 * const Sum = command("Sum", { a: Integer, b: Integer }, { total: Integer });
 * class SumServer extends AMP {
 *   constructor() {
 *     super();
 *     this.respond(Sum, ({ a, b }) => ({ total: a + b }));
 *   }
 * }
 * // reactor.listenTCP(1234, Factory.forProtocol(SumServer));
 * ```
 *
 * @module
 */
export {
  AmpError,
  BadLocalReturn,
  InvalidSignature,
  MalformedAmpBox,
  NoEmptyBoxes,
  RemoteAmpError,
  TooLong,
  type TooLongOptions,
  UnhandledCommand,
  UnknownRemoteError,
} from "./errors.ts";
export {
  type AmpBox,
  ANSWER,
  ASK,
  BoxParser,
  type BoxParserOptions,
  COMMAND,
  DEFAULT_MAX_BOX_LENGTH,
  encodeBox,
  ERROR,
  ERROR_CODE,
  ERROR_DESCRIPTION,
  MAX_KEY_LENGTH,
  MAX_VALUE_LENGTH,
  parseBoxes,
  UNHANDLED_ERROR_CODE,
  UNKNOWN_ERROR_CODE,
} from "./box.ts";
export {
  type ArgumentType,
  type DecodedValue,
  type EncodedValue,
  type Flatten,
  type Inputs,
  type IsOptional,
  optional,
  type OptionalArgument,
  type Schema,
  type Values,
} from "./argument.ts";
export { BigInteger, Boolean, Bytes, Decimal, Float, Integer, Unicode } from "./basic_arguments.ts";
export { AmpDateTime, type AmpDateTimeFields, DateTime } from "./date_time.ts";
export { AmpList, ListOf } from "./list_arguments.ts";
export {
  type ArgumentsOf,
  type Command,
  command,
  type CommandOptions,
  type ErrorClass,
  type ErrorMap,
  type ResponseOf,
} from "./command.ts";
export { AMP, type CallResult, type Responder, type ResponderResult } from "./amp.ts";
