/**
 * Deferred and its toolkit: Twisted's callback chains for any JavaScript
 * runtime. Nothing here uses a `Deno` API.
 *
 * @module
 */
export { Failure, type FailureType } from "./failure.ts";
export { type AddCallbacksOptions, type CallbackResult, Deferred } from "./deferred.ts";
export {
  AlreadyCalledError,
  CancelledError,
  FailureGroup,
  FirstError,
  NotACoroutineError,
  QueueOverflow,
  QueueUnderflow,
  TimeoutError,
} from "./errors.ts";
export { execute, fail, maybeDeferred, succeed, withSignal } from "./helpers.ts";
export { ensureDeferred, inlineCallbacks } from "./inline_callbacks.ts";
export {
  getDebugging,
  setDebugging,
  setUnhandledErrorHandler,
  type UnhandledErrorHandler,
} from "./debug.ts";
export type { DelayedCall, ReactorTime } from "./time.ts";
