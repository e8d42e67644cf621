/**
 * The body of one response on its way from its connection to the protocol
 * the application gives `Response.deliverBody`: buffered until then, handed
 * over in order, ended once.
 *
 * @module
 */
import { Failure } from "../../defer/failure.ts";
import { Logger } from "../../reactor/log.ts";
import type { ResponseBodyProducer, ResponseBodyProtocol } from "./response.ts";

const logger = new Logger("http");

/** The producer of a body that has no connection (any more): does nothing. */
export const NO_PRODUCER: ResponseBodyProducer = {
  pauseProducing() {},
  resumeProducing() {},
  stopProducing() {},
  abortConnection() {},
};

function logBodyError(where: string, error: unknown): void {
  logger.error(`Unhandled error in a response body protocol's ${where}()`, Failure.from(error));
}

/**
 * The body of one response on its way to the application, as the state
 * machine of Twisted's `Response`: bytes that arrive before `deliverBody`
 * are buffered (and the connection paused), then handed over in order.
 */
export class BodyStream {
  received = 0;
  #producer: ResponseBodyProducer = NO_PRODUCER;
  #protocol: ResponseBodyProtocol | undefined;
  #buffer: Uint8Array[] = [];
  #end: Failure | undefined;
  #delivered = false;
  #finished = false;

  attach(producer: ResponseBodyProducer): void {
    this.#producer = producer;
  }

  dataReceived(data: Uint8Array): void {
    if (this.#finished) return;
    this.received += data.length;
    const protocol = this.#protocol;
    if (protocol === undefined) {
      this.#buffer.push(data);
      return;
    }
    try {
      protocol.dataReceived(data);
    } catch (error) {
      logBodyError("dataReceived", error);
    }
  }

  finish(reason: Failure): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#producer = NO_PRODUCER;
    const protocol = this.#protocol;
    if (protocol === undefined) {
      this.#end = reason;
      return;
    }
    this.#protocol = undefined;
    try {
      protocol.connectionLost(reason);
    } catch (error) {
      logBodyError("connectionLost", error);
    }
  }

  deliver(protocol: ResponseBodyProtocol): void {
    if (this.#delivered) {
      throw new Error("The body of this response has already been delivered to a protocol");
    }
    this.#delivered = true;
    const producer = this.#producer;
    producer.resumeProducing();
    protocol.makeConnection(producer);
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const data of buffered) {
      try {
        protocol.dataReceived(data);
      } catch (error) {
        logBodyError("dataReceived", error);
      }
    }
    const end = this.#end;
    if (end === undefined) {
      this.#protocol = protocol;
      return;
    }
    this.#end = undefined;
    try {
      protocol.connectionLost(end);
    } catch (error) {
      logBodyError("connectionLost", error);
    }
  }
}
