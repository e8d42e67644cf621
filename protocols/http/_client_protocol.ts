/**
 * The protocol of one HTTP/1.1 client connection, as Twisted's
 * `HTTP11ClientProtocol`: it writes one request at a time, parses the
 * response, fires the request with the head and feeds the body to it, then
 * goes back to its pool or closes. Also the factory that makes it for one
 * connection attempt. Agents and the pool use them; users do not.
 *
 * @module
 */
import { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import { fail, succeed } from "../../defer/helpers.ts";
import type { DelayedCall, ReactorTime } from "../../defer/time.ts";
import type { Address, Connector } from "../../reactor/interfaces.ts";
import { ClientFactory } from "../factory.ts";
import { Protocol } from "../protocol.ts";
import type { BodyStream } from "./_body_stream.ts";
import { BodyWriter } from "./_body_writer.ts";
import { type BodyProducer, isBodyProducer } from "./body_producer.ts";
import { HTTPResponseParser, type ResponseHead } from "./_parser.ts";
import {
  DataLoss,
  PotentialDataLoss,
  RequestNotSent,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
} from "./errors.ts";
import { Headers } from "./headers.ts";
import { RequestGenerationFailed, RequestTransmissionFailed } from "./request_errors.ts";
import { bodyOf, type ClientRequest, Response } from "./response.ts";

/** A request ready to go on the wire: built once, sent once or twice. */
export interface OutgoingRequest {
  readonly method: string;
  readonly head: Uint8Array;
  readonly body: Uint8Array | BodyProducer | undefined;
  readonly persistent: boolean;
  readonly info: ClientRequest;
  /**
   * Set when the request has `Expect: 100-continue`: the body waits for the
   * server's `100 Continue`, or `timeout` seconds on `clock`.
   */
  readonly expectContinue?: {
    readonly timeout: number;
    readonly clock: Pick<ReactorTime, "callLater">;
  };
}

export type ClientState = "QUIESCENT" | "WAITING" | "RECEIVING" | "CLOSING" | "CONNECTION_LOST";

export interface ConnectionHooks {
  connected(protocol: HTTP11ClientProtocol): void;
  quiescent(protocol: HTTP11ClientProtocol): void;
  lost(protocol: HTTP11ClientProtocol): void;
}

/**
 * One HTTP/1.1 connection, one request at a time: Twisted's
 * `HTTP11ClientProtocol`. It writes a request, parses the response, fires
 * the request's Deferred with the response once the head has arrived, feeds
 * the body to the response, and then either goes back to its pool
 * (`QUIESCENT`) or closes.
 */
export class HTTP11ClientProtocol extends Protocol {
  /**
   * The parser keeps no view of a read chunk and the body gets copies, so
   * the transport may read every chunk into the same buffer: a body of many
   * small chunks then costs no buffer per read.
   */
  readonly borrowsData: boolean = true;
  readonly #hooks: ConnectionHooks;
  // The buffer of the chunk being parsed, to tell its views from copies.
  #fed: ArrayBufferLike | null = null;
  #state: ClientState = "QUIESCENT";
  #parser: HTTPResponseParser | null = null;
  #request: OutgoingRequest | null = null;
  #deferred: Deferred<Response> | null = null;
  #toFire: [Deferred<Response>, Response] | null = null;
  #response: Response | null = null;
  #body: BodyStream | null = null;
  #failure: Failure | null = null;
  #bodyComplete = false;
  #headPersistent = false;
  /** Whether the request body has been written whole (or there was none). */
  #bodySent = true;
  /** The body being written by its producer. */
  #writer: BodyWriter | null = null;
  /** Waiting for `100 Continue`: the timer, and the body to send then. */
  #continue: { timer: DelayedCall; body: Uint8Array | BodyProducer } | null = null;
  #lostWaiters: Deferred<void>[] = [];

  constructor(hooks: ConnectionHooks) {
    super();
    this.#hooks = hooks;
  }

  get state(): ClientState {
    return this.#state;
  }

  override connectionMade(): void {
    this.#hooks.connected(this);
  }

  request(request: OutgoingRequest): Deferred<Response> {
    if (this.#state !== "QUIESCENT" || !this.connected) return fail(new RequestNotSent());
    this.#state = "WAITING";
    this.#request = request;
    this.#failure = null;
    this.#bodyComplete = false;
    this.#parser = new HTTPResponseParser({
      interim: (code) => {
        if (code === 100) this.#sendWaitingBody();
      },
      head: (head) => this.#headReceived(head),
      // Large pieces are views of the read buffer, which the transport
      // reuses (borrowsData): the body's reader gets its own copy. Small
      // ones come gathered into a buffer of the parser's own.
      body: (data) => this.#body?.dataReceived(data.buffer === this.#fed ? data.slice() : data),
      done: (rest, trailers) => this.#responseDone(rest, trailers),
    }, { method: request.method });
    const d = new Deferred<Response>(() => this.#cancel(d));
    this.#deferred = d;
    const transport = this.transport!;
    const body = request.body;
    const empty = body === undefined || (body instanceof Uint8Array && body.length === 0);
    this.#bodySent = empty;
    if (empty) {
      transport.write(request.head);
    } else if (request.expectContinue !== undefined) {
      transport.write(request.head);
      const { timeout, clock } = request.expectContinue;
      // As curl: no 100 Continue in time, and the body goes anyway.
      const timer = clock.callLater(timeout, () => this.#sendWaitingBody());
      this.#continue = { timer, body };
    } else if (body instanceof Uint8Array) {
      transport.writeSequence([request.head, body]);
      this.#bodySent = true;
    } else {
      transport.write(request.head);
      this.#sendBody(body!);
    }
    return d;
  }

  #sendWaitingBody(): void {
    const waiting = this.#continue;
    if (waiting === null) return;
    this.#continue = null;
    if (waiting.timer.active()) waiting.timer.cancel();
    this.#sendBody(waiting.body);
  }

  #sendBody(body: Uint8Array | BodyProducer): void {
    if (body instanceof Uint8Array) {
      this.transport!.write(body);
      this.#bodySent = true;
      return;
    }
    const writer = new BodyWriter(this.transport!, body, (failure) => {
      if (this.#writer !== writer) return;
      this.#writer = null;
      if (failure === null) this.#bodySent = true;
      else this.#bodyFailed(failure);
    });
    this.#writer = writer;
    writer.start();
  }

  /** The body producer failed: the request on the wire is broken. */
  #bodyFailed(failure: Failure): void {
    const deferred = this.#deferred;
    if (deferred !== null) {
      // No response yet: the request fails with the producer's failure.
      this.#deferred = null;
      this.#parser?.stop();
      this.#parser = null;
      this.transport!.abortConnection();
      deferred.errback(new RequestGenerationFailed([failure]));
    } else if (this.#parser !== null) {
      // A response is arriving: its body fails with the producer's failure.
      this.#parser.stop();
      this.#parser = null;
      this.#failure = new Failure(new RequestGenerationFailed([failure]));
      this.transport!.abortConnection();
    }
  }

  /**
   * Stops sending the body: a final response came first. The connection
   * then cannot carry another request, as the server expects the rest of
   * the body on it.
   */
  #abandonBody(): void {
    const waiting = this.#continue;
    this.#continue = null;
    if (waiting !== null) {
      if (waiting.timer.active()) waiting.timer.cancel();
      if (isBodyProducer(waiting.body)) stopQuietly(waiting.body);
    }
    const writer = this.#writer;
    this.#writer = null;
    writer?.stop();
  }

  /** Closes an idle connection; fires once it is lost. */
  abort(): Deferred<void> {
    if (this.#state === "CONNECTION_LOST") return succeed(undefined);
    const d = new Deferred<void>();
    this.#lostWaiters.push(d);
    this.transport!.loseConnection();
    return d;
  }

  override dataReceived(data: Uint8Array): void {
    this.#fed = data.buffer;
    const parser = this.#parser;
    if (parser === null) {
      // Bytes nobody asked for, on an idle connection: it cannot be trusted.
      if (this.#state === "QUIESCENT") this.transport!.loseConnection();
      return;
    }
    try {
      parser.feed(data);
    } catch (error) {
      if (this.#parser === parser) {
        this.#parser = null;
        this.#failure = Failure.from(error);
        this.transport!.loseConnection();
      }
    }
    const toFire = this.#toFire;
    if (toFire !== null) {
      this.#toFire = null;
      toFire[0].callback(toFire[1]);
    }
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    const parser = this.#parser;
    const deferred = this.#deferred;
    const body = this.#body;
    const response = this.#response;
    const failure = this.#failure;
    const transmitting = this.#writer !== null;
    this.#abandonBody();
    this.#state = "CONNECTION_LOST";
    this.#parser = null;
    this.#deferred = null;
    this.#body = null;
    this.#response = null;
    this.#request = null;
    this.#hooks.lost(this);
    if (body !== null && response !== null) {
      if (this.#bodyComplete) {
        body.finish(new Failure(new ResponseDone()));
      } else if (failure !== null) {
        body.finish(new Failure(new ResponseFailed([failure], response)));
      } else {
        const end = parser?.connectionLost() ?? "failed";
        if (end === "potentialDataLoss") {
          body.finish(new Failure(new PotentialDataLoss()));
        } else {
          const loss = new DataLoss(body.received, response.length);
          body.finish(new Failure(new ResponseFailed([reason, new Failure(loss)], response)));
        }
      }
    } else if (deferred !== null) {
      const end = parser?.connectionLost() ?? "noResponse";
      if (failure !== null) {
        deferred.errback(new ResponseFailed([failure]));
      } else if (end === "noResponse" && transmitting) {
        deferred.errback(new RequestTransmissionFailed([reason]));
      } else if (end === "noResponse") {
        deferred.errback(new ResponseNeverReceived([reason]));
      } else {
        deferred.errback(
          new ResponseFailed(
            [reason],
            undefined,
            `The connection closed before the response headers were complete: ${reason.getErrorMessage()}`,
          ),
        );
      }
    }
    const waiters = this.#lostWaiters;
    this.#lostWaiters = [];
    for (const waiter of waiters) waiter.callback(undefined);
  }

  #cancel(d: Deferred<Response>): void {
    if (this.#deferred !== d) return;
    this.#deferred = null;
    this.#abandonBody();
    this.#parser?.stop();
    this.#parser = null;
    this.transport!.abortConnection();
  }

  #headReceived(head: ResponseHead): void {
    const request = this.#request!;
    const headers = new Headers();
    for (const [name, value] of head.headers) headers.addRawHeader(name, value);
    const response = new Response({
      version: head.version,
      code: head.code,
      phrase: head.phrase,
      headers,
      length: head.length,
      request: request.info,
    });
    const body = bodyOf(response);
    const transport = this.transport!;
    // A final response before the body is out: one waiting for 100 Continue
    // is not sent; one being sent stops on an error status, as curl does,
    // and goes on otherwise (a server may answer while it reads).
    if (this.#continue !== null || (this.#writer !== null && head.code >= 300)) {
      this.#abandonBody();
    }
    // Flow control reaches the connection only while this body is arriving.
    const current = (): boolean =>
      this.#body === body && this.#state === "RECEIVING" && this.#parser !== null;
    body.attach({
      pauseProducing: () => {
        if (current()) transport.pauseProducing();
      },
      resumeProducing: () => {
        if (current()) transport.resumeProducing();
      },
      stopProducing: () => {
        if (current()) this.#giveUp();
      },
      abortConnection: () => {
        if (current()) this.#giveUp();
      },
    });
    this.#state = "RECEIVING";
    this.#headPersistent = head.persistent;
    this.#response = response;
    this.#body = body;
    // Nobody reads the body yet: hold the connection until deliverBody().
    if (head.bodyMode !== "none") transport.pauseProducing();
    this.#toFire = [this.#deferred!, response];
    this.#deferred = null;
  }

  #giveUp(): void {
    this.#parser?.stop();
    this.#parser = null;
    this.transport!.abortConnection();
  }

  #responseDone(rest: Uint8Array, trailers: ReadonlyArray<readonly [string, string]>): void {
    const response = this.#response!;
    for (const [name, value] of trailers) response.trailers.addRawHeader(name, value);
    const reusable = this.#request!.persistent && this.#headPersistent && rest.length === 0 &&
      this.#bodySent;
    this.#parser = null;
    if (!reusable) {
      // The response is whole: the rest of an unfinished body is not wanted.
      this.#abandonBody();
      // The body ends with the connection, so nothing stays open after it.
      this.#state = "CLOSING";
      this.#bodyComplete = true;
      this.transport!.loseConnection();
      return;
    }
    const body = this.#body!;
    this.#state = "QUIESCENT";
    this.#body = null;
    this.#response = null;
    this.#request = null;
    this.transport!.resumeProducing();
    // Back to the pool first, so a request made when the body ends reuses it.
    this.#hooks.quiescent(this);
    body.finish(new Failure(new ResponseDone()));
  }
}

function stopQuietly(producer: BodyProducer): void {
  try {
    producer.stopProducing();
  } catch (error) {
    console.error("Unhandled error in a request body producer's stopProducing():", error);
  }
}

/** Makes the protocol of one connection attempt and reports how it went. */
export class HTTP11ClientFactory extends ClientFactory<HTTP11ClientProtocol> {
  readonly #hooks: ConnectionHooks;
  readonly #deferred: Deferred<HTTP11ClientProtocol>;

  constructor(hooks: ConnectionHooks, deferred: Deferred<HTTP11ClientProtocol>) {
    super();
    this.#hooks = hooks;
    this.#deferred = deferred;
  }

  override buildProtocol(_addr: Address): HTTP11ClientProtocol {
    const protocol = new HTTP11ClientProtocol(this.#hooks);
    protocol.factory = this;
    return protocol;
  }

  override clientConnectionFailed(_connector: Connector, reason: Failure): void {
    if (!this.#deferred.called) this.#deferred.errback(reason);
  }
}
