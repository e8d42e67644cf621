// The worker's end of the link with the runner that started it (see
// workers.ts): the environment names the worker, standard error carries a
// control line when it is ready, and the end of standard input means the
// runner is gone, so the worker stops.
import type { DenoReactor } from "../../reactor/deno_reactor.ts";
import { Logger } from "../../reactor/log.ts";

/** The environment variable that makes a runner a worker: its number, from 1. */
export const WORKER_ENV = "TORSION_WORKER";

/** Starts a control line on a worker's standard error. */
export const CONTROL_MARK = "\x1etorsion-worker:";

/** A worker's link with its runner. */
export interface WorkerLink {
  /** The worker's number, from 1. */
  id: number;
  /** Tells the runner the service started, with what to print. */
  ready(text: string): void;
}

/** The link, if this process is a worker. */
export function _workerFromEnv(): WorkerLink | undefined {
  let value: string | undefined;
  try {
    value = Deno.env.get(WORKER_ENV);
  } catch {
    return undefined; // no permission to read the environment: not a worker
  }
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return {
    id: Number(value),
    ready(text: string): void {
      const line = `${CONTROL_MARK}${JSON.stringify({ ready: text })}\n`;
      const bytes = new TextEncoder().encode(line);
      for (let done = 0; done < bytes.length;) done += Deno.stderr.writeSync(bytes.subarray(done));
    },
  };
}

/** Stops the reactor when standard input ends: the runner has gone. */
export function _workerMain(reactor: DenoReactor, link: WorkerLink): void {
  const log = new Logger(`worker ${link.id}`);
  (async () => {
    const buffer = new Uint8Array(256);
    try {
      while ((await Deno.stdin.read(buffer)) !== null) {
        // nothing is sent this way; the end is the message
      }
    } catch {
      // closed
    }
    if (reactor.running) {
      log.warn("the runner has gone; stopping");
      try {
        reactor.stop();
      } catch {
        // already stopping
      }
    }
  })();
}
