// What the HTTP client tests share: a watchdog, Deno.serve servers for
// well-behaved peers, raw TCP servers for misbehaving ones (each on
// 127.0.0.1:0, closed after its test), small socket helpers, and a way to
// connect an agent's pending attempt on a memory reactor to a string transport.
import type { ProtocolLike } from "../../../protocols/mod.ts";
import { type MemoryReactorClock, StringTransportWithDisconnection } from "../../../testing/mod.ts";

export { freePort } from "../../_helpers.ts";

const encoder = new TextEncoder();

/** Runs `fn`, failing the test if it has not finished within `seconds`. */
export function bounded(fn: () => Promise<void>, seconds = 10): () => Promise<void> {
  return async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`The test did not finish within ${seconds} seconds`)),
        seconds * 1000,
      );
    });
    try {
      await Promise.race([fn(), watchdog]);
    } finally {
      clearTimeout(timer);
    }
  };
}

export type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Serves `handler` with Deno.serve for the length of `fn`. */
export async function withServer(
  handler: Handler,
  fn: (base: string, ports: Set<number>) => Promise<void>,
): Promise<void> {
  const ports = new Set<number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request, info) => {
    ports.add(info.remoteAddr.port);
    return handler(request, info);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, ports);
  } finally {
    await server.shutdown();
  }
}

/** A raw TCP server: each connection is handed to `handle`, in order of arrival. */
export class RawServer {
  readonly listener: Deno.TcpListener;
  readonly port: number;
  readonly conns: Deno.TcpConn[] = [];
  readonly #handlers: Promise<void>[] = [];
  readonly #accepting: Promise<void>;

  constructor(handle: (conn: Deno.TcpConn, index: number) => Promise<void>) {
    const listener = this.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = listener.addr.port;
    this.#accepting = (async () => {
      for (;;) {
        let conn: Deno.TcpConn;
        try {
          conn = await listener.accept();
        } catch {
          return;
        }
        const index = this.conns.length;
        this.conns.push(conn);
        this.#handlers.push(
          handle(conn, index).catch((error) => {
            // Closed by close() below, or reset by the client: both are fine.
            const closed = error instanceof Deno.errors.BadResource ||
              error instanceof Deno.errors.Interrupted ||
              error instanceof Deno.errors.ConnectionReset;
            if (!closed) throw error;
          }).finally(() => close(conn)),
        );
      }
    })();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.listener.close();
    await this.#accepting;
    for (const conn of this.conns) close(conn);
    await Promise.all(this.#handlers);
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

export async function withRawServer(
  handle: (conn: Deno.TcpConn, index: number) => Promise<void>,
  fn: (server: RawServer) => Promise<void>,
): Promise<void> {
  const server = new RawServer(handle);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** Reads one request head (and a Content-Length body) from `conn`; `null` at EOF. */
export async function readRequest(conn: Deno.Conn): Promise<string | null> {
  let data = "";
  const buffer = new Uint8Array(4096);
  for (;;) {
    const end = data.indexOf("\r\n\r\n");
    if (end !== -1) {
      const length = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, end));
      if (length === null || data.length >= end + 4 + Number(length[1])) return data;
    }
    const n = await conn.read(buffer);
    if (n === null) return data === "" ? null : data;
    data += String.fromCharCode(...buffer.subarray(0, n));
  }
}

/** Reads until the client closes its end; true once it has. */
export async function readUntilEOF(conn: Deno.Conn): Promise<true> {
  const buffer = new Uint8Array(4096);
  try {
    while ((await conn.read(buffer)) !== null) {
      // Discard.
    }
  } catch {
    // Reset: closed all the same.
  }
  return true;
}

export async function write(conn: Deno.Conn, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** The error a promise rejects with. */
export async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("Expected a failure");
}

/** Connects the factory of the reactor's last connection attempt to a string transport. */
export function connectLast(
  memory: MemoryReactorClock,
  record: "tcpClients" | "sslClients" = "tcpClients",
): { transport: StringTransportWithDisconnection; protocol: ProtocolLike } {
  const factory = memory[record].at(-1)![2];
  const protocol = factory.buildProtocol({ type: "TCP", host: "127.0.0.1", port: 80 })!;
  const transport = new StringTransportWithDisconnection();
  transport.protocol = protocol;
  protocol.makeConnection(transport);
  return { transport, protocol };
}
