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
export {
  DeferredList,
  type DeferredListOptions,
  type FireOnOneCallbackOptions,
  gatherResults,
  type GatherResultsOptions,
} from "./deferred_list.ts";
export { race } from "./race.ts";
export { DeferredLock } from "./deferred_lock.ts";
export { DeferredSemaphore } from "./deferred_semaphore.ts";
export { DeferredQueue } from "./deferred_queue.ts";
