/**
 * One small logging module for torsion and the programs built on it: each
 * event has a time, a level, a namespace and a message, and optionally an
 * error whose traceback is printed after it. Events below the minimum level
 * are dropped; the rest go to one sink, standard error by default, as
 * lines like:
 *
 * ```text
 * 2026-11-22T11:30:00.123Z [info] chat: alice joined
 * ```
 *
 * Twisted's `twisted.logger` has observers, formatting templates and
 * structured events; this keeps the part a server needs (levels, a
 * namespace per component, a replaceable destination) and leaves structure
 * to the sink, which gets the event as well as the formatted line.
 *
 * @module
 */

/** How serious an event is, from least to most. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** One logged event, as a sink receives it. */
export interface LogEvent {
  /** When it was logged. */
  readonly time: Date;
  /** How serious it is. */
  readonly level: LogLevel;
  /** Which component logged it, such as `"chat"` or `"tcp"`. */
  readonly namespace: string;
  /** What happened, in one line. */
  readonly message: string;
  /** The error or Failure that came with it, if any. */
  readonly error?: unknown;
}

/** Where events go: the formatted text (one or more lines) and the event itself. */
export type LogSink = (text: string, event: LogEvent) => void;

function defaultSink(text: string): void {
  console.error(text);
}

let minimum: number = RANK.info;
let sink: LogSink = defaultSink;

function checkLevel(level: LogLevel): void {
  if (!Object.hasOwn(RANK, level)) {
    throw new TypeError(`Unknown log level: ${JSON.stringify(level)}`);
  }
}

/**
 * Sets the least serious level that is logged (default `"info"`).
 *
 * @param level `"debug"`, `"info"`, `"warn"` or `"error"`.
 * @returns The level that was set before.
 * @throws {TypeError} For an unknown level.
 *
 * @example Logging everything while debugging
 * ```ts
 * import { setLogLevel } from "@torsion/torsion/reactor";
 *
 * const before = setLogLevel("debug");
 * setLogLevel(before);
 * ```
 */
export function setLogLevel(level: LogLevel): LogLevel {
  checkLevel(level);
  const before = getLogLevel();
  minimum = RANK[level];
  return before;
}

/**
 * The least serious level that is logged now.
 *
 * @returns The level.
 *
 * @example
 * ```ts
 * import { getLogLevel } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getLogLevel(), "info");
 * ```
 */
export function getLogLevel(): LogLevel {
  return (Object.keys(RANK) as LogLevel[]).find((level) => RANK[level] === minimum)!;
}

/**
 * Sends every logged event to `newSink` instead; `undefined` goes back to
 * standard error. Tests use this to capture what a component logs.
 *
 * @param newSink The new destination, or `undefined` for the default.
 * @returns The sink that was in place before, to restore later.
 *
 * @example Capturing log lines in a test
 * ```ts
 * import { Logger, setLogSink } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const before = setLogSink((text) => lines.push(text));
 * try {
 *   new Logger("demo").warn("disk almost full");
 * } finally {
 *   setLogSink(before);
 * }
 * assert.match(lines[0], /\[warn\] demo: disk almost full$/);
 * ```
 */
export function setLogSink(newSink: LogSink | undefined): LogSink {
  if (newSink !== undefined && typeof newSink !== "function") {
    throw new TypeError("A log sink must be a function");
  }
  const before = sink;
  sink = newSink ?? defaultSink;
  return before;
}

/** The traceback of a Failure, the stack of an Error, or the value as text. */
function describeError(error: unknown): string {
  const traceback = (error as { getTraceback?: unknown } | null)?.getTraceback;
  if (typeof traceback === "function") return String(traceback.call(error));
  if (error instanceof Error) {
    let text = error.stack ?? `${error.name}: ${error.message}`;
    if (error.cause !== undefined) text += `\nCaused by: ${describeError(error.cause)}`;
    return text;
  }
  try {
    return typeof error === "string" ? error : Deno.inspect(error);
  } catch {
    return String(error);
  }
}

/**
 * Formats an event as the default sink prints it: the ISO time, the level
 * in brackets, the namespace and the message, then the error's traceback
 * indented on the lines after.
 *
 * @param event The event.
 * @returns The text, without a final newline.
 *
 * @example
 * ```ts
 * import { formatLogEvent } from "@torsion/torsion/reactor";
 * import assert from "node:assert/strict";
 *
 * const text = formatLogEvent({
 *   time: new Date(0),
 *   level: "info",
 *   namespace: "chat",
 *   message: "alice joined",
 * });
 * assert.equal(text, "1970-01-01T00:00:00.000Z [info] chat: alice joined");
 * ```
 */
export function formatLogEvent(event: LogEvent): string {
  let text = `${event.time.toISOString()} [${event.level}] ${event.namespace}: ${event.message}`;
  if (event.error !== undefined) {
    text += `\n${describeError(event.error).replace(/^/gm, "    ")}`;
  }
  return text;
}

/**
 * Logs on behalf of one component: every event carries its namespace.
 * Logging never throws; a sink that throws is reported on standard error
 * and the event is printed there instead.
 *
 * @example A component's logger
 * ```ts
 * import { Logger } from "@torsion/torsion/reactor";
 *
 * const log = new Logger("billing");
 * log.debug("not shown at the default level");
 * log.info("invoice 42 sent");
 * log.error("charge failed", new Error("card declined"));
 * ```
 */
export class Logger {
  /** The component's name, printed before each message. */
  readonly namespace: string;

  /**
   * Makes a logger for a component.
   *
   * @param namespace The component's name.
   * @throws {TypeError} If `namespace` is not a string.
   */
  constructor(namespace: string) {
    if (typeof namespace !== "string") throw new TypeError("A logger's namespace must be a string");
    this.namespace = namespace;
  }

  /**
   * Logs `message` at `level`, with an optional error or Failure.
   *
   * @param level How serious it is.
   * @param message What happened.
   * @param error The error that came with it.
   * @throws {TypeError} For an unknown level.
   */
  log(level: LogLevel, message: string, error?: unknown): void {
    checkLevel(level);
    if (RANK[level] < minimum) return;
    const event: LogEvent = error === undefined
      ? { time: new Date(), level, namespace: this.namespace, message }
      : { time: new Date(), level, namespace: this.namespace, message, error };
    const text = formatLogEvent(event);
    try {
      sink(text, event);
    } catch (sinkError) {
      console.error(text);
      console.error(`The log sink failed: ${describeError(sinkError)}`);
    }
  }

  /**
   * Logs detail useful only while debugging.
   *
   * @param message What happened.
   * @param error An error that came with it.
   */
  debug(message: string, error?: unknown): void {
    this.log("debug", message, error);
  }

  /**
   * Logs normal operation: a port opened, a user joined.
   *
   * @param message What happened.
   * @param error An error that came with it.
   */
  info(message: string, error?: unknown): void {
    this.log("info", message, error);
  }

  /**
   * Logs something unusual that the program handled.
   *
   * @param message What happened.
   * @param error An error that came with it.
   */
  warn(message: string, error?: unknown): void {
    this.log("warn", message, error);
  }

  /**
   * Logs a failure: an exception in a callback, a connection that could not
   * be made.
   *
   * @param message What failed.
   * @param error The error or Failure.
   */
  error(message: string, error?: unknown): void {
    this.log("error", message, error);
  }
}

/** The logger torsion itself uses (namespace `"torsion"`). */
export const log: Logger = new Logger("torsion");
